import type { Logger } from '../server/logger.js';
import {
  type MatchSubscriptionDocument,
  matchSubscriptionDocument,
  matchSubscriptionUpdate,
} from './match-subscriptions.js';
import { SUBSCRIPTIONS_PATH } from './paths.js';
import { validateUpdate } from './publish.js';
import type { HubStore } from './stores/store.js';
import type { Subscriber } from './subscriber.js';
import type { TopicSelector } from './topic-selector.js';
import type { Update, UpdateInit } from './update.js';
import { expandUriTemplate } from './uri-template/index.js';

/** The JSON-LD context of subscription documents. */
export const JSON_LD_CONTEXT = 'https://mercure.rocks/';

/** `/.well-known/mercure/subscriptions/{topic}/{subscriber}`, expanded. */
export function subscriptionTopic(selector: string, subscriberId: string): string {
  return expandUriTemplate(`${SUBSCRIPTIONS_PATH}/{topic}/{subscriber}`, {
    topic: selector,
    subscriber: subscriberId,
  });
}

/** One draft-07 subscription as a JSON-LD document (without `@context`, added at the root of a response). */
export interface TopicSubscriptionDocument {
  id: string;
  type: 'Subscription';
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

/**
 * One subscription, in the shape of the generation of its selector: a `topic` one's (JSON-LD, on
 * `…/subscriptions/{topic}/{subscriber}`) or a `match…` one's (`match-subscriptions.ts`). Each
 * generation's events and API show the subscriptions made with its selectors, so a client reads one
 * shape only.
 */
export type SubscriptionDocument = TopicSubscriptionDocument | MatchSubscriptionDocument;

/** True for a draft-08 document. */
export function isMatchDocument(document: SubscriptionDocument): document is MatchSubscriptionDocument {
  return 'match_type' in document;
}

/** The document of one of a subscriber's subscriptions (one selector), with the payload its token gives it. */
export function subscriptionDocument(
  selector: TopicSelector,
  subscriber: Subscriber,
  active: boolean,
): SubscriptionDocument {
  const text = selector.selector;
  const payload = subscriber.grants?.payloadFor(text);
  const matchType = selector.syntax.matchType;
  if (matchType !== undefined) {
    return matchSubscriptionDocument(matchType, text, subscriber.id, active, payload);
  }
  const document: TopicSubscriptionDocument = {
    id: subscriptionTopic(text, subscriber.id),
    type: 'Subscription',
    topic: text,
    subscriber: subscriber.id,
    active,
  };
  if (payload !== undefined) document.payload = payload;
  return document;
}

/** The private update announcing a subscription's start or end, in its generation's shape. */
function subscriptionUpdate(document: SubscriptionDocument): UpdateInit {
  if (isMatchDocument(document)) return matchSubscriptionUpdate(document);
  return {
    topics: [document.id],
    data: JSON.stringify({ '@context': JSON_LD_CONTEXT, ...document }),
    private: true,
  };
}

/**
 * Subscription events, when the hub's `subscriptions` option is on: a subscriber's subscriptions are
 * announced (private updates on their subscription topics) when its stream goes live and when it
 * ends, and listed in the store's presence when the store shares one between nodes.
 */
export class SubscriptionEvents {
  constructor(
    private readonly store: HubStore,
    private readonly append: (update: Update) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  /** The subscriber's stream is live. */
  started(subscriber: Subscriber): void {
    const documents = this.documents(subscriber, true);
    this.announce(documents);
    this.store.presence?.add(documents);
  }

  /** The subscriber's stream ended; `announce` false when the hub is closing (nobody is left to tell). */
  ended(subscriber: Subscriber, announce: boolean): void {
    const documents = this.documents(subscriber, false);
    this.store.presence?.remove(documents.map(({ id }) => id));
    if (announce) this.announce(documents);
  }

  private documents(subscriber: Subscriber, active: boolean): SubscriptionDocument[] {
    return subscriber.selectors.map((selector) => subscriptionDocument(selector, subscriber, active));
  }

  private announce(documents: readonly SubscriptionDocument[]): void {
    for (const update of documents.map(subscriptionUpdate)) {
      // The publishers' rules and limits are not for the hub's own updates: its namespace is theirs,
      // and a token's payload larger than maxUpdateBytes must neither drop its subscriber nor throw
      // out of a stream's close listener.
      this.append(validateUpdate(update)).catch((error: unknown) =>
        this.logger.warn({ error: String(error) }, 'Could not publish a subscription event.'),
      );
    }
  }
}
