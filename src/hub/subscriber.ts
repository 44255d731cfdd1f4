import type { EventStream } from '../server/event-stream.js';
import type { Grants } from './token-formats/token-format.js';
import { anyTopicMatches, type TopicSelector } from './topic-selector.js';
import type { StoredUpdate } from './update.js';

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
  /**
   * Updates dispatched while its history is being replayed (kept until the replay is written);
   * undefined once it is live; null when more arrived than the hub holds for one subscriber.
   */
  pending: StoredUpdate[] | null | undefined;

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
