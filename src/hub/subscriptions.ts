import type { Logger } from '../server/logger.js';
import { SUBSCRIPTIONS_PATH } from './paths.js';
import { type UpdateLimits, validateUpdate } from './publish.js';
import type { HubStore } from './stores/store.js';
import type { Subscriber } from './subscriber.js';
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

/** Limits of the updates the hub makes itself (subscription events): one topic, sizes bounded by the token's. */
const HUB_UPDATE_LIMITS: UpdateLimits = {
  maxUpdateBytes: Number.MAX_SAFE_INTEGER,
  maxTopics: 1,
  maxTopicLength: Number.MAX_SAFE_INTEGER,
};

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
    this.announce(subscriber, true);
    this.store.presence?.add(
      subscriber.selectors.map(({ selector }) => subscriptionDocument(selector, subscriber, true)),
    );
  }

  /** The subscriber's stream ended; `announce` false when the hub is closing (nobody is left to tell). */
  ended(subscriber: Subscriber, announce: boolean): void {
    this.store.presence?.remove(
      subscriber.selectors.map(({ selector }) => subscriptionTopic(selector, subscriber.id)),
    );
    if (announce) this.announce(subscriber, false);
  }

  private announce(subscriber: Subscriber, active: boolean): void {
    for (const update of subscriptionUpdates(subscriber, active)) {
      // The publishers' limits are not for the hub's own updates: a token's payload larger than
      // maxUpdateBytes must neither drop its subscriber nor throw out of a stream's close listener.
      this.append(validateUpdate(update, HUB_UPDATE_LIMITS)).catch((error: unknown) =>
        this.logger.warn({ error: String(error) }, 'Could not publish a subscription event.'),
      );
    }
  }
}
