// Subscribing with draft-08 selectors over HTTP, beside draft-07's: match (exact, never a template),
// match_exact, match_urlpattern (relative patterns and topics resolved against the hub's URL), the
// wildcard, the reserved match namespace and the value rules (400, before any token), private updates
// through access tokens' grants (routing never widens what a token reads), the index routing by
// matcher type, and reconciliation with last_event_id, answered with Mercure-Last-Event-ID.
//
// Where an update must NOT arrive, a sentinel the subscriber does match is published right after it:
// one stream delivers in publish order, so once the sentinel is in, the other would be in too.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/net.js';
import type { SseConnection } from '../../helpers/sse-client.js';
import { hubsClosedAfterEach, ids, send, sseClosedAfterEach, type TestHub } from '../hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const SENTINEL = 'https://example.com/sentinel';

/** Subscribes with these parameters (and the sentinel), anonymously unless a token is given. */
async function subscriber(
  h: TestHub,
  params: Array<[string, string]>,
  token?: string,
): Promise<SseConnection> {
  const connection = await openSse(h.selectUrl([...params, ['match', SENTINEL]]), {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  expect(connection.status).toBe(200);
  return connection;
}

/** Publishes each update, then the sentinel; resolves to the IDs the subscriber got, sentinel left out. */
async function received(
  h: TestHub,
  connection: SseConnection,
  updates: Array<Record<string, string | string[]>>,
): Promise<string[]> {
  const before = connection.events.length;
  for (const update of updates) expect((await h.publish(update)).status).toBe(200);
  const sentinel = `sentinel-${Math.random()}`;
  expect((await h.publish({ topic: SENTINEL, id: sentinel })).status).toBe(200);
  await waitFor(() => ids(connection).includes(sentinel), 5000, 'the sentinel');
  return ids(connection)
    .slice(before)
    .filter((id) => id !== sentinel);
}

describe('draft-08 selectors', () => {
  it('match is exact, byte for byte: a {variable} is text, never a template', async () => {
    const h = await startHub({ anonymous: true });
    const client = await subscriber(h, [['match', 'https://example.com/books/{id}']]);
    const got = await received(h, client, [
      { topic: 'https://example.com/books/1', id: 'expanded' },
      { topic: 'https://example.com/books/{id}', id: 'literal' },
      { topic: 'https://example.com/Books/{id}', id: 'other-case' },
    ]);
    expect(got).toEqual(['literal']);
  });

  it('match_exact is match; match=* and match_urlpattern=* match every topic', async () => {
    const h = await startHub({ anonymous: true });
    const exact = await subscriber(h, [['match_exact', 'urn:a']]);
    expect(
      await received(h, exact, [
        { topic: 'urn:a', id: 'a' },
        { topic: 'urn:b', id: 'b' },
      ]),
    ).toEqual(['a']);
    for (const name of ['match', 'match_urlpattern']) {
      const all = await subscriber(h, [[name, '*']]);
      expect(await received(h, all, [{ topic: 'urn:x', id: `${name}-x` }]), name).toEqual([`${name}-x`]);
    }
  });

  it('match_urlpattern matches URL Patterns, relative ones and relative topics resolved against the hub URL', async () => {
    const h = await startHub({ anonymous: true });
    const absolute = await subscriber(h, [['match_urlpattern', 'https://example.com/books/:id']]);
    expect(
      await received(h, absolute, [
        { topic: 'https://example.com/books/7', id: 'book' },
        { topic: 'https://example.com/books/7/reviews', id: 'deeper' },
        { topic: 'https://example.com/authors/1', id: 'author' },
        { topic: 'not a url at all', id: 'opaque' },
      ]),
    ).toEqual(['book']);
    const relative = await subscriber(h, [['match_urlpattern', '/books/:id']]);
    expect(
      await received(h, relative, [
        { topic: '/books/1', id: 'relative-topic' },
        { topic: `${h.url}/books/2`, id: 'this-hub' },
        { topic: 'https://elsewhere.example/books/3', id: 'elsewhere' },
      ]),
    ).toEqual(['relative-topic', 'this-hub']);
  });

  it('takes topic and match selectors in one request, and delivers an update once', async () => {
    const h = await startHub({ anonymous: true });
    const client = await subscriber(h, [
      ['topic', 'https://example.com/books/{id}'],
      ['match', 'https://example.com/books/1'],
      ['match_urlpattern', 'https://example.com/:kind/1'],
    ]);
    expect(await received(h, client, [{ topic: 'https://example.com/books/1', id: 'once' }])).toEqual([
      'once',
    ]);
  });

  it('routes by matcher type, never by text: match=/x/{id} and topic=/x/{id} are two selectors', async () => {
    const h = await startHub({ anonymous: true });
    const literal = await subscriber(h, [['match', '/x/{id}']]);
    const template = await subscriber(h, [['topic', '/x/{id}']]);
    await h.publish({ topic: '/x/1', id: 'one' });
    await h.publish({ topic: '/x/{id}', id: 'braces' });
    await h.publish({ topic: SENTINEL, id: 'end' });
    await literal.waitForEvents(2);
    await template.waitForEvents(3);
    expect(ids(literal)).toEqual(['braces', 'end']);
    expect(ids(template)).toEqual(['one', 'braces', 'end']);
    expect(h.hub.stats().topSelectors).toContainEqual({ selector: '/x/{id}', subscribers: 2 });
  });

  it.each<[string, string, string]>([
    ['an unknown matcher type', 'match_regexp=a', 'Unknown matcher parameter "match_regexp"'],
    ['the match namespace in another case', 'Match=a', 'Unknown matcher parameter "Match"'],
    ['a name that starts with match', 'matches=a', 'Unknown matcher parameter "matches"'],
    ['an empty matcher', 'match=', 'needs a value'],
    ['a control character', 'match=a%00b', 'U+0000'],
    ['a C1 control character', 'match=a%C2%85b', 'U+0085'],
    ['a format character', 'match_urlpattern=%2Fa%E2%80%8Bb', 'U+200B'],
    ['a value that is not UTF-8', 'match=%FF', 'not UTF-8'],
    ['a custom regexp group', `match_urlpattern=${encodeURIComponent('/books/:id(\\d+)')}`, 'custom regexp'],
    [
      'a malformed URL Pattern',
      `match_urlpattern=${encodeURIComponent('https://example.com/{')}`,
      'Invalid "match_urlpattern"',
    ],
    ['no selector', 'last_event_id=earliest', 'Missing selector'],
  ])('refuses %s with 400, before asking for a token', async (_name, query, message) => {
    const h = await startHub();
    const answer = await send(`${h.hubUrl}?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain(message);
    expect(answer.headers['www-authenticate']).toBeUndefined();
  });

  it('bounds the number of selectors and the length of each, whatever their parameter', async () => {
    const h = await startHub({ anonymous: true, maxTopics: 3, maxTopicLength: 30 });
    const many = await send(
      h.selectUrl([
        ['match', 'a'],
        ['topic', 'b'],
        ['match_urlpattern', '/c'],
        ['match', 'd'],
      ]),
    );
    expect([many.status, many.body]).toEqual([400, 'Too many selector parameters (the limit is 3).\n']);
    const long = await send(h.selectUrl([['match_urlpattern', `/${'a'.repeat(30)}`]]));
    expect([long.status, long.body]).toEqual([400, 'A selector is longer than 30 characters.\n']);
  });
});

describe('private updates through access tokens', () => {
  it('reach a subscriber whose token grants subscribe on a topic; routing never widens that', async () => {
    const h = await startHub();
    // The spec's example: listening to every book, allowed to read books 1 and 7.
    const token = await h.accessToken({
      subscribe: ['https://example.com/books/1', 'https://example.com/books/7', SENTINEL],
    });
    const client = await subscriber(h, [['match_urlpattern', 'https://example.com/books/:id']], token);
    const got = await received(h, client, [
      { topic: 'https://example.com/books/1', id: 'one', private: 'on' },
      { topic: 'https://example.com/books/2', id: 'two', private: 'on' },
      { topic: 'https://example.com/books/2', id: 'public-two' },
    ]);
    expect(got).toEqual(['one', 'public-two']);
  });

  it('reach it through an alternate topic its grant matches (the audience is the union)', async () => {
    const h = await startHub();
    const token = await h.accessToken({
      subscribe: [{ match: 'https://example.com/users/42/*', match_type: 'urlpattern' }, SENTINEL],
    });
    const client = await subscriber(h, [['match_urlpattern', 'https://example.com/books/:id']], token);
    const got = await received(h, client, [
      {
        topic: ['https://example.com/books/1', 'https://example.com/users/42/books/1'],
        id: 'mine',
        private: 'on',
      },
      {
        topic: ['https://example.com/books/1', 'https://example.com/users/43/books/1'],
        id: 'theirs',
        private: 'on',
      },
    ]);
    expect(got).toEqual(['mine']);
  });

  it('never reach a subscriber without a token, whatever it listens to', async () => {
    const h = await startHub({ anonymous: true });
    const client = await subscriber(h, [['match', '*']]);
    const got = await received(h, client, [{ topic: 'urn:secret', id: 'secret', private: 'on' }]);
    expect(got).toEqual([]);
  });
});

describe('reconciliation, both generations', () => {
  async function history(h: TestHub) {
    for (const id of ['h1', 'h2', 'h3']) await h.publish({ topic: 'urn:history', id });
  }

  it('replays after last_event_id and names the ID it replayed from in Mercure-Last-Event-ID and Last-Event-ID', async () => {
    const h = await startHub({ anonymous: true });
    await history(h);
    const client = await openSse(
      h.selectUrl([
        ['match', 'urn:history'],
        ['last_event_id', 'h1'],
      ]),
    );
    await client.waitForEvents(2);
    expect(ids(client)).toEqual(['h2', 'h3']);
    expect(client.headers['mercure-last-event-id']).toBe('h1');
    expect(client.headers['last-event-id']).toBe('h1');
  });

  it('lets the Last-Event-ID header win over last_event_id, and last_event_id over lastEventID', async () => {
    const h = await startHub({ anonymous: true });
    await history(h);
    const header = await openSse(
      h.selectUrl([
        ['match', 'urn:history'],
        ['last_event_id', 'h1'],
      ]),
      {
        headers: { 'last-event-id': 'h2' },
      },
    );
    await header.waitForEvents(1);
    expect([ids(header), header.headers['mercure-last-event-id']]).toEqual([['h3'], 'h2']);
    const both = await openSse(
      h.selectUrl([
        ['match', 'urn:history'],
        ['lastEventID', 'h1'],
        ['last_event_id', 'h2'],
      ]),
    );
    await both.waitForEvents(1);
    expect(ids(both)).toEqual(['h3']);
    const draft07 = await openSse(
      h.selectUrl([
        ['topic', 'urn:history'],
        ['lastEventID', 'h2'],
      ]),
    );
    await draft07.waitForEvents(1);
    expect([ids(draft07), draft07.headers['mercure-last-event-id']]).toEqual([['h3'], 'h2']);
  });

  it('answers earliest when the ID is not in the history, or earliest was asked', async () => {
    const h = await startHub({ anonymous: true });
    await history(h);
    for (const cursor of ['earliest', 'never-published']) {
      const client = await openSse(
        h.selectUrl([
          ['match', 'urn:history'],
          ['last_event_id', cursor],
        ]),
      );
      await client.waitForEvents(3);
      expect(ids(client), cursor).toEqual(['h1', 'h2', 'h3']);
      expect(client.headers['mercure-last-event-id'], cursor).toBe('earliest');
    }
    const live = await openSse(h.selectUrl([['match', 'urn:history']]));
    expect(live.headers['mercure-last-event-id']).toBeUndefined();
  });

  it('exposes both cursor headers to cross-origin subscribers', async () => {
    const h = await startHub({ anonymous: true, corsOrigins: ['https://app.example.com'] });
    const client = await openSse(
      h.selectUrl([
        ['match', 'urn:history'],
        ['last_event_id', 'earliest'],
      ]),
      {
        headers: { origin: 'https://app.example.com' },
      },
    );
    const exposed = String(client.headers['access-control-expose-headers']).toLowerCase().split(/, */);
    expect(exposed).toEqual(expect.arrayContaining(['last-event-id', 'mercure-last-event-id', 'link']));
  });
});
