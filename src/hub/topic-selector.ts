import { compileUriTemplate } from './uri-template/index.js';

/**
 * A topic selector (Mercure draft-07 §"Topic Selectors"): `*` matches every topic; otherwise a topic
 * matches when it is the same string, or when the selector is a URI template (RFC 6570) the topic
 * is an expansion of.
 */
export interface TopicSelector {
  readonly selector: string;
  matches(topic: string): boolean;
}

const ANY: TopicSelector = { selector: '*', matches: () => true };

function compile(selector: string): TopicSelector {
  if (selector === '*') return ANY;
  const template = compileUriTemplate(selector);
  if (template === undefined) return { selector, matches: (topic) => topic === selector };
  // Exact equality first: a template matches itself, so templates can be compared with templates.
  return { selector, matches: (topic) => topic === selector || template.matches(topic) };
}

/** Default number of compiled selectors kept by a {@link SelectorCache}. */
export const DEFAULT_SELECTOR_CACHE_SIZE = 10_000;

/**
 * Compiled selectors by their text, least recently used dropped first: subscribers that share a
 * selector share one compiled matcher, and a flood of distinct selectors cannot grow memory.
 */
export class SelectorCache {
  private readonly entries = new Map<string, TopicSelector>();

  constructor(private readonly capacity = DEFAULT_SELECTOR_CACHE_SIZE) {}

  get(selector: string): TopicSelector {
    const cached = this.entries.get(selector);
    if (cached !== undefined) {
      // Map keeps insertion order: moving the entry to the end makes the first entry the oldest.
      this.entries.delete(selector);
      this.entries.set(selector, cached);
      return cached;
    }
    const compiled = compile(selector);
    if (this.capacity > 0) {
      if (this.entries.size >= this.capacity) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(selector, compiled);
    }
    return compiled;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** True when `topic` matches at least one of `selectors`. */
export function matchesAny(selectors: readonly TopicSelector[], topic: string): boolean {
  for (const selector of selectors) if (selector.matches(topic)) return true;
  return false;
}

/** True when at least one of `topics` matches at least one of `selectors`. */
export function anyTopicMatches(selectors: readonly TopicSelector[], topics: readonly string[]): boolean {
  for (const topic of topics) if (matchesAny(selectors, topic)) return true;
  return false;
}
