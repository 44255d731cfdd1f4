import type { Subscriber } from './subscriber.js';
import type { StoredUpdate } from './update.js';

/**
 * Who wants which topic, for dispatch: exact selectors in a map from topic to subscribers (one
 * lookup per topic of the update), `*` in a set, URI templates in a list tried one by one — each
 * template once per update, however many subscribers share it.
 */
export class SubscriberIndex {
  private readonly exact = new Map<string, Set<Subscriber>>();
  private readonly everything = new Set<Subscriber>();
  private readonly templates = new Map<
    string,
    { matches(topic: string): boolean; members: Set<Subscriber> }
  >();
  private count = 0;

  /** Subscribers in the index. */
  get size(): number {
    return this.count;
  }

  add(subscriber: Subscriber): void {
    this.count++;
    for (const selector of subscriber.selectors) {
      const { selector: text } = selector;
      if (text === '*') {
        this.everything.add(subscriber);
      } else if (isTemplate(text)) {
        let entry = this.templates.get(text);
        if (entry === undefined) {
          entry = { matches: (topic) => selector.matches(topic), members: new Set() };
          this.templates.set(text, entry);
        }
        entry.members.add(subscriber);
      } else {
        let members = this.exact.get(text);
        if (members === undefined) {
          members = new Set();
          this.exact.set(text, members);
        }
        members.add(subscriber);
      }
    }
  }

  remove(subscriber: Subscriber): void {
    this.count--;
    for (const { selector: text } of subscriber.selectors) {
      if (text === '*') {
        this.everything.delete(subscriber);
      } else if (isTemplate(text)) {
        const entry = this.templates.get(text);
        if (entry?.members.delete(subscriber) && entry.members.size === 0) this.templates.delete(text);
      } else {
        const members = this.exact.get(text);
        if (members?.delete(subscriber) && members.size === 0) this.exact.delete(text);
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
    for (const subscriber of this.everything) {
      if (subscriber.mark === seq) continue;
      subscriber.mark = seq;
      visit(subscriber);
    }
    for (let i = 0; i < topics.length; i++) {
      const members = this.exact.get(topics[i] as string);
      if (members === undefined) continue;
      for (const subscriber of members) {
        if (subscriber.mark === seq) continue;
        subscriber.mark = seq;
        visit(subscriber);
      }
    }
    if (this.templates.size === 0) return;
    for (const entry of this.templates.values()) {
      let matched = false;
      for (let i = 0; i < topics.length && !matched; i++) matched = entry.matches(topics[i] as string);
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
    if (this.everything.size > 0) counts.set('*', this.everything.size);
    for (const [topic, members] of this.exact) counts.set(topic, members.size);
    for (const [template, entry] of this.templates) counts.set(template, entry.members.size);
    return counts;
  }
}

/** A selector holding an expression (`{…}`) may be a URI template; the rest are compared exactly. */
function isTemplate(selector: string): boolean {
  return selector.includes('{');
}
