import type { EventStream } from '../server/event-stream.js';
import type { Grants } from './token-formats/token-format.js';
import { anyTopicMatches, type TopicSelector } from './topic-selector.js';
import type { StoredUpdate } from './update.js';

/** Live: dispatch writes its updates straight to its stream. */
export const LIVE = { name: 'live' } as const;

/**
 * Overflowed: more updates arrived while its history was replayed than the hub holds for one
 * subscriber. Its stream closes; the client reconnects with its last ID and catches up from the store.
 */
export const OVERFLOWED = { name: 'overflowed' } as const;

/**
 * Replaying: its history is being written. Dispatch holds what arrives meanwhile in `held`, written
 * after the history (no gap), at most `maxPendingUpdates` of it.
 */
export interface Replaying {
  readonly name: 'replaying';
  readonly held: StoredUpdate[];
}

/** Where a subscriber is between its request and its live stream. */
export type SubscriberPhase = typeof LIVE | Replaying | typeof OVERFLOWED;

/** A new replaying phase, holding nothing yet. */
export function replaying(): Replaying {
  return { name: 'replaying', held: [] };
}

/** One connected subscriber: its stream, what it asked for, what its token allows. */
export class Subscriber {
  /** The hub's identifier of this subscriber (`urn:uuid:…`), shown in subscription events. */
  readonly id: string;
  /** The selectors of its `topic` query parameters. */
  readonly selectors: readonly TopicSelector[];
  /** What its token grants (which private updates it may receive, its payload); undefined: no token. */
  readonly grants: Grants | undefined;
  /** Where it connects from, for the per-address limit. */
  readonly address: string;
  stream: EventStream | undefined;
  /** The seq of the last update offered to it: one update reaches it once, whatever number of its topics match. */
  mark = 0;
  /**
   * The seq up to which its replay brought it (the requested update or the last one replayed). A
   * node reading a shared history behind (Redis) may dispatch older updates after the replay: not sent.
   */
  replayedUpTo = 0;
  /** Live, or replaying its history, or overflowed while replaying. One field: no more per subscriber. */
  phase: SubscriberPhase = LIVE;

  constructor(id: string, selectors: readonly TopicSelector[], grants: Grants | undefined, address: string) {
    this.id = id;
    this.selectors = selectors;
    this.grants = grants;
    this.address = address;
  }

  /** True when one of the update's topics matches one of the subscriber's selectors. */
  matches(update: StoredUpdate): boolean {
    return anyTopicMatches(this.selectors, update.topics);
  }

  /** True when the subscriber may see the update: it is public, or a topic matches its subscribe grants. */
  mayReceive(update: StoredUpdate): boolean {
    if (!update.private) return true;
    const allowed = this.grants?.subscribe;
    return allowed !== undefined && anyTopicMatches(allowed, update.topics);
  }
}
