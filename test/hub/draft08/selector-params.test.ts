// A subscription's selector parameters: draft-08 `match`/`match_exact`/`match_urlpattern` beside
// draft-07 `topic`, the reserved `match` namespace, the value constraints and limits, and the
// compiled selectors (the matcher type is part of a selector's identity).
import { describe, expect, it } from 'vitest';
import { HubError } from '../../../src/hub/errors.js';
import {
  compileSelectors,
  parseSelectorParams,
  type SelectorParamsOptions,
} from '../../../src/hub/selectors/selector-params.js';
import {
  MATCH_SYNTAX,
  SelectorCache,
  TOPIC_SYNTAX,
  URL_PATTERN_SYNTAX,
} from '../../../src/hub/topic-selector.js';
import { thrown } from './caught.js';

const HUB = 'https://hub.example.com/.well-known/mercure';
const OPTIONS: SelectorParamsOptions = { draft07: true, maxSelectors: 5, maxSelectorLength: 50 };

const query = (pairs: Array<[string, string]>) => new URLSearchParams(pairs).toString();
/** The selectors read, as [their parameter's syntax, their text]. */
const parse = (text: string, options = OPTIONS) =>
  parseSelectorParams(text, options).map(({ syntax, value }) => [syntax.name, value]);

const refusal = (text: string, options = OPTIONS) => thrown(HubError, () => parse(text, options));

describe('selector parameters', () => {
  it('read match (exact), match_exact, match_urlpattern and topic in one request, in order', () => {
    const text = query([
      ['match', 'https://example.com/{id}'],
      ['topic', 'https://example.com/{id}'],
      ['match_urlpattern', 'https://example.com/:id'],
      ['match_exact', 'plain'],
      ['other', 'ignored'],
    ]);
    expect(parse(text)).toEqual([
      ['match', 'https://example.com/{id}'],
      ['topic', 'https://example.com/{id}'],
      ['match_urlpattern', 'https://example.com/:id'],
      ['match', 'plain'],
    ]);
  });

  it('keep one of each (syntax, value): match and match_exact are one syntax', () => {
    const text = query([
      ['match', 'a'],
      ['match_exact', 'a'],
      ['topic', 'a'],
      ['match_urlpattern', 'a'],
    ]);
    expect(parse(text).map(([syntax]) => syntax)).toEqual(['match', 'topic', 'match_urlpattern']);
  });

  it('refuse with 400 every other name of the match namespace, whatever its case', () => {
    for (const name of ['match_regexp', 'Match', 'MATCH_EXACT', 'matches', 'match_', 'matchType']) {
      const error = refusal(query([[name, 'a']]));
      expect(error.status, name).toBe(400);
      expect(error.message).toContain(`Unknown matcher parameter "${name}"`);
    }
  });

  it('refuse matcher values that are empty, not UTF-8, or hold control or format characters', () => {
    expect(refusal('match=').message).toContain('needs a value');
    expect(refusal('match=%FF%FE').message).toContain('not UTF-8');
    expect(refusal(query([['match', 'a\u0000b']])).message).toContain('U+0000');
    expect(refusal(query([['match', 'a\u0085b']])).message).toContain('U+0085');
    expect(refusal(query([['match_urlpattern', 'a\u200Bb']])).message).toContain('U+200B');
    expect(refusal(query([['match', 'a\u202Eb']])).message).toContain('U+202E');
    // draft-07 topics keep their rules.
    expect(parse(query([['topic', 'a\u200Bb']]))).toEqual([['topic', 'a\u200Bb']]);
  });

  it('decode as application/x-www-form-urlencoded: + is a space, a stray % stays', () => {
    expect(parse('match=a+b%20c&match=100%&match=%e2%82%ac')).toEqual([
      ['match', 'a b c'],
      ['match', '100%'],
      ['match', '€'],
    ]);
  });

  it('bound the number and the length of selectors', () => {
    const many = query(
      Array.from({ length: 6 }, (_, i): [string, string] => [i % 2 ? 'match' : 'topic', `t${i}`]),
    );
    expect(refusal(many).message).toContain('Too many selector parameters (the limit is 5)');
    expect(refusal(query([['match_urlpattern', `/${'a'.repeat(50)}`]])).message).toContain('longer than 50');
  });

  it('ask for a selector when there is none, and ignore topic while draft-07 is off', () => {
    expect(refusal('').message).toContain('Missing selector');
    const off = { ...OPTIONS, draft07: false };
    expect(refusal('topic=a', off).message).toContain('draft-07 "topic" is turned off');
    expect(parse('topic=a&match=b', off)).toEqual([['match', 'b']]);
  });
});

describe('compiled selectors', () => {
  it('make match=…/{id} an exact string and topic=…/{id} a template', () => {
    const [exact, template] = compileSelectors(
      [
        { syntax: MATCH_SYNTAX, value: 'https://example.com/books/{id}' },
        { syntax: TOPIC_SYNTAX, value: 'https://example.com/books/{id}' },
      ],
      new SelectorCache(),
      HUB,
    );
    expect(exact?.matches('https://example.com/books/1')).toBe(false);
    expect(exact?.matches('https://example.com/books/{id}')).toBe(true);
    expect(template?.matches('https://example.com/books/1')).toBe(true);
    expect([exact?.type.name, template?.type.name]).toEqual(['exact', 'uri-template']);
    expect([exact?.syntax.matchType, template?.syntax.matchType]).toEqual(['exact', undefined]);
  });

  it('make * match every topic whatever the syntax: one wildcard selector', () => {
    const compiled = compileSelectors(
      [
        { syntax: MATCH_SYNTAX, value: '*' },
        { syntax: URL_PATTERN_SYNTAX, value: '*' },
        { syntax: TOPIC_SYNTAX, value: '*' },
      ],
      new SelectorCache(),
      HUB,
    );
    for (const selector of compiled)
      expect(selector.matches('urn:anything'), selector.syntax.name).toBe(true);
    expect(new Set(compiled.map(({ key }) => key)).size).toBe(1);
  });

  it('answer 400 for a match_urlpattern that is no URL Pattern the hub accepts', () => {
    const compile = (value: string) =>
      compileSelectors([{ syntax: URL_PATTERN_SYNTAX, value }], new SelectorCache(), HUB);
    expect(() => compile('https://example.com/:id(\\d+)')).toThrow(
      /Invalid "match_urlpattern".*custom regexp/,
    );
    expect(thrown(HubError, () => compile('https://example.com/{')).status).toBe(400);
  });

  it('share one compiled selector per (syntax, text, hub URL) for relative types, within a bound', () => {
    const cache = new SelectorCache(2);
    const first = cache.get('/books/:id', URL_PATTERN_SYNTAX, HUB);
    expect(cache.get('/books/:id', URL_PATTERN_SYNTAX, HUB)).toBe(first);
    const elsewhere = cache.get(
      '/books/:id',
      URL_PATTERN_SYNTAX,
      'https://other.example/.well-known/mercure',
    );
    expect(elsewhere).not.toBe(first);
    expect(elsewhere.key).not.toBe(first.key);
    expect(first.matches('https://hub.example.com/books/7')).toBe(true);
    expect(elsewhere.matches('https://hub.example.com/books/7')).toBe(false);
    // An exact selector is the same for every hub URL.
    expect(cache.get('/books/:id', MATCH_SYNTAX, HUB).key).toBe(cache.get('/books/:id', MATCH_SYNTAX).key);
    expect(cache.size).toBe(2);
  });
});
