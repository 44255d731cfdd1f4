import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Authorizer, missingToken } from './authorization.js';
import { HubError } from './errors.js';
import { HUB_PATH, SUBSCRIPTIONS_PATH } from './paths.js';
import type { HubStore } from './stores/store.js';
import type { Subscriber } from './subscriber.js';
import {
  JSON_LD_CONTEXT,
  type SubscriptionDocument,
  subscriptionDocument,
  subscriptionTopic,
} from './subscriptions.js';
import { anyTopicMatches } from './topic-selector.js';

/** What the subscriptions API reads: the token, the store, and this node's subscribers. */
export interface SubscriptionsApiParts {
  readonly authorizer: Authorizer;
  readonly store: HubStore;
  /** This node's subscribers (read when the store shares no presence between nodes). */
  readonly subscribers: { values(): Iterable<Subscriber> };
}

/** What a subscriptions API path asks for: all, those of one selector, or one subscription. */
type SubscriptionsQuery =
  | { kind: 'all' }
  | { kind: 'topic'; topic: string }
  | { kind: 'one'; topic: string; subscriber: string };

/** Reads a subscriptions API path (after SUBSCRIPTIONS_PATH); undefined when it is not one. */
function parseSubscriptionsPath(rest: string): SubscriptionsQuery | undefined {
  if (rest === '' || rest === '/') return { kind: 'all' };
  const parts = rest.slice(1).split('/');
  try {
    const decoded = parts.map((part) => decodeURIComponent(part));
    if (decoded.length === 1 && decoded[0]) return { kind: 'topic', topic: decoded[0] };
    if (decoded.length === 2 && decoded[0] && decoded[1]) {
      return { kind: 'one', topic: decoded[0], subscriber: decoded[1] };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** The JSON-LD answer of the subscriptions API. */
function subscriptionsResponse(
  path: string,
  query: SubscriptionsQuery,
  documents: SubscriptionDocument[],
  lastEventId: string,
): Record<string, unknown> | undefined {
  if (query.kind === 'one') {
    const document = documents[0];
    if (document === undefined) return undefined;
    return { '@context': JSON_LD_CONTEXT, ...document, lastEventID: lastEventId };
  }
  return {
    '@context': JSON_LD_CONTEXT,
    id: path,
    type: 'Subscriptions',
    lastEventID: lastEventId,
    subscriptions: documents,
  };
}

/** Every active subscription: of all nodes when the store shares them, else of this one. */
async function activeSubscriptions(parts: SubscriptionsApiParts): Promise<SubscriptionDocument[]> {
  if (parts.store.presence) return parts.store.presence.list();
  const documents: SubscriptionDocument[] = [];
  for (const subscriber of parts.subscribers.values()) {
    if (subscriber.stream === undefined) continue;
    for (const { selector } of subscriber.selectors)
      documents.push(subscriptionDocument(selector, subscriber, true));
  }
  return documents;
}

/**
 * Answers `GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]`: the active
 * subscriptions as JSON-LD, to a token whose subscribe grants match the path.
 */
export async function serveSubscriptionsApi(
  parts: SubscriptionsApiParts,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  if (req.method !== 'GET')
    throw new HubError('method-not-allowed', 'The subscriptions API answers GET only.', { allow: 'GET' });
  const wanted = parseSubscriptionsPath(path.slice(SUBSCRIPTIONS_PATH.length));
  if (wanted === undefined) throw new HubError('not-found', 'Not a subscriptions API path.');
  const auth = await parts.authorizer.authorize(req, query, 'subscriber', 'Reading subscriptions');
  if (auth === undefined) throw missingToken('The subscriptions API');
  const allowed = auth.grants.subscribe;
  if (allowed === undefined || !anyTopicMatches(allowed, [path])) {
    throw new HubError('forbidden', `The token's "mercure.subscribe" claim does not match ${path}.`);
  }
  const documents = (await activeSubscriptions(parts)).filter(
    (document) =>
      wanted.kind === 'all' ||
      (document.topic === wanted.topic &&
        (wanted.kind === 'topic' || document.subscriber === wanted.subscriber)),
  );
  const lastEventId = parts.store.lastEventId() ?? 'earliest';
  const body = subscriptionsResponse(path, wanted, documents, lastEventId);
  if (body === undefined) {
    throw new HubError(
      'not-found',
      `No active subscription at ${wanted.kind === 'one' ? subscriptionTopic(wanted.topic, wanted.subscriber) : path}.`,
    );
  }
  res.writeHead(200, {
    'content-type': 'application/ld+json',
    'cache-control': 'must-revalidate',
    etag: `"${lastEventId}"`,
    link: `<${HUB_PATH}>; rel="mercure"`,
  });
  res.end(JSON.stringify(body));
}
