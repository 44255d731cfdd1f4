import { HubError } from '../errors.js';
import { forbiddenCharacter } from '../forbidden-characters.js';
import { SelectorError } from '../matchers/matcher.js';
import {
  MATCH_SYNTAX,
  matchSyntax,
  type SelectorCache,
  type SelectorSyntax,
  TOPIC_SYNTAX,
  type TopicSelector,
} from '../topic-selector.js';

/**
 * The selectors of a subscription request, from its query (or a form body carrying the same
 * parameters): draft-08's `match` (`exact`), `match_exact` and `match_urlpattern`, and draft-07's
 * `topic` (exact, RFC 6570 template or `*`) while draft-07 is on, in one request if the client likes.
 * Any other parameter in the reserved `match` namespace (a name starting with `match`, ASCII case
 * ignored) is a 400: a misspelt matcher type fails loudly instead of subscribing to nothing.
 */

/** A selector as the request gave it: the syntax of its parameter, and its text. */
export interface RequestedSelector {
  readonly syntax: SelectorSyntax;
  readonly value: string;
}

export interface SelectorParamsOptions {
  /** Accept draft-07's `topic` parameter. */
  readonly draft07: boolean;
  /** Most selector parameters in one request (all names together). */
  readonly maxSelectors: number;
  /** Longest selector value, in characters. */
  readonly maxSelectorLength: number;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LENIENT_UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** application/x-www-form-urlencoded percent-decoding (`+` is a space) to bytes. */
function percentDecode(text: string): Uint8Array {
  const input = Buffer.from(text.replaceAll('+', ' '), 'utf8');
  const output = Buffer.allocUnsafe(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] as number;
    if (byte === 0x25 && i + 2 < input.length) {
      const high = hexValue(input[i + 1] ?? -1);
      const low = hexValue(input[i + 2] ?? -1);
      if (high >= 0 && low >= 0) {
        output[length++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    output[length++] = byte;
  }
  return output.subarray(0, length);
}

/** A name of the reserved namespace: `match`, or a name beginning with it, ASCII case ignored. */
function inMatchNamespace(name: string): boolean {
  return name.length >= 5 && name.slice(0, 5).toLowerCase() === 'match';
}

/** The syntax a `match…` parameter name selects; undefined for one the hub does not support. */
function syntaxOf(name: string): SelectorSyntax | undefined {
  if (name === 'match') return MATCH_SYNTAX;
  if (!name.startsWith('match_')) return undefined;
  return matchSyntax(name.slice('match_'.length));
}

function badRequest(message: string): HubError {
  return new HubError('bad-request', message);
}

/**
 * Reads the selectors of `query` (the text after `?`, or a form body), in their order, each
 * (type, value) once. Throws a 400 `HubError` for an unknown `match…` parameter, a matcher value
 * that is empty, not UTF-8 or holds a control or format character, too many or too long selectors, or
 * none at all. `urlpattern` values are checked for syntax where they are compiled.
 */
export function parseSelectorParams(query: string, options: SelectorParamsOptions): RequestedSelector[] {
  const selectors: RequestedSelector[] = [];
  const seen = new Set<string>();
  let count = 0;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = LENIENT_UTF8.decode(percentDecode(at === -1 ? pair : pair.slice(0, at)));
    const rawValue = percentDecode(at === -1 ? '' : pair.slice(at + 1));
    let syntax: SelectorSyntax;
    let value: string;
    if (name === 'topic' && options.draft07) {
      syntax = TOPIC_SYNTAX;
      value = LENIENT_UTF8.decode(rawValue);
    } else if (inMatchNamespace(name)) {
      const named = syntaxOf(name);
      if (named === undefined) {
        throw badRequest(
          `Unknown matcher parameter "${name}": this hub reads "match" (exact), "match_exact" and "match_urlpattern".`,
        );
      }
      syntax = named;
      try {
        value = STRICT_UTF8.decode(rawValue);
      } catch {
        throw badRequest(`The value of a "${name}" parameter is not UTF-8.`);
      }
      if (value === '') throw badRequest(`A "${name}" parameter needs a value.`);
      const forbidden = forbiddenCharacter(value);
      if (forbidden !== undefined) {
        throw badRequest(`A "${name}" value holds ${forbidden}, a control or format character.`);
      }
    } else {
      continue;
    }
    count++;
    if (count > options.maxSelectors) {
      throw badRequest(`Too many selector parameters (the limit is ${options.maxSelectors}).`);
    }
    if (value.length > options.maxSelectorLength) {
      throw badRequest(`A selector is longer than ${options.maxSelectorLength} characters.`);
    }
    const key = `${syntax.name} ${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    selectors.push({ syntax, value });
  }
  if (selectors.length === 0) {
    throw badRequest(
      options.draft07
        ? 'Missing selector: add a "match" (or "match_urlpattern", or draft-07 "topic") parameter.'
        : 'Missing selector: add a "match" or "match_urlpattern" parameter (draft-07 "topic" is turned off on this hub).',
    );
  }
  return selectors;
}

/**
 * Compiles requested selectors, each by its syntax, URL Patterns resolved against `hubUrl`. Throws
 * a 400 `HubError` for a `match_urlpattern` value that is not a URL Pattern the hub accepts.
 */
export function compileSelectors(
  requested: readonly RequestedSelector[],
  cache: SelectorCache,
  hubUrl: string,
): TopicSelector[] {
  return requested.map(({ syntax, value }) => {
    try {
      return cache.get(value, syntax, hubUrl);
    } catch (error) {
      if (error instanceof SelectorError) throw badRequest(`Invalid "${syntax.name}": ${error.message}`);
      throw error;
    }
  });
}
