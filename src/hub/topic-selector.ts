import { EXACT } from './matchers/exact.js';
import { type MatcherType, SelectorError, type TopicMatch } from './matchers/matcher.js';
import { URI_TEMPLATE } from './matchers/uri-template.js';
import { URL_PATTERN } from './matchers/urlpattern.js';
import { WILDCARD } from './matchers/wildcard.js';

/**
 * A topic selector: a matcher type and a text, compiled. Subscribers' selectors say which updates
 * they get; tokens' selectors say where their holder may publish and which private updates it may
 * receive. Made by a {@link SelectorCache}, never by hand.
 */
export interface TopicSelector {
  /** Its matcher type (`./matchers/`): how its text is read, how the subscriber index holds it. */
  readonly type: MatcherType;
  /** The syntax it was read in: the parameter or claim that gave it, and so its generation. */
  readonly syntax: SelectorSyntax;
  /** The selector's text, as the subscription or the token gave it. */
  readonly selector: string;
  /**
   * Its identity, the type's name and the text (and the hub URL, for a type that resolves against
   * it): two selectors with one key match the same topics.
   */
  readonly key: string;
  /** True when `topic` is one of the topics the selector matches. */
  readonly matches: TopicMatch;
}

/**
 * How the text of one kind of selector is read: the matcher types it may be, tried in order, the
 * first that compiles the text winning. One per selector parameter or claim of the protocol.
 */
export interface SelectorSyntax {
  /** Its name, in the selector cache's key and in error messages: the parameter's. */
  readonly name: string;
  readonly types: readonly MatcherType[];
  /**
   * Draft-08's name of the matcher type (`match_type`, and `match_<type>` parameters), shown in its
   * subscription events; undefined for draft-07's `topic`.
   */
  readonly matchType?: MatchType;
}

/**
 * Draft-07's selectors, in `topic` query parameters and in the `mercure.publish` and
 * `mercure.subscribe` claims: `*` matches every topic; a URI template (RFC 6570) the topics that
 * are its expansions; any other text the one topic equal to it.
 */
export const TOPIC_SYNTAX: SelectorSyntax = { name: 'topic', types: [WILDCARD, URI_TEMPLATE, EXACT] };

/**
 * Draft-08's `exact` matchers (`match` and `match_exact` parameters; `match_type` `exact` or absent):
 * the one topic equal to the text byte for byte, never a template, never resolved. `*` is the
 * wildcard, as in every draft-08 matcher type.
 */
export const MATCH_SYNTAX: SelectorSyntax = { name: 'match', matchType: 'exact', types: [WILDCARD, EXACT] };

/** Draft-08's `urlpattern` matchers (`match_urlpattern`): a URL Pattern, relative ones resolved against the hub's URL. */
export const URL_PATTERN_SYNTAX: SelectorSyntax = {
  name: 'match_urlpattern',
  matchType: 'urlpattern',
  types: [WILDCARD, URL_PATTERN],
};

/** Draft-08's matcher types, by the name a token's `match_type` and a `match_<type>` parameter give. */
export const MATCH_SYNTAXES = { exact: MATCH_SYNTAX, urlpattern: URL_PATTERN_SYNTAX } as const;
export type MatchType = keyof typeof MATCH_SYNTAXES;
/** The names of {@link MATCH_SYNTAXES}, as the metadata document lists them. */
export const MATCH_TYPES = Object.keys(MATCH_SYNTAXES) as MatchType[];

/** The syntax of a draft-08 matcher type name; undefined for a name the hub does not support. */
export function matchSyntax(name: string): SelectorSyntax | undefined {
  return Object.hasOwn(MATCH_SYNTAXES, name) ? MATCH_SYNTAXES[name as MatchType] : undefined;
}

function compile(text: string, syntax: SelectorSyntax, hubUrl: string): TopicSelector {
  for (const type of syntax.types) {
    const matches = type.compile(text, hubUrl);
    if (matches === undefined) continue;
    const key = type.relative ? `${type.name} ${text} ${hubUrl}` : `${type.name} ${text}`;
    return { type, syntax, selector: text, key, matches };
  }
  throw new SelectorError(`"${text}" is not a valid "${syntax.name}" selector.`);
}

/** Default number of compiled selectors kept by a {@link SelectorCache}. */
export const DEFAULT_SELECTOR_CACHE_SIZE = 10_000;

/**
 * Compiled selectors by their syntax and text, least recently used dropped first: subscribers and
 * tokens that share a selector share one compiled matcher, and a flood of distinct selectors cannot
 * grow memory.
 */
export class SelectorCache {
  private readonly entries = new Map<string, TopicSelector>();

  constructor(private readonly capacity = DEFAULT_SELECTOR_CACHE_SIZE) {}

  /**
   * The selector `text` is in `syntax` (draft-07's `topic` unless told), for the hub reached at
   * `hubUrl` (read by the types that resolve against it). Throws a {@link SelectorError} when the
   * syntax cannot read the text (never in `topic`: any text is an exact selector).
   */
  get(text: string, syntax: SelectorSyntax = TOPIC_SYNTAX, hubUrl = ''): TopicSelector {
    const relative = syntax.types.some((type) => type.relative);
    const key = relative ? `${syntax.name} ${text} ${hubUrl}` : `${syntax.name} ${text}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      // Map keeps insertion order: moving the entry to the end makes the first entry the oldest.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const compiled = compile(text, syntax, hubUrl);
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
