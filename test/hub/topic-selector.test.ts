import { describe, expect, it } from 'vitest';
import { EXACT } from '../../src/hub/matchers/exact.js';
import { type MatcherType, SelectorError } from '../../src/hub/matchers/matcher.js';
import { Subscriber } from '../../src/hub/subscriber.js';
import { SubscriberIndex } from '../../src/hub/subscriber-index.js';
import {
  MATCH_SYNTAX,
  SelectorCache,
  type SelectorSyntax,
  TOPIC_SYNTAX,
} from '../../src/hub/topic-selector.js';
import { stored } from '../../src/hub/update.js';

/** A matcher type of this test only: the topics starting with the selector's text. */
const PREFIX: MatcherType = {
  name: 'prefix',
  indexing: 'scan',
  compile: (text) => (text.endsWith('/') ? (topic) => topic.startsWith(text) : undefined),
};
const PREFIX_SYNTAX: SelectorSyntax = { name: 'prefix', types: [PREFIX] };

let seq = 0;
/** An update as a store hands it to dispatch. */
function update(...topics: string[]) {
  seq++;
  return stored({ id: `u${seq}`, topics, data: '', type: undefined, retry: undefined, private: false }, seq);
}

function visited(index: SubscriberIndex, topics: string[]): string[] {
  const ids: string[] = [];
  index.forEachMatch(update(...topics), (subscriber) => ids.push(subscriber.id));
  return ids.sort();
}

describe('topic selectors: a matcher type and a text', () => {
  it('reads a draft-07 topic selector as a wildcard, a URI template, or an exact topic', () => {
    const cache = new SelectorCache();
    const types = ['*', '/books/{id}', '/books/1', '/books/{', ''].map((text) => cache.get(text).type.name);
    expect(types).toEqual(['wildcard', 'uri-template', 'exact', 'exact', 'exact']);
    const template = cache.get('/books/{id}');
    expect([
      template.matches('/books/7'),
      template.matches('/books/{id}'),
      template.matches('/authors/7'),
    ]).toEqual([true, true, false]);
    expect(cache.get('/books/{').matches('/books/{')).toBe(true);
    expect(cache.get('*').matches('anything at all')).toBe(true);
  });

  it('keeps one compiled selector per syntax and text; the same text in another syntax is another selector', () => {
    const cache = new SelectorCache();
    expect(cache.get('/books/{id}')).toBe(cache.get('/books/{id}', TOPIC_SYNTAX));
    const exact = cache.get('/books/{id}', MATCH_SYNTAX);
    expect(exact.type).toBe(EXACT);
    expect(exact.key).not.toBe(cache.get('/books/{id}').key);
    expect([exact.matches('/books/{id}'), exact.matches('/books/7')]).toEqual([true, false]);
    expect(cache.size).toBe(2);
  });

  it('refuses, saying which syntax, a text no type of its syntax reads', () => {
    const error = (() => {
      try {
        new SelectorCache().get('no-slash', PREFIX_SYNTAX);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(SelectorError);
    expect((error as SelectorError).message).toBe('"no-slash" is not a valid "prefix" selector.');
  });

  it('drops the least recently used selector past its capacity', () => {
    const cache = new SelectorCache(2);
    const first = cache.get('/a');
    cache.get('/b');
    cache.get('/a');
    cache.get('/c');
    expect(cache.size).toBe(2);
    expect(cache.get('/a')).toBe(first);
  });
});

describe('the subscriber index holds each selector as its matcher type says', () => {
  const cache = new SelectorCache();
  const subscriber = (id: string, ...selectors: Array<[string, SelectorSyntax?]>) =>
    new Subscriber(
      id,
      selectors.map(([text, syntax]) => cache.get(text, syntax)),
      undefined,
      '127.0.0.1',
    );

  it('visits each matching subscriber once, whatever number of its selectors and topics match', () => {
    const index = new SubscriberIndex();
    const members = [
      subscriber('all', ['*']),
      subscriber('template', ['/books/{id}']),
      subscriber('exact', ['/books/1']),
      subscriber('literal', ['/books/{id}', MATCH_SYNTAX]),
      subscriber('prefix', ['/books/', PREFIX_SYNTAX]),
      subscriber('several', ['/books/1'], ['/books/{id}'], ['/books/', PREFIX_SYNTAX]),
    ];
    for (const member of members) index.add(member);
    expect(index.size).toBe(6);
    expect(visited(index, ['/books/1', '/books/2'])).toEqual([
      'all',
      'exact',
      'prefix',
      'several',
      'template',
    ]);
    expect(visited(index, ['/books/{id}'])).toEqual(['all', 'literal', 'prefix', 'several', 'template']);
    expect(visited(index, ['/authors/1'])).toEqual(['all']);
    expect(index.selectorCounts()).toEqual(
      new Map([
        ['*', 1],
        ['/books/{id}', 3],
        ['/books/1', 2],
        ['/books/', 2],
      ]),
    );
    for (const member of members.slice(0, 3)) index.remove(member);
    expect(index.size).toBe(3);
    expect(visited(index, ['/books/1'])).toEqual(['prefix', 'several']);
    expect(index.selectorCounts().get('*')).toBeUndefined();
  });
});
