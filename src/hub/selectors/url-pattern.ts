import { URLPattern as PolyfillURLPattern } from 'urlpattern-polyfill/urlpattern';
import { DEFAULT_MAX_PROGRAM_STATES, LinearMatcher } from './linear-match.js';
import { type ComponentOptions, type PatternPart, parsePatternString } from './url-pattern-parts.js';

/**
 * The `urlpattern` matcher type of Mercure draft-08: a topic matches when, resolved against the hub's
 * URL, it is a URL the pattern (also resolved against the hub's URL) matches; `ignoreCase` is never
 * on; a topic that is not a URL reference matches no pattern.
 *
 * Bounded cost: URL Pattern compiles to regular expressions, and a backtracking engine (V8's, used by
 * both the native `URLPattern` and the polyfill) takes exponential time on patterns as plain as
 * `/{:x}+/z` — custom regexp groups are not the only risk. So `URLPattern` (the global one where Node
 * has it, Node 24 on; else the `urlpattern-polyfill` package) only reads, checks and canonicalizes the
 * pattern; the hub then matches each component's canonical pattern with its own linear-time engine
 * (linear-match.ts). The rule for the operator: patterns with custom regexp groups (`(\d+)`) are
 * refused, every other URL Pattern is accepted, and one evaluation costs at most
 * (topic length × states), states bounded per component ({@link DEFAULT_MAX_PROGRAM_STATES}).
 */

/** What `URLPattern` gives back: the canonical pattern string of every component. */
interface CanonicalPattern {
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
}

type URLPatternConstructor = new (input: string, baseURL: string) => CanonicalPattern;

/** The platform's URLPattern when it has one (Node 24 on), else the polyfill. */
const URL_PATTERN: URLPatternConstructor =
  (globalThis as unknown as { URLPattern?: URLPatternConstructor }).URLPattern ?? PolyfillURLPattern;

/** True when the platform's own URLPattern reads the patterns (false: the polyfill does). */
export const NATIVE_URL_PATTERN = URL_PATTERN !== (PolyfillURLPattern as unknown as URLPatternConstructor);

const COMPONENTS = [
  'protocol',
  'username',
  'password',
  'hostname',
  'port',
  'pathname',
  'search',
  'hash',
] as const;
type Component = (typeof COMPONENTS)[number];
type Components = Record<Component, string>;

const SPECIAL_SCHEMES = ['ftp', 'file', 'http', 'https', 'ws', 'wss'];
const NO_DELIMITER: ComponentOptions = { delimiter: '', prefixes: '' };
const HOSTNAME: ComponentOptions = { delimiter: '.', prefixes: '' };
const SPECIAL_PATHNAME: ComponentOptions = { delimiter: '/', prefixes: '/' };

/** Thrown for a pattern that cannot be a `urlpattern` matcher; the message says why. */
export class UrlPatternError extends Error {
  override readonly name = 'UrlPatternError';
}

type ComponentTest = (value: string) => boolean;

const ANYTHING: ComponentTest = () => true;

function componentTest(pattern: string, options: ComponentOptions, maxStates: number): ComponentTest {
  // `*` (the components a pattern leaves open) and plain text need no program.
  if (pattern === '*') return ANYTHING;
  const parts: PatternPart[] = parsePatternString(pattern, options);
  if (parts.some((part) => part.type === 'regexp')) {
    throw new UrlPatternError(
      `custom regexp groups such as "(${parts.find((part) => part.type === 'regexp')?.value})" are not accepted.`,
    );
  }
  if (parts.length === 0) return (value) => value === '';
  const [only] = parts;
  if (parts.length === 1 && only?.type === 'fixed' && only.modifier === '') {
    const text = only.value;
    return (value) => value === text;
  }
  const program = new LinearMatcher(parts, options.delimiter, maxStates);
  return (value) => program.matches(value);
}

/** A compiled `urlpattern` matcher, bound to the hub URL its pattern and topics resolve against. */
export interface UrlPatternMatcher {
  /** The pattern as the subscriber or token gave it. */
  readonly pattern: string;
  /** The hub URL relative patterns and topics resolve against. */
  readonly base: string;
  matches(topic: string): boolean;
}

/**
 * Compiles a URL Pattern. Throws {@link UrlPatternError} when it is not a well-formed URL Pattern,
 * holds a custom regexp group, or needs more than `maxStates` states in one component.
 */
export function compileUrlPattern(
  pattern: string,
  hubUrl: string,
  maxStates = DEFAULT_MAX_PROGRAM_STATES,
): UrlPatternMatcher {
  let canonical: CanonicalPattern;
  try {
    canonical = new URL_PATTERN(pattern, hubUrl);
  } catch (error) {
    throw new UrlPatternError(`"${pattern}" is not a URL Pattern: ${(error as Error).message}`);
  }
  const tests = {} as Record<Component, ComponentTest>;
  try {
    for (const component of COMPONENTS) {
      if (component === 'pathname') continue;
      tests[component] = componentTest(
        canonical[component],
        component === 'hostname' ? HOSTNAME : NO_DELIMITER,
        maxStates,
      );
    }
    // As URL Pattern decides: a pathname splits into segments when the protocol can be a special scheme.
    const special = SPECIAL_SCHEMES.some((scheme) => tests.protocol(scheme));
    tests.pathname = componentTest(canonical.pathname, special ? SPECIAL_PATHNAME : NO_DELIMITER, maxStates);
  } catch (error) {
    if (error instanceof UrlPatternError) throw new UrlPatternError(`"${pattern}": ${error.message}`);
    throw new UrlPatternError(`"${pattern}" cannot be matched: ${(error as Error).message}`);
  }
  const topics = topicUrls(hubUrl);
  return {
    pattern,
    base: hubUrl,
    matches(topic: string): boolean {
      const url = topics.components(topic);
      if (url === undefined) return false;
      for (const component of COMPONENTS) if (!tests[component](url[component])) return false;
      return true;
    },
  };
}

/** Topics resolved against one hub URL, remembered: one update's topics meet every pattern in turn. */
const TOPIC_URL_CACHE_SIZE = 1024;
/** Hub URLs with a topic cache (one per origin the hub is reached by, in practice). */
const BASE_CACHE_SIZE = 16;

class TopicUrls {
  private readonly parsed = new Map<string, Components | undefined>();

  constructor(private readonly base: string) {}

  components(topic: string): Components | undefined {
    if (this.parsed.has(topic)) return this.parsed.get(topic);
    let components: Components | undefined;
    try {
      const url = new URL(topic, this.base);
      components = {
        protocol: url.protocol.slice(0, -1),
        username: url.username,
        password: url.password,
        hostname: url.hostname,
        port: url.port,
        pathname: url.pathname,
        search: url.search.slice(1),
        hash: url.hash.slice(1),
      };
    } catch {
      components = undefined;
    }
    if (this.parsed.size >= TOPIC_URL_CACHE_SIZE) this.parsed.clear();
    this.parsed.set(topic, components);
    return components;
  }
}

const bases = new Map<string, TopicUrls>();

function topicUrls(base: string): TopicUrls {
  let cache = bases.get(base);
  if (cache === undefined) {
    if (bases.size >= BASE_CACHE_SIZE) {
      const oldest = bases.keys().next().value;
      if (oldest !== undefined) bases.delete(oldest);
    }
    cache = new TopicUrls(base);
    bases.set(base, cache);
  }
  return cache;
}
