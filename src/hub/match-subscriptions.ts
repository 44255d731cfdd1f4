import { SUBSCRIPTIONS_PATH } from './paths.js';
import { type MatchType, matchSyntax } from './topic-selector.js';
import type { UpdateInit } from './update.js';
import { expandUriTemplate } from './uri-template/index.js';

/**
 * Subscriptions made with draft-08 matchers, as draft-08 §"Active Subscriptions" shows them: events
 * on `/.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}`, private, of SSE type
 * `mercure`, with a plain JSON document (no JSON-LD); the API's collections are
 * `{"id", "type": "subscriptions", "subscriptions"}`. Draft-07 `topic` subscriptions keep their own
 * shape (subscriptions.ts): each generation's events and API show the subscriptions made with its
 * selectors, so a client reads one shape only.
 */

/** The SSE event type of the hub's own events; publishers may not use it. */
export const HUB_EVENT_TYPE = 'mercure';

/** `/.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}`, each variable encoded once. */
export function matchSubscriptionTopic(matchType: MatchType, match: string, subscriber: string): string {
  return expandUriTemplate(`${SUBSCRIPTIONS_PATH}/${matchType}/{match}/{subscriber}`, { match, subscriber });
}

/** One draft-08 subscription document. */
export interface MatchSubscriptionDocument {
  id: string;
  type: 'subscription';
  match_type: MatchType;
  match: string;
  subscriber: string;
  active: boolean;
  /** The payload the subscriber's token gives this subscription. */
  payload?: unknown;
}

export function matchSubscriptionDocument(
  matchType: MatchType,
  match: string,
  subscriber: string,
  active: boolean,
  payload?: unknown,
): MatchSubscriptionDocument {
  const document: MatchSubscriptionDocument = {
    id: matchSubscriptionTopic(matchType, match, subscriber),
    type: 'subscription',
    match_type: matchType,
    match,
    subscriber,
    active,
  };
  if (payload !== undefined) document.payload = payload;
  return document;
}

/** The private update announcing a subscription's start or end: topic = the document's `id`. */
export function matchSubscriptionUpdate(document: MatchSubscriptionDocument): UpdateInit {
  return {
    topics: [document.id],
    data: JSON.stringify(document),
    type: HUB_EVENT_TYPE,
    private: true,
  };
}

/** What a draft-08 subscriptions API path asks for. */
export type MatchSubscriptionsQuery =
  | { kind: 'all' }
  | { kind: 'matcher'; matchType: MatchType; match: string }
  | { kind: 'one'; matchType: MatchType; match: string; subscriber: string };

/**
 * Reads a draft-08 subscriptions API path (what follows `SUBSCRIPTIONS_PATH`); undefined when it is
 * none (an unknown matcher type included): a 404.
 */
export function parseMatchSubscriptionsPath(rest: string): MatchSubscriptionsQuery | undefined {
  if (rest === '' || rest === '/') return { kind: 'all' };
  if (!rest.startsWith('/')) return undefined;
  const [name = '', ...encoded] = rest.slice(1).split('/');
  const matchType = matchSyntax(name)?.matchType;
  if (matchType === undefined) return undefined;
  let decoded: string[];
  try {
    decoded = encoded.map((part) => decodeURIComponent(part));
  } catch {
    return undefined;
  }
  const [match, subscriber] = decoded;
  if (decoded.length === 1 && match) return { kind: 'matcher', matchType, match };
  if (decoded.length === 2 && match && subscriber) return { kind: 'one', matchType, match, subscriber };
  return undefined;
}

/** True when `document` is one `query` asks for. */
export function matchesQuery(document: MatchSubscriptionDocument, query: MatchSubscriptionsQuery): boolean {
  if (query.kind === 'all') return true;
  if (document.match_type !== query.matchType || document.match !== query.match) return false;
  return query.kind === 'matcher' || document.subscriber === query.subscriber;
}

/**
 * The API's answer body: the document itself for one subscription (undefined when there is none:
 * a 404), else the collection. `path` is the request's path, the collection's `id`. The cursor goes
 * in the `Link` header, not here.
 */
export function matchSubscriptionsResponse(
  path: string,
  query: MatchSubscriptionsQuery,
  documents: readonly MatchSubscriptionDocument[],
):
  | MatchSubscriptionDocument
  | { id: string; type: 'subscriptions'; subscriptions: MatchSubscriptionDocument[] }
  | undefined {
  const selected = documents.filter((document) => matchesQuery(document, query));
  if (query.kind === 'one') return selected[0];
  return { id: path, type: 'subscriptions', subscriptions: selected };
}
