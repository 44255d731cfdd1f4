import type { Subscriber } from './subscriber.js';
import type { TopicSelector } from './topic-selector.js';
import type { StoredUpdate } from './update.js';

/** Subscribers sharing one scanned selector: the selector is tried once for all of them. */
interface ScannedEntry {
  readonly selector: TopicSelector;
  readonly members: Set<Subscriber>;
}

/**
 * Who wants which topic, for dispatch, as each selector's matcher type says (`indexing`): exact
 * selectors in a map from topic to subscribers (one lookup per topic of the update), the others
 * (`*`, URI templates) in a list tried one by one — each distinct selector once per update, however
 * many subscribers share it.
 */
export class SubscriberIndex {
  private readonly exact = new Map<string, Set<Subscriber>>();
  /** By selector key (type and text). */
  private readonly scanned = new Map<string, ScannedEntry>();
  private count = 0;

  /** Subscribers in the index. */
  get size(): number {
    return this.count;
  }

  add(subscriber: Subscriber): void {
    this.count++;
    for (const selector of subscriber.selectors) {
      if (selector.type.indexing === 'exact') {
        let members = this.exact.get(selector.selector);
        if (members === undefined) {
          members = new Set();
          this.exact.set(selector.selector, members);
        }
        members.add(subscriber);
      } else {
        let entry = this.scanned.get(selector.key);
        if (entry === undefined) {
          entry = { selector, members: new Set() };
          this.scanned.set(selector.key, entry);
        }
        entry.members.add(subscriber);
      }
    }
  }

  remove(subscriber: Subscriber): void {
    this.count--;
    for (const selector of subscriber.selectors) {
      if (selector.type.indexing === 'exact') {
        const members = this.exact.get(selector.selector);
        if (members?.delete(subscriber) && members.size === 0) this.exact.delete(selector.selector);
      } else {
        const entry = this.scanned.get(selector.key);
        if (entry?.members.delete(subscriber) && entry.members.size === 0) this.scanned.delete(selector.key);
      }
    }
  }

  /**
   * Calls `visit` once for every subscriber with a selector matching one of the update's topics.
   * Visibility (private updates) is the caller's to check.
   */
  forEachMatch(update: StoredUpdate, visit: (subscriber: Subscriber) => void): void {
    // The hot loop of every dispatch: the mark test is written out in each loop, not in a helper.
    const seq = update.seq;
    const topics = update.topics;
    for (let i = 0; i < topics.length; i++) {
      const members = this.exact.get(topics[i] as string);
      if (members === undefined) continue;
      for (const subscriber of members) {
        if (subscriber.mark === seq) continue;
        subscriber.mark = seq;
        visit(subscriber);
      }
    }
    if (this.scanned.size === 0) return;
    for (const entry of this.scanned.values()) {
      const matches = entry.selector.matches;
      let matched = false;
      for (let i = 0; i < topics.length && !matched; i++) matched = matches(topics[i] as string);
      if (!matched) continue;
      for (const subscriber of entry.members) {
        if (subscriber.mark === seq) continue;
        subscriber.mark = seq;
        visit(subscriber);
      }
    }
  }

  /** Distinct selectors in use, with how many subscribers use each (for the dashboard's top topics). */
  selectorCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [topic, members] of this.exact) counts.set(topic, members.size);
    // One text under two types (an exact and a template selector) counts as one line.
    for (const { selector, members } of this.scanned.values()) {
      counts.set(selector.selector, (counts.get(selector.selector) ?? 0) + members.size);
    }
    return counts;
  }
}
