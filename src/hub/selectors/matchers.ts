import { DEFAULT_MAX_PROGRAM_STATES } from './linear-match.js';
import { compileUrlPattern } from './url-pattern.js';

/**
 * The topic matcher types of Mercure draft-08 (§"Matcher Types"): `exact` compares byte for byte,
 * never resolving or normalizing; `urlpattern` is a URL Pattern resolved against the hub's URL. The
 * value `*` matches every topic whatever the type. The type is part of a matcher's identity:
 * `exact` `…/{id}` is the string `…/{id}`, never a template.
 */
export const MATCHER_TYPES = ['exact', 'urlpattern'] as const;
export type MatcherType = (typeof MATCHER_TYPES)[number];

/** The wildcard matcher value, recognized before the type. */
export const WILDCARD = '*';

export function isMatcherType(name: string): name is MatcherType {
  return (MATCHER_TYPES as readonly string[]).includes(name);
}

/**
 * A compiled matcher. It has `selector` (its text) and `matches`, so it stands wherever a draft-07
 * topic selector does; `type` tells the two `match…` spellings of one text apart.
 */
export interface TopicMatcher {
  readonly type: MatcherType;
  readonly selector: string;
  matches(topic: string): boolean;
}

/** One string for a matcher's identity (type and text), for maps and de-duplication. */
export function matcherKey(type: MatcherType, value: string): string {
  return `${type} ${value}`;
}

/**
 * Compiles a matcher. Throws `UrlPatternError` for a `urlpattern` value that is not a URL Pattern
 * the hub accepts (see url-pattern.ts).
 */
export function compileMatcher(
  type: MatcherType,
  value: string,
  hubUrl: string,
  maxStates = DEFAULT_MAX_PROGRAM_STATES,
): TopicMatcher {
  if (value === WILDCARD) return { type, selector: value, matches: () => true };
  if (type === 'exact') return { type, selector: value, matches: (topic) => topic === value };
  const pattern = compileUrlPattern(value, hubUrl, maxStates);
  return { type, selector: value, matches: (topic) => pattern.matches(topic) };
}

/** Default number of compiled matchers a {@link MatcherCache} keeps. */
export const DEFAULT_MATCHER_CACHE_SIZE = 10_000;

/**
 * Compiled matchers by type, hub URL and text, least recently used dropped first: subscribers and
 * tokens that share a matcher share one compiled program, and a flood of distinct ones is bounded.
 */
export class MatcherCache {
  private readonly entries = new Map<string, TopicMatcher>();

  constructor(
    private readonly capacity = DEFAULT_MATCHER_CACHE_SIZE,
    private readonly maxStates = DEFAULT_MAX_PROGRAM_STATES,
  ) {}

  get(type: MatcherType, value: string, hubUrl: string): TopicMatcher {
    // `exact` ignores the hub URL: one entry serves every origin.
    const key = type === 'exact' ? matcherKey(type, value) : `${matcherKey(type, value)} ${hubUrl}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const compiled = compileMatcher(type, value, hubUrl, this.maxStates);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    if (this.capacity > 0) this.entries.set(key, compiled);
    return compiled;
  }

  get size(): number {
    return this.entries.size;
  }
}
