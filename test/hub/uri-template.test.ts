import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileUriTemplate,
  expandUriTemplate,
  MAX_TEMPLATE_LENGTH,
  type UriTemplateMatcher,
  type UriTemplateValue,
} from '../../src/hub/uri-template/index.js';

function compile(template: string): UriTemplateMatcher {
  const matcher = compileUriTemplate(template);
  if (matcher === undefined) throw new Error(`expected ${JSON.stringify(template)} to compile`);
  return matcher;
}

/** Asserts which values `template` matches and which it does not, naming the first that disagrees. */
function expectMatches(template: string, matching: readonly string[], notMatching: readonly string[]): void {
  const matcher = compile(template);
  for (const value of matching)
    expect([template, value, matcher.matches(value)]).toEqual([template, value, true]);
  for (const value of notMatching) {
    expect([template, value, matcher.matches(value)]).toEqual([template, value, false]);
  }
}

// RFC 6570 section 3.2: the variables of its examples, and each example with its expansion.
const RFC_VARIABLES: Record<string, UriTemplateValue> = {
  count: ['one', 'two', 'three'],
  dom: ['example', 'com'],
  dub: 'me/too',
  hello: 'Hello World!',
  half: '50%',
  var: 'value',
  who: 'fred',
  base: 'http://example.com/home/',
  path: '/foo/bar',
  list: ['red', 'green', 'blue'],
  keys: { semi: ';', dot: '.', comma: ',' },
  v: '6',
  x: '1024',
  y: '768',
  empty: '',
  empty_keys: {},
  undef: undefined,
};

const RFC_EXAMPLES: readonly [template: string, expansion: string][] = [
  // 3.2.1 Variable expansion
  ['{count}', 'one,two,three'],
  ['{count*}', 'one,two,three'],
  ['{/count}', '/one,two,three'],
  ['{/count*}', '/one/two/three'],
  ['{;count}', ';count=one,two,three'],
  ['{;count*}', ';count=one;count=two;count=three'],
  ['{?count}', '?count=one,two,three'],
  ['{?count*}', '?count=one&count=two&count=three'],
  ['{&count*}', '&count=one&count=two&count=three'],
  // 3.2.2 Simple string expansion
  ['{var}', 'value'],
  ['{hello}', 'Hello%20World%21'],
  ['{half}', '50%25'],
  ['O{empty}X', 'OX'],
  ['O{undef}X', 'OX'],
  ['{x,y}', '1024,768'],
  ['{x,hello,y}', '1024,Hello%20World%21,768'],
  ['?{x,empty}', '?1024,'],
  ['?{x,undef}', '?1024'],
  ['?{undef,y}', '?768'],
  ['{var:3}', 'val'],
  ['{var:30}', 'value'],
  ['{list}', 'red,green,blue'],
  ['{list*}', 'red,green,blue'],
  ['{keys}', 'semi,%3B,dot,.,comma,%2C'],
  ['{keys*}', 'semi=%3B,dot=.,comma=%2C'],
  // 3.2.3 Reserved expansion
  ['{+var}', 'value'],
  ['{+hello}', 'Hello%20World!'],
  ['{+half}', '50%25'],
  ['{base}index', 'http%3A%2F%2Fexample.com%2Fhome%2Findex'],
  ['{+base}index', 'http://example.com/home/index'],
  ['O{+empty}X', 'OX'],
  ['O{+undef}X', 'OX'],
  ['{+path}/here', '/foo/bar/here'],
  ['here?ref={+path}', 'here?ref=/foo/bar'],
  ['up{+path}{var}/here', 'up/foo/barvalue/here'],
  ['{+x,hello,y}', '1024,Hello%20World!,768'],
  ['{+path,x}/here', '/foo/bar,1024/here'],
  ['{+path:6}/here', '/foo/b/here'],
  ['{+list}', 'red,green,blue'],
  ['{+list*}', 'red,green,blue'],
  ['{+keys}', 'semi,;,dot,.,comma,,'],
  ['{+keys*}', 'semi=;,dot=.,comma=,'],
  // 3.2.4 Fragment expansion
  ['{#var}', '#value'],
  ['{#hello}', '#Hello%20World!'],
  ['{#half}', '#50%25'],
  ['foo{#empty}', 'foo#'],
  ['foo{#undef}', 'foo'],
  ['{#x,hello,y}', '#1024,Hello%20World!,768'],
  ['{#path,x}/here', '#/foo/bar,1024/here'],
  ['{#path:6}/here', '#/foo/b/here'],
  ['{#list}', '#red,green,blue'],
  ['{#list*}', '#red,green,blue'],
  ['{#keys}', '#semi,;,dot,.,comma,,'],
  ['{#keys*}', '#semi=;,dot=.,comma=,'],
  // 3.2.5 Label expansion with dot-prefix
  ['{.who}', '.fred'],
  ['{.who,who}', '.fred.fred'],
  ['{.half,who}', '.50%25.fred'],
  ['www{.dom*}', 'www.example.com'],
  ['X{.var}', 'X.value'],
  ['X{.empty}', 'X.'],
  ['X{.undef}', 'X'],
  ['X{.var:3}', 'X.val'],
  ['X{.list}', 'X.red,green,blue'],
  ['X{.list*}', 'X.red.green.blue'],
  ['X{.keys}', 'X.semi,%3B,dot,.,comma,%2C'],
  ['X{.keys*}', 'X.semi=%3B.dot=..comma=%2C'],
  ['X{.empty_keys}', 'X'],
  ['X{.empty_keys*}', 'X'],
  // 3.2.6 Path segment expansion
  ['{/who}', '/fred'],
  ['{/who,who}', '/fred/fred'],
  ['{/half,who}', '/50%25/fred'],
  ['{/who,dub}', '/fred/me%2Ftoo'],
  ['{/var}', '/value'],
  ['{/var,empty}', '/value/'],
  ['{/var,undef}', '/value'],
  ['{/var,x}/here', '/value/1024/here'],
  ['{/var:1,var}', '/v/value'],
  ['{/list}', '/red,green,blue'],
  ['{/list*}', '/red/green/blue'],
  ['{/list*,path:4}', '/red/green/blue/%2Ffoo'],
  ['{/keys}', '/semi,%3B,dot,.,comma,%2C'],
  ['{/keys*}', '/semi=%3B/dot=./comma=%2C'],
  // 3.2.7 Path-style parameter expansion
  ['{;who}', ';who=fred'],
  ['{;half}', ';half=50%25'],
  ['{;empty}', ';empty'],
  ['{;v,empty,who}', ';v=6;empty;who=fred'],
  ['{;v,bar,who}', ';v=6;who=fred'],
  ['{;x,y}', ';x=1024;y=768'],
  ['{;x,y,empty}', ';x=1024;y=768;empty'],
  ['{;x,y,undef}', ';x=1024;y=768'],
  ['{;hello:5}', ';hello=Hello'],
  ['{;list}', ';list=red,green,blue'],
  ['{;list*}', ';list=red;list=green;list=blue'],
  ['{;keys}', ';keys=semi,%3B,dot,.,comma,%2C'],
  ['{;keys*}', ';semi=%3B;dot=.;comma=%2C'],
  // 3.2.8 Form-style query expansion
  ['{?who}', '?who=fred'],
  ['{?half}', '?half=50%25'],
  ['{?x,y}', '?x=1024&y=768'],
  ['{?x,y,empty}', '?x=1024&y=768&empty='],
  ['{?x,y,undef}', '?x=1024&y=768'],
  ['{?var:3}', '?var=val'],
  ['{?list}', '?list=red,green,blue'],
  ['{?list*}', '?list=red&list=green&list=blue'],
  ['{?keys}', '?keys=semi,%3B,dot,.,comma,%2C'],
  ['{?keys*}', '?semi=%3B&dot=.&comma=%2C'],
  // 3.2.9 Form-style query continuation
  ['{&who}', '&who=fred'],
  ['{&half}', '&half=50%25'],
  ['?fixed=yes{&x}', '?fixed=yes&x=1024'],
  ['{&x,y,empty}', '&x=1024&y=768&empty='],
  ['{&var:3}', '&var=val'],
  ['{&list}', '&list=red,green,blue'],
  ['{&list*}', '&list=red&list=green&list=blue'],
  ['{&keys}', '&keys=semi,%3B,dot,.,comma,%2C'],
  ['{&keys*}', '&semi=%3B&dot=.&comma=%2C'],
];

describe('expandUriTemplate', () => {
  it.each(RFC_EXAMPLES)('expands %s as RFC 6570 section 3.2 does', (template, expansion) => {
    expect(expandUriTemplate(template, RFC_VARIABLES)).toBe(expansion);
  });

  it('builds the Mercure subscription URL with the topic and subscriber pct-encoded', () => {
    expect(
      expandUriTemplate('/.well-known/mercure/subscriptions/{topic}/{subscriber}', {
        topic: 'https://example.com/books/1',
        subscriber: 'urn:uuid:bb3de268-05b0-4c65-b44e-8f9acefc29d6',
      }),
    ).toBe(
      '/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com%2Fbooks%2F1/urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6',
    );
  });

  it('encodes non-ASCII as UTF-8 with uppercase hex, and a lone surrogate as U+FFFD', () => {
    expect(expandUriTemplate('{x}', { x: 'é😀' })).toBe('%C3%A9%F0%9F%98%80');
    expect(expandUriTemplate('{+x}', { x: 'é/' })).toBe('%C3%A9/');
    expect(expandUriTemplate('{x}', { x: 'a\uD800b' })).toBe('a%EF%BF%BDb');
  });

  it('passes pct-encoded triplets through in {+x} and {#x} only, and encodes a bare %', () => {
    expect(expandUriTemplate('{+x}', { x: '%2Fa%zz%' })).toBe('%2Fa%25zz%25');
    expect(expandUriTemplate('{#x}', { x: '%2f' })).toBe('#%2f');
    expect(expandUriTemplate('{x}', { x: '%2F' })).toBe('%252F');
  });

  it('counts a prefix in code points, not UTF-16 units', () => {
    expect(expandUriTemplate('{x:2}', { x: '😀😀😀' })).toBe('%F0%9F%98%80%F0%9F%98%80');
  });

  it('reads only own properties of the variables, and keeps a plain string as it is', () => {
    expect(expandUriTemplate('a{constructor}b{toString}', {})).toBe('ab');
    expect(expandUriTemplate('https://example.com/books/1', {})).toBe('https://example.com/books/1');
  });

  it('throws a TypeError for an invalid template, and for a prefix of a list or an associative array', () => {
    expect(() => expandUriTemplate('{x', {})).toThrow(TypeError);
    expect(() => expandUriTemplate('{x:2}', { x: ['a'] })).toThrow(TypeError);
    expect(() => expandUriTemplate('{x:2}', { x: { a: 'b' } })).toThrow(TypeError);
  });
});

describe('compileUriTemplate: what matches', () => {
  it.each(RFC_EXAMPLES)('matches the RFC 6570 expansion of %s', (template, expansion) => {
    expect(compile(template).matches(expansion)).toBe(true);
  });

  it('keeps the template it was compiled from', () => {
    expect(compile('https://example.com/books/{id}').template).toBe('https://example.com/books/{id}');
  });

  it('{var}: unreserved characters, pct-encoded triplets and commas, nothing reserved', () => {
    expectMatches(
      'https://example.com/books/{id}',
      [
        'https://example.com/books/1',
        'https://example.com/books/',
        'https://example.com/books/Hello%20World%21',
        'https://example.com/books/50%25',
        'https://example.com/books/%2f%3A',
        'https://example.com/books/a,b',
        'https://example.com/books/-._~',
      ],
      [
        'https://example.com/books/1/chapters',
        'https://example.com/authors/1',
        'https://example.com/books',
        'https://example.com/books/1?x',
        'https://example.com/books/1#x',
        'https://example.com/books/a:b',
        'https://example.com/books/a=b',
        'https://example.com/books/a;b',
        'https://example.com/books/a b',
        'https://example.com/books/50%',
        'https://example.com/books/%2',
        'https://example.com/books/%zz',
        'http://example.com/books/1',
        '',
      ],
    );
  });

  it('{var*}: a list joined with commas, or key=value pairs, not a mix', () => {
    expectMatches('{x*}', ['a,b', 'a=1,b=2', 'a=,=b', 'a'], ['a=1,b', 'a==1', 'a=1=2']);
  });

  it('{+var} and {#var}: reserved characters too, but still no space, quote or brace', () => {
    expectMatches(
      '{+path}/here',
      ['/foo/bar/here', '/here', "a:b?c#d[]@!$&'()*+,;=/here", 'Hello%20World!/here'],
      ['/foo/bar', '/foo bar/here', '/a"b/here', '/a<b/here', '/a{b/here', '/a|b/here', '/50%/here'],
    );
    expectMatches(
      '{#frag}',
      ['', '#', '#/foo,bar', '#a#b?c=d'],
      ['foo', '# ', '#%', '#a\\b', '#a^b', '#a`b'],
    );
  });

  it('{.var}: a dot and unreserved characters, which include the dot', () => {
    expectMatches('X{.var}', ['X', 'X.', 'X.fred', 'X.a.b', 'X.50%25'], ['Xfred', 'X.a/b', 'X..%', 'Y.fred']);
    expectMatches('www{.dom*}', ['www.example.com', 'www.a=1.b=2', 'www.a=1.b'], ['www.a=b=c', 'www.a=1/b']);
  });

  it('{/var}: one segment per variable, none for an undefined one', () => {
    expectMatches('{/var}', ['', '/', '/value', '/a,b', '/a%2Fb'], ['value', '//', '/a/b']);
    expectMatches('{/var,x}/here', ['/here', '/a/here', '/a/b/here', '///here'], ['/a/b/c/here', 'a/here']);
    expectMatches('{/list*}', ['/a/b/c', '/a=1/b=2', '/a'], ['/a=1/b', '/a,b', '/a=1,b=2']);
  });

  it('{;var}: name, or name=value; each parameter at most once and in order', () => {
    expectMatches(
      '{;x,y}',
      ['', ';x', ';x=', ';x=1', ';y=2', ';x=1;y=2', ';x;y', ';x=1,2'],
      [';y=2;x=1', ';z=1', ';x=1;x=2', ';x=1;', 'x=1', ';x=a;b', ';x=a/b'],
    );
    expectMatches('{;list*}', [';list=red;list=green', ';a=1;b', ';a'], [';a=', ';=', 'a=1', ';a=b=c']);
  });

  it('{?var} and {&var}: name=value, a subset of the parameters in the template order', () => {
    expectMatches(
      'https://example.com/search{?q,page}',
      [
        'https://example.com/search',
        'https://example.com/search?q=',
        'https://example.com/search?q=books',
        'https://example.com/search?page=2',
        'https://example.com/search?q=a%26b&page=2',
        'https://example.com/search?q=a,b',
      ],
      [
        'https://example.com/search?page=2&q=books',
        'https://example.com/search?q',
        'https://example.com/search?q=a&b',
        'https://example.com/search?q=books&',
        'https://example.com/search?x=1',
        'https://example.com/search&q=1',
        'https://example.com/search?q=a?b',
      ],
    );
    expectMatches('?fixed=yes{&x}', ['?fixed=yes', '?fixed=yes&x=1024'], ['?fixed=no&x=1', '?fixed=yes?x=1']);
    expectMatches('{?k*}', ['', '?a=1&b=2', '?k=1&k=', '?a='], ['?a', '?a=1&b', '?a=1&&b=2', '&a=1']);
  });

  it('a prefix {var:n} takes at most n code points, a pct-encoded UTF-8 character counting once', () => {
    expectMatches(
      '{var:3}',
      ['', 'val', 'ééé', '%C3%A9%C3%A9%C3%A9', '%F0%9F%98%80ab', '%41%42%43', '%e2%82%ac'],
      ['valu', 'éééé', '%C3%A9%C3%A9%C3%A9a', '%80', '%C3', '%C3%A9%A9', '%E2%82', '%41%42%43%44', 'a,b'],
    );
    // In {+x} a triplet can come from the value as it is, and then counts as its three characters.
    expectMatches('{+var:3}', ['%80', '/a/', '%C3%A9a/'], ['%80a', 'a/bc', '%80%80']);
    expectMatches('{;x:2}', [';x', ';x=ab'], [';x=', ';x=abc']);
    expectMatches('{?x:2}', ['?x=', '?x=ab'], ['?x', '?x=abc']);
    expectMatches('{/var:1,var}', ['/v/value', '/v', '/value'], ['/va/value', '/v/a/b']);
  });

  it('accepts non-ASCII characters unencoded where the value could carry them pct-encoded', () => {
    expectMatches(
      'https://example.com/livres/{id}',
      [
        'https://example.com/livres/café',
        'https://example.com/livres/caf%C3%A9',
        'https://example.com/livres/😀',
      ],
      [
        'https://example.com/livres/\u0085',
        'https://example.com/livres/\uFFFE',
        'https://example.com/livres/\uE000',
        'https://example.com/livres/a\uD800',
      ],
    );
    expectMatches('{+x}', ['\uE000', 'é/'], ['\u0080', '\uDC00']);
    expectMatches(
      'https://example.com/ö/{id}',
      ['https://example.com/ö/1'],
      ['https://example.com/%C3%B6/1'],
    );
  });

  it('compares literals exactly, pct-encoded triplets and regex metacharacters included', () => {
    expectMatches(
      'https://example.com/a.b+c(d)?[e]/{id}',
      ['https://example.com/a.b+c(d)?[e]/1'],
      [
        'https://example.com/aXb+c(d)?[e]/1',
        'https://example.com/a.bbc(d)?[e]/1',
        'https://example.com/a.b+cd/1',
        'https://example.com/a.b+c(d)[e]/1',
        'https://example.com/a.b+c(d)?e/1',
      ],
    );
    expectMatches(
      'https://example.com/a%2Fb/{id}',
      ['https://example.com/a%2Fb/1'],
      ['https://example.com/a%2fb/1', 'https://example.com/a/b/1'],
    );
    expectMatches('$*+.(){x}[]', ['$*+.()a[]', '$*+.()[]'], ['x*+.()a[]', '$*+.()a', '$*+.()a[]]']);
  });

  it('matches expressions next to each other and repeated literals', () => {
    expectMatches('{a}{b}', ['', 'ab', 'a,b'], ['a/b']);
    expectMatches('{a}-{b}-{c}', ['--', '1-2-3', '1-2-3-4', 'a--b-'], ['1-2', '1/2-3-4']);
    expectMatches('x{/a}x{/b}x', ['xxx', 'x/xx/xx', 'x/xx/x', 'xx/x'], ['xx', 'x/x/x/xx', '/xxx']);
  });
});

describe('compileUriTemplate: the Mercure cases', () => {
  it('matches a book topic, and neither its chapters nor an author', () => {
    const selector = compile('https://example.com/books/{id}');
    expect(selector.matches('https://example.com/books/1')).toBe(true);
    expect(selector.matches('https://example.com/books/1/chapters')).toBe(false);
    expect(selector.matches('https://example.com/authors/1')).toBe(false);
  });

  it('matches a topic carried in a query parameter', () => {
    const selector = compile('https://example.com/users/foo/{?topic}');
    expect(
      selector.matches('https://example.com/users/foo/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1'),
    ).toBe(true);
    expect(selector.matches('https://example.com/users/foo/?topic=https://example.com/books/1')).toBe(false);
  });

  it('matches subscription resources, whose topic and subscriber are pct-encoded', () => {
    const selector = compile('/.well-known/mercure/subscriptions/{topic}/{subscriber}');
    expect(
      selector.matches(
        '/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com%2Fbooks%2F1/urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6',
      ),
    ).toBe(true);
    expect(
      selector.matches('/.well-known/mercure/subscriptions/https://example.com/books/1/urn:uuid:1'),
    ).toBe(false);
    const expanded = expandUriTemplate(selector.template, {
      topic: 'https://example.com/books/1?a=b&c#d',
      subscriber: 'urn:uuid:1',
    });
    expect(selector.matches(expanded)).toBe(true);
  });

  it('matches random strings as the conformance tests publish them', () => {
    const selector = compile('https://example.net/foo/{random}');
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_~.-]{0,64}$/), (random) => {
        expect(selector.matches(`https://example.net/foo/${random}`)).toBe(true);
      }),
    );
    expect(selector.matches('https://example.net/foo/0.6254297185485405')).toBe(true);
    expect(selector.matches('https://example.net/foo/bar/baz')).toBe(false);
  });
});

describe('compileUriTemplate: what is refused', () => {
  it.each([
    '{',
    '}',
    '{{a}}',
    'a{b',
    'a}b',
    '{a}}',
    '{}',
    '{+}',
    '{=a}',
    '{,a}',
    '{a,}',
    '{a,,b}',
    '{!a}',
    '{@a}',
    '{|a}',
    '{a b}',
    '{a-b}',
    '{é}',
    '{a:0}',
    '{a:01}',
    '{a:10000}',
    '{a:}',
    '{a:3*}',
    '{a*:3}',
    '{a**}',
    '{.a.}',
    '{a..b}',
    '{.}',
    '{%}',
    '{a%zz}',
    'a%zz{b}',
    'a%2{b}',
    'a{b}%',
    'a b{c}',
    "it's/{id}",
    '<{a}>',
    '{a}\\',
    '{a}^',
    '{a}`',
    '{a}|',
    '{a}"',
    '\u0000{a}',
    '\u0085{a}',
    '\uD800{a}',
  ])('refuses the invalid template %j', (template) => {
    expect(compileUriTemplate(template)).toBeUndefined();
  });

  it.each([
    '{a%20b}',
    '{a.b}',
    '{_}',
    '{a:9999}',
    '{a:1}',
    '{A9_z}',
    'é{a}',
    '\uE000{+a}',
    '{a}{b}',
    '{?a*,b:2,c}',
  ])('accepts the valid template %j', (template) => {
    expect(compileUriTemplate(template)).toBeDefined();
  });

  it.each(['', 'https://example.com/books/1', '*', 'urn:uuid:1234', 'a%2Fb'])(
    'leaves the plain string %j to exact comparison',
    (template) => {
      expect(compileUriTemplate(template)).toBeUndefined();
    },
  );

  it(`refuses templates longer than MAX_TEMPLATE_LENGTH (${MAX_TEMPLATE_LENGTH})`, () => {
    const prefix = 'https://example.com/';
    const longest = `${prefix}${'a'.repeat(MAX_TEMPLATE_LENGTH - prefix.length - 4)}{id}`;
    expect(longest).toHaveLength(MAX_TEMPLATE_LENGTH);
    expect(compileUriTemplate(longest)?.matches(`${longest.slice(0, -4)}1`)).toBe(true);
    expect(compileUriTemplate(`a${longest}`)).toBeUndefined();
  });

  it('never throws, whatever the template and the value', () => {
    const templateChars = fc.constantFrom(...'{}+#./;?&,*:=!@|%aZ09_- é\uD800\u0000'.split(''));
    fc.assert(
      fc.property(
        fc.string({ unit: templateChars, maxLength: 16 }),
        fc.string({ unit: 'binary' }),
        (t, value) => {
          const matcher = compileUriTemplate(t);
          if (matcher !== undefined) expect(typeof matcher.matches(value)).toBe('boolean');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('compileUriTemplate: adversarial values finish', () => {
  // None of these asserts a speed: a matcher that backtracked would not return, and the test would time out.
  const long = 100_000;

  it.each([
    ['{a}{b}{c}{d}{e}{f}{g}{h}', 'a'.repeat(long), true],
    ['{a}{b}{c}{d}{e}{f}{g}{h}', `${'a'.repeat(long)}/`, false],
    ['{a}x{b}x{c}x{d}', `${'x'.repeat(long)}/`, false],
    ['{/a*,b*,c*}', `${'/'.repeat(long)}?`, false],
    ['{/a*,b*,c*}', '/a=1'.repeat(long / 4), true],
    ['{.a*}{.b*}{.c}', `${'.'.repeat(long)}!`, false],
    ['{?a*}{&b*}', `?${'a=&'.repeat(long / 3)}#`, false],
    ['{;a*,b*}', `${';a'.repeat(long / 2)}=`, false],
    ['{+a}{+b}{#c}', `${':/?#'.repeat(long / 4)} `, false],
    ['{+a}{+b}{#c}', ':/?#'.repeat(long / 4), true],
    ['{a,b,c,d}', `${'%2'.repeat(long / 2)}`, false],
    ['{a:9999}{b:9999}{c:9999}', 'a'.repeat(3 * 9999), true],
    ['{a:9999}{b:9999}{c:9999}', 'a'.repeat(3 * 9999 + 1), false],
    ['{+a:9999}', '%80'.repeat(3333), true],
    ['{+a:9999}', '%80'.repeat(3334), false],
    ['{a:9999}', '%C3%A9'.repeat(9999), true],
  ] as const)('%s on %#', (template, value, expected) => {
    const matcher = compile(template);
    expect(matcher.matches(value)).toBe(expected);
    expect(matcher.matches(value)).toBe(expected);
  });

  it('finishes on the largest template with the most variables', () => {
    const names = Array.from({ length: 600 }, (_, i) => `v${i.toString(36)}*`);
    let template = '{/';
    for (const name of names) {
      if (template.length + name.length + 2 > MAX_TEMPLATE_LENGTH) break;
      template += `${template === '{/' ? '' : ','}${name}`;
    }
    template += '}';
    const matcher = compile(template);
    expect(matcher.matches('/a=1'.repeat(1000))).toBe(true);
    expect(matcher.matches(`${'/a=1'.repeat(1000)}?`)).toBe(false);
  });
});

describe('compileUriTemplate: properties', () => {
  const OPERATORS = ['', '+', '#', '.', '/', ';', '?', '&'] as const;
  // Characters a value may hold, heavy on the ones that are delimiters somewhere.
  const valueChar = fc.oneof(
    fc.constantFrom(...':/?#[]@!$&\'()*+,;=%-._~ {}"<>\\^`|'.split(''), 'é', '😀', '%41', '%zz', '\uD800'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  const text = fc.string({ unit: valueChar, maxLength: 8 });
  const literal = fc.string({
    unit: fc.constantFrom(...'abc/?#&=,;.:-_~()+*!$@[]é%2F'.split('')),
    maxLength: 4,
  });
  const literalText = literal.map((raw) => raw.replace(/%(?![0-9A-F]{2})/g, 'x'));

  interface VarShape {
    readonly modifier: '' | '*' | `:${number}`;
    readonly value: UriTemplateValue;
  }
  const varShape: fc.Arbitrary<VarShape> = fc.oneof(
    fc.record({
      modifier: fc.constantFrom('' as const, '*' as const),
      value: fc.oneof(
        fc.constant(undefined),
        text,
        fc.array(text, { maxLength: 3 }),
        fc.dictionary(text, text, { maxKeys: 3 }),
      ),
    }),
    fc.record({
      modifier: fc.integer({ min: 1, max: 6 }).map((n) => `:${n}` as const),
      value: fc.option(text, { nil: undefined }),
    }),
  );
  const expression = fc.record({
    operator: fc.constantFrom(...OPERATORS),
    variables: fc.array(varShape, { minLength: 1, maxLength: 3 }),
  });
  const templateWithValues = fc
    .tuple(literalText, fc.array(fc.tuple(expression, literalText), { minLength: 1, maxLength: 3 }))
    .map(([head, rest]) => {
      let template = head;
      const variables: Record<string, UriTemplateValue> = {};
      let index = 0;
      for (const [{ operator, variables: shapes }, tail] of rest) {
        const specs = shapes.map(({ modifier, value }) => {
          // Distinct names, some with a dot or a pct-encoded triplet as the varname grammar allows.
          const name = [`v${index}`, `v.${index}`, `v%41${index}`][index % 3] ?? `v${index}`;
          index += 1;
          variables[name] = value;
          return name + modifier;
        });
        template += `{${operator}${specs.join(',')}}${tail}`;
      }
      return { template, variables };
    });

  it('matches every expansion of random templates with random values', () => {
    fc.assert(
      fc.property(templateWithValues, ({ template, variables }) => {
        const expansion = expandUriTemplate(template, variables);
        expect(compile(template).matches(expansion)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('misses an expansion once a character that no literal or value may hold is put into it', () => {
    fc.assert(
      fc.property(
        templateWithValues,
        fc.constantFrom(' ', '"', '<', '\\', '^', '|', '\u0085'),
        (sample, bad) => {
          const expansion = expandUriTemplate(sample.template, sample.variables);
          const at = Math.floor(expansion.length / 2);
          expect(compile(sample.template).matches(expansion.slice(0, at) + bad + expansion.slice(at))).toBe(
            false,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  // Independent statements of three languages, as regular expressions without ambiguity (every `*` is
  // followed by a character it cannot match), checked against the matcher on arbitrary strings.
  const ucschar = [
    '\\u{A0}-\\u{D7FF}\\u{F900}-\\u{FDCF}\\u{FDF0}-\\u{FFEF}',
    ...Array.from(
      { length: 13 },
      (_, i) => `\\u{${(i + 1).toString(16)}0000}-\\u{${(i + 1).toString(16)}FFFD}`,
    ),
    '\\u{E1000}-\\u{EFFFD}',
  ].join('');
  const item = `(?:[A-Za-z0-9\\-._~,${ucschar}]|%[0-9A-Fa-f]{2})*`;
  const oracles: readonly [template: string, language: RegExp][] = [
    ['https://example.com/books/{id}', new RegExp(`^https://example\\.com/books/${item}$`, 'u')],
    ['{/a,b}', new RegExp(`^(?:/${item}(?:/${item})?)?$`, 'u')],
    ['{?x,y}', new RegExp(`^(?:\\?(?:x=${item}(?:&y=${item})?|y=${item}))?$`, 'u')],
  ];
  const nearMiss = fc.string({
    unit: fc.oneof(
      fc.constantFrom(...'/?&=xy,%2Fa-é'.split(''), '%2F', '%zz', 'https://example.com/books/'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  });

  it.each(oracles)('agrees with a reference definition of %s on arbitrary strings', (template, language) => {
    const matcher = compile(template);
    fc.assert(
      fc.property(nearMiss, (suffix) => {
        const value = template.startsWith('https:') ? `https://example.com/books/${suffix}` : suffix;
        expect(matcher.matches(value)).toBe(language.test(value));
      }),
      { numRuns: 3000 },
    );
  });
});
