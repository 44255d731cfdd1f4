import type { Subscriber } from './subscriber.js';
import type { UpdateInit } from './update.js';

/** The path under which subscription events are published and the subscriptions API answers. */
export const SUBSCRIPTIONS_PATH = '/.well-known/mercure/subscriptions';

const JSON_LD_CONTEXT = 'https://mercure.rocks/';

/** Percent-encodes everything but RFC 3986 unreserved characters, as RFC 6570 simple expansion does. */
export function encodeVariable(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `/.well-known/mercure/subscriptions/{topic}/{subscriber}`, expanded. */
export function subscriptionTopic(selector: string, subscriberId: string): string {
  return `${SUBSCRIPTIONS_PATH}/${encodeVariable(selector)}/${encodeVariable(subscriberId)}`;
}

/** One subscription as a JSON-LD document (without `@context`, added at the root of a response). */
export interface SubscriptionDocument {
  id: string;
  type: 'Subscription';
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

export function subscriptionDocument(
  selector: string,
  subscriber: Subscriber,
  active: boolean,
): SubscriptionDocument {
  const document: SubscriptionDocument = {
    id: subscriptionTopic(selector, subscriber.id),
    type: 'Subscription',
    topic: selector,
    subscriber: subscriber.id,
    active,
  };
  const payload = subscriber.grants?.payload;
  if (payload !== undefined) document.payload = payload;
  return document;
}

/** The private updates announcing that a subscriber's subscriptions started (or ended). */
export function subscriptionUpdates(subscriber: Subscriber, active: boolean): UpdateInit[] {
  return subscriber.selectors.map(({ selector }) => {
    const document = subscriptionDocument(selector, subscriber, active);
    return {
      topics: [document.id],
      data: JSON.stringify({ '@context': JSON_LD_CONTEXT, ...document }),
      private: true,
    };
  });
}

/** What a subscriptions API path asks for: all, those of one selector, or one subscription. */
export type SubscriptionsQuery =
  | { kind: 'all' }
  | { kind: 'topic'; topic: string }
  | { kind: 'one'; topic: string; subscriber: string };

/** Reads a subscriptions API path (after SUBSCRIPTIONS_PATH); undefined when it is not one. */
export function parseSubscriptionsPath(rest: string): SubscriptionsQuery | undefined {
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
export function subscriptionsResponse(
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
