import type { EventStream } from '../server/event-stream.js';
import { anyTopicMatches, type TopicSelector } from './topic-selector.js';
import type { StoredUpdate } from './update.js';

/** One connected subscriber: its stream, what it asked for, what its token allows. */
export class Subscriber {
  /** The hub's identifier of this subscriber (`urn:uuid:…`), shown in subscription events. */
  readonly id: string;
  /** The selectors of its `topic` query parameters. */
  readonly selectors: readonly TopicSelector[];
  /** Its `mercure.subscribe` claim: which private updates it may receive; undefined: none. */
  readonly claims: readonly TopicSelector[] | undefined;
  /** Its `mercure.payload` claim. */
  readonly payload: unknown;
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
  /**
   * Updates dispatched while its history is being replayed (kept until the replay is written);
   * undefined once it is live; null when more arrived than the hub holds for one subscriber.
   */
  pending: StoredUpdate[] | null | undefined;

  constructor(
    id: string,
    selectors: readonly TopicSelector[],
    claims: readonly TopicSelector[] | undefined,
    payload: unknown,
    address: string,
  ) {
    this.id = id;
    this.selectors = selectors;
    this.claims = claims;
    this.payload = payload;
    this.address = address;
  }

  /** True when one of the update's topics matches one of the subscriber's selectors. */
  matches(update: StoredUpdate): boolean {
    return anyTopicMatches(this.selectors, update.topics);
  }

  /** True when the subscriber may see the update: it is public, or a topic matches its claim. */
  mayReceive(update: StoredUpdate): boolean {
    return !update.private || (this.claims !== undefined && anyTopicMatches(this.claims, update.topics));
  }
}
