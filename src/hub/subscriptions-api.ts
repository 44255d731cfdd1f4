import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorizer } from './authorization.js';
import { insufficientScope } from './bearer-challenge.js';
import { HubError } from './errors.js';
import type { HubRequest } from './hub-request.js';
import { matchSubscriptionsResponse, parseMatchSubscriptionsPath } from './match-subscriptions.js';
import { HUB_PATH, SUBSCRIPTIONS_PATH } from './paths.js';
import type { HubStore } from './stores/store.js';
import type { Subscriber } from './subscriber.js';
import {
  isMatchDocument,
  JSON_LD_CONTEXT,
  type SubscriptionDocument,
  subscriptionDocument,
  subscriptionTopic,
  type TopicSubscriptionDocument,
} from './subscriptions.js';
import { discoveryLink } from './tokens.js';
import { anyTopicMatches } from './topic-selector.js';

/** What the subscriptions API reads: the token, the store, and this node's subscribers. */
export interface SubscriptionsApiParts {
  readonly authorizer: Authorizer;
  readonly store: HubStore;
  /** This node's subscribers (read when the store shares no presence between nodes). */
  readonly subscribers: { values(): Iterable<Subscriber> };
}

/** What a draft-07 subscriptions API path asks for: all, those of one selector, or one subscription. */
type SubscriptionsQuery =
  | { kind: 'all' }
  | { kind: 'topic'; topic: string }
  | { kind: 'one'; topic: string; subscriber: string };

/** Reads a draft-07 subscriptions API path (after SUBSCRIPTIONS_PATH); undefined when it is not one. */
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

/** Every active subscription: of all nodes when the store shares them, else of this one. */
async function activeSubscriptions(parts: SubscriptionsApiParts): Promise<SubscriptionDocument[]> {
  if (parts.store.presence) return parts.store.presence.list();
  const documents: SubscriptionDocument[] = [];
  for (const subscriber of parts.subscribers.values()) {
    if (subscriber.stream === undefined) continue;
    for (const selector of subscriber.selectors)
      documents.push(subscriptionDocument(selector, subscriber, true));
  }
  return documents;
}

/** An answer of the API: its body, and what its headers add. */
interface ApiAnswer {
  readonly body: unknown;
  readonly contentType: string;
  readonly link: string;
}

function notFound(path: string): HubError {
  return new HubError('not-found', `No active subscription at ${path}.`);
}

/** Draft-07's answer: JSON-LD, the draft-07 subscriptions, the cursor in the body too. */
function topicAnswer(
  path: string,
  documents: readonly SubscriptionDocument[],
  lastEventId: string,
): ApiAnswer {
  const wanted = parseSubscriptionsPath(path.slice(SUBSCRIPTIONS_PATH.length));
  if (wanted === undefined) throw new HubError('not-found', 'Not a subscriptions API path.');
  const selected = documents.filter(
    (document): document is TopicSubscriptionDocument =>
      !isMatchDocument(document) &&
      (wanted.kind === 'all' ||
        (document.topic === wanted.topic &&
          (wanted.kind === 'topic' || document.subscriber === wanted.subscriber))),
  );
  const link = `<${HUB_PATH}>; rel="mercure"`;
  const contentType = 'application/ld+json';
  if (wanted.kind === 'one') {
    const [document] = selected;
    if (document === undefined) throw notFound(subscriptionTopic(wanted.topic, wanted.subscriber));
    return {
      body: { '@context': JSON_LD_CONTEXT, ...document, lastEventID: lastEventId },
      contentType,
      link,
    };
  }
  return {
    body: {
      '@context': JSON_LD_CONTEXT,
      id: path,
      type: 'Subscriptions',
      lastEventID: lastEventId,
      subscriptions: selected,
    },
    contentType,
    link,
  };
}

/** Draft-08's answer: plain JSON, the draft-08 subscriptions, the cursor on the `Link` header. */
function matchAnswer(
  request: HubRequest,
  documents: readonly SubscriptionDocument[],
  lastEventId: string,
): ApiAnswer {
  const { path } = request;
  const wanted = parseMatchSubscriptionsPath(path.slice(SUBSCRIPTIONS_PATH.length));
  if (wanted === undefined) throw new HubError('not-found', 'Not a subscriptions API path.');
  const body = matchSubscriptionsResponse(path, wanted, documents.filter(isMatchDocument));
  if (body === undefined) throw notFound(path);
  return {
    body,
    contentType: 'application/json',
    link: discoveryLink(request.address.hubUrl, {
      lastEventId,
      type: 'mercure',
      contentType: 'application/json',
    }),
  };
}

/**
 * Answers `GET /.well-known/mercure/subscriptions[/…]` to a token whose subscribe grants match the
 * path, in the generation of that token: a draft-07 token gets draft-07's paths
 * (`/{topic}/{subscriber}`) and JSON-LD documents of `topic` subscriptions, an access token
 * draft-08's (`/{match_type}/{match}/{subscriber}`) and plain JSON of `match…` subscriptions.
 */
export async function serveSubscriptionsApi(
  parts: SubscriptionsApiParts,
  req: IncomingMessage,
  res: ServerResponse,
  request: HubRequest,
): Promise<void> {
  if (req.method !== 'GET')
    throw new HubError('method-not-allowed', 'The subscriptions API answers GET only.', { allow: 'GET' });
  const { authorizer } = parts;
  const auth = await authorizer.authorize(req, request, 'subscriber', 'Reading subscriptions');
  if (auth === undefined) throw authorizer.missingToken('The subscriptions API');
  const { path } = request;
  const allowed = auth.grants.subscribe;
  if (allowed === undefined || !anyTopicMatches(allowed, [path])) {
    throw insufficientScope(
      auth.generation === 'draft-07'
        ? `The token's "mercure.subscribe" claim does not match ${path}.`
        : `No Mercure authorization detail of the token grants "subscribe" on ${path}.`,
    );
  }
  const documents = await activeSubscriptions(parts);
  const lastEventId = parts.store.lastEventId() ?? 'earliest';
  const answer =
    auth.generation === 'draft-07'
      ? topicAnswer(path, documents, lastEventId)
      : matchAnswer(request, documents, lastEventId);
  res.writeHead(200, {
    'content-type': answer.contentType,
    'cache-control': 'must-revalidate',
    etag: `"${lastEventId}"`,
    link: answer.link,
  });
  res.end(JSON.stringify(answer.body));
}
