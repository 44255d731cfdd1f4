// The `urlpattern` matcher type: the cases of Mercure draft-08 §"URL Pattern", the patterns refused,
// the linear engine on patterns a backtracking engine cannot finish, and the engine checked against
// URL Pattern itself (the polyfill's `test`) on generated patterns and topics.
import fc from 'fast-check';
import { URLPattern } from 'urlpattern-polyfill/urlpattern';
import { describe, expect, it } from 'vitest';
import { LinearMatcher } from '../../../src/hub/selectors/linear-match.js';
import { compileUrlPattern, UrlPatternError } from '../../../src/hub/selectors/url-pattern.js';
import { parsePatternString } from '../../../src/hub/selectors/url-pattern-parts.js';

const HUB = 'https://hub.example.com/.well-known/mercure';

const matches = (pattern: string, topic: string) => compileUrlPattern(pattern, HUB).matches(topic);

describe('urlpattern matchers', () => {
  it('match absolute patterns as URL Pattern does: named groups take one segment', () => {
    expect(matches('https://example.com/books/:id', 'https://example.com/books/1')).toBe(true);
    expect(matches('https://example.com/books/:id', 'https://example.com/books/1/chapters')).toBe(false);
    expect(matches('https://example.com/books/:id', 'https://example.com/books/')).toBe(false);
    expect(matches('https://example.com/users/42/*', 'https://example.com/users/42/books/1')).toBe(true);
    expect(matches('https://example.com/users/42/*', 'https://example.com/users/43/books/1')).toBe(false);
  });

  it('resolve relative patterns and relative topics against the hub URL', () => {
    const events = '/.well-known/mercure/subscriptions/exact/:topic/:subscriber';
    const topic = '/.well-known/mercure/subscriptions/exact/https%3A%2F%2Fexample.com%2Fa/urn%3Auuid%3A1';
    expect(matches(events, topic)).toBe(true);
    expect(matches(events, `https://hub.example.com${topic}`)).toBe(true);
    // The same path on another host is another topic.
    expect(matches(events, `https://elsewhere.example${topic}`)).toBe(false);
  });

  it('never ignore case, but hosts compare case-insensitively as URLs do', () => {
    expect(matches('https://example.com/Books/:id', 'https://example.com/books/1')).toBe(false);
    expect(matches('https://example.com/books/:id', 'https://EXAMPLE.com/books/1')).toBe(true);
  });

  it('keep an empty first segment: "/" is not "//a"', () => {
    // The polyfill's own `test` says it is: it canonicalizes the input path "//a" as a URL whose host
    // is "a". The URL Pattern standard (and the native URLPattern) keep the path; so does the engine.
    expect(matches('https://example.com/', 'https://example.com//a')).toBe(false);
    expect(matches('https://example.com//:x', 'https://example.com//a')).toBe(true);
  });

  it('match no topic that is not a URL reference against the hub URL', () => {
    expect(matches('*://*', 'http://[not-a-host/')).toBe(false);
    expect(matches('https://example.com/*', 'https://example.com/a')).toBe(true);
  });

  it('cover search and hash only when the pattern leaves them open', () => {
    expect(matches('https://example.com/books/:id', 'https://example.com/books/1?page=2#top')).toBe(true);
    // (After `:id`, a `?` would be its modifier: the search starts after fixed text.)
    expect(matches('https://example.com/books/1?page=:n', 'https://example.com/books/1?page=2')).toBe(true);
    expect(matches('https://example.com/books/1?page=:n', 'https://example.com/books/1?size=2')).toBe(false);
  });

  it('refuse custom regexp groups, malformed patterns and programs past the state bound', () => {
    expect(() => compileUrlPattern('https://example.com/:id(\\d+)', HUB)).toThrow(/custom regexp groups/);
    expect(() => compileUrlPattern('https://example.com/(a+)+', HUB)).toThrow(UrlPatternError);
    expect(() => compileUrlPattern('https://example.com/{a', HUB)).toThrow(/not a URL Pattern/);
    expect(() => compileUrlPattern(`https://example.com/${':a-'.repeat(40)}`, HUB)).toThrow(UrlPatternError);
    const names = Array.from({ length: 20 }, (_, i) => `{:a${i}}?`).join('');
    expect(() => compileUrlPattern(`/${names}`, HUB, 50)).toThrow(/more than 50 states/);
  });

  it('finish where backtracking does not: nested repetitions on a long topic that fails at the end', () => {
    // V8's engine needs seconds for 30 characters of these; here each step costs at most the states.
    const long = 'a'.repeat(20_000);
    expect(matches('/{:x}+/z', `/${long}!/y`)).toBe(false);
    expect(matches('/{:x}+/z', `/${long}!/z`)).toBe(true);
    expect(matches('/{*}+/z', `/${long}/y`)).toBe(false);
    expect(matches('/*a*a*a*a/z', `/${long}/y`)).toBe(false);
    expect(matches('/*a*a*a*a/z', `/${long}/z`)).toBe(true);
  });

  it("compile a component to a program whose size follows the pattern's, not the input's", () => {
    // `:x+` repeats whole segments (each with its `/`); `{:x}+` repeats within one segment.
    const segments = new LinearMatcher(parsePatternString('/:x+/z', { delimiter: '/', prefixes: '/' }), '/');
    expect(segments.size).toBeLessThan(20);
    expect(segments.matches('/a/b/c/z')).toBe(true);
    expect(segments.matches('/a/b/c/')).toBe(false);
    const within = new LinearMatcher(parsePatternString('/{:x}+/z', { delimiter: '/', prefixes: '/' }), '/');
    expect(within.size).toBeLessThan(20);
    expect(within.matches('/abc/z')).toBe(true);
    expect(within.matches('/a/b/z')).toBe(false);
  });
});

describe('the linear engine against URL Pattern', () => {
  // Pieces of patterns and topics over a small alphabet, short enough for the backtracking engine.
  const pathPiece = fc.constantFrom(
    '/',
    'a',
    'b',
    '-',
    '.',
    ':x',
    ':y',
    '*',
    '{',
    '}',
    '?',
    '+',
    '{/:z}?',
    '{a}+',
    '{-:w}*',
    '\\*',
  );
  const topicPiece = fc.constantFrom('/', 'a', 'b', '-', '.', 'ab', '%41', '?', '#', '~');
  const pattern = fc.array(pathPiece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join(''));
  // Paths starting with "//" are left out: there the polyfill's `test` parts from the standard (see
  // above). So are queries starting with "?" (`/??`): the polyfill strips that second "?" too, and
  // matches `https://example.com/??` with the pattern `https://example.com/?`, whose search is "".
  const path = fc
    .array(topicPiece, { maxLength: 8 })
    .map((pieces) => `/${pieces.join('')}`)
    .filter((text) => !text.startsWith('//') && !text.includes('??'));

  // The polyfill has the standard's attribute; its type declarations lack it.
  const hasRegExpGroups = (pattern: URLPattern) =>
    (pattern as unknown as { hasRegExpGroups: boolean }).hasRegExpGroups;

  function reference(patternText: string, base: string): URLPattern | undefined {
    try {
      return new URLPattern(patternText, base);
    } catch {
      return undefined;
    }
  }

  it('agrees on pathnames, relative and absolute', () => {
    fc.assert(
      fc.property(
        pattern,
        fc.array(path, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (text, topics, absolute) => {
          const patternText = absolute
            ? `https://example.com${text.startsWith('/') ? '' : '/'}${text}`
            : text;
          const expected = reference(patternText, HUB);
          fc.pre(expected !== undefined && !hasRegExpGroups(expected));
          const mine = compileUrlPattern(patternText, HUB);
          for (const topic of topics) {
            const full = absolute ? `https://example.com${topic}` : topic;
            expect(mine.matches(full), `${patternText} against ${full}`).toBe(expected.test(full, HUB));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('agrees on hostnames, protocols and non-special schemes', () => {
    const hostPiece = fc.constantFrom('a', 'b', '.', ':h', '*', '{.:s}?', 'example');
    const host = fc.array(hostPiece, { minLength: 1, maxLength: 5 }).map((pieces) => pieces.join(''));
    const scheme = fc.constantFrom('https', 'http', '*', 'urn', 'foo');
    const topicHost = fc.constantFrom('a', 'a.b', 'b.example', 'example', 'a.b.example', 'ab');
    fc.assert(
      fc.property(
        scheme,
        host,
        path,
        fc.constantFrom('https', 'http', 'foo'),
        topicHost,
        path,
        (s, h, p, ts, th, tp) => {
          const patternText = `${s}://${h}${p}`;
          const expected = reference(patternText, HUB);
          fc.pre(expected !== undefined && !hasRegExpGroups(expected));
          const topic = `${ts}://${th}${tp}`;
          expect(compileUrlPattern(patternText, HUB).matches(topic), `${patternText} against ${topic}`).toBe(
            expected.test(topic, HUB),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
