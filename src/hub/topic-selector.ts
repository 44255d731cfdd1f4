import { HubError } from './errors.js';
import { EXACT } from './matchers/exact.js';
import type { MatcherType, TopicMatch } from './matchers/matcher.js';
import { URI_TEMPLATE } from './matchers/uri-template.js';
import { WILDCARD } from './matchers/wildcard.js';

/**
 * A topic selector: a matcher type and a text, compiled. Subscribers' selectors say which updates
 * they get; tokens' selectors say where their holder may publish and which private updates it may
 * receive. Made by a {@link SelectorCache}, never by hand.
 */
export interface TopicSelector {
  /** Its matcher type (`./matchers/`): how its text is read, how the subscriber index holds it. */
  readonly type: MatcherType;
  /** The selector's text, as the subscription or the token gave it. */
  readonly selector: string;
  /** Its identity, the type's name and the text: two selectors with one key match the same topics. */
  readonly key: string;
  /** True when `topic` is one of the topics the selector matches. */
  readonly matches: TopicMatch;
}

/**
 * How the text of one kind of selector is read: the matcher types it may be, tried in order, the
 * first that compiles the text winning. One per selector parameter or claim of the protocol; a
 * draft-08 parameter (`match`, `match_urlpattern`) is one more syntax naming its type.
 */
export interface SelectorSyntax {
  /** Its name, in the selector cache's key. */
  readonly name: string;
  readonly types: readonly MatcherType[];
}

/**
 * Draft-07's selectors, in `topic` query parameters and in the `mercure.publish` and
 * `mercure.subscribe` claims: `*` matches every topic; a URI template (RFC 6570) the topics that
 * are its expansions; any other text the one topic equal to it.
 */
export const TOPIC_SYNTAX: SelectorSyntax = { name: 'topic', types: [WILDCARD, URI_TEMPLATE, EXACT] };

function compile(text: string, syntax: SelectorSyntax): TopicSelector {
  for (const type of syntax.types) {
    const matches = type.compile(text);
    if (matches !== undefined) return { type, selector: text, key: `${type.name} ${text}`, matches };
  }
  throw new HubError('bad-request', `"${text}" is not a valid "${syntax.name}" selector.`);
}

/** Default number of compiled selectors kept by a {@link SelectorCache}. */
export const DEFAULT_SELECTOR_CACHE_SIZE = 10_000;

/**
 * Compiled selectors by their syntax and text, least recently used dropped first: subscribers that
 * share a selector share one compiled matcher, and a flood of distinct selectors cannot grow memory.
 */
export class SelectorCache {
  private readonly entries = new Map<string, TopicSelector>();

  constructor(private readonly capacity = DEFAULT_SELECTOR_CACHE_SIZE) {}

  /**
   * The selector `text` is in `syntax` (draft-07's `topic` unless told). Throws a 400 `HubError`
   * when no type of the syntax reads the text (never in `topic`: any text is an exact selector).
   */
  get(text: string, syntax: SelectorSyntax = TOPIC_SYNTAX): TopicSelector {
    const key = `${syntax.name} ${text}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      // Map keeps insertion order: moving the entry to the end makes the first entry the oldest.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const compiled = compile(text, syntax);
    if (this.capacity > 0) {
      if (this.entries.size >= this.capacity) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(key, compiled);
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
