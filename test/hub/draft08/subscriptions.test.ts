// Active subscriptions in both generations' shapes on one hub: a match… subscription is announced as
// draft-08 says (event type mercure, plain JSON, /subscriptions/{match_type}/{match}/{subscriber},
// the payload of the first subscribe detail matching its matcher), a topic subscription as draft-07
// did (JSON-LD); the subscriptions API answers each token in its generation's shape.
import { describe, expect, it } from 'vitest';
import type { SseConnection } from '../../helpers/sse-client.js';
import { hubsClosedAfterEach, send, sseClosedAfterEach, type TestHub, token } from '../hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const NAMESPACE = { match: '/.well-known/mercure/subscriptions/*', match_type: 'urlpattern' as const };
const BOOK = 'https://example.com/books/1';
const PATTERN = 'https://example.com/books/:id';

/** RFC 6570 simple expansion of one variable: everything but unreserved characters percent-encoded. */
const expand = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const documents = (client: SseConnection) => client.events.map((event) => JSON.parse(event.data));

/** A watcher of every subscription event, draft-08 style: a URL Pattern over the namespace. */
async function watcher(h: TestHub): Promise<SseConnection> {
  const client = await openSse(h.selectUrl([['match_urlpattern', NAMESPACE.match]]), {
    headers: { authorization: `Bearer ${await h.accessToken({ subscribe: [NAMESPACE] })}` },
  });
  await client.waitForEvents(1);
  return client;
}

describe('subscription events, by the generation of each selector', () => {
  it('announce a match subscription as draft-08 does: type mercure, plain JSON, its own topic', async () => {
    const h = await startHub({ subscriptions: true });
    const watching = await watcher(h);
    const bearer = await h.accessToken({
      subscribe: [{ match: PATTERN, match_type: 'urlpattern' }],
      payload: { shelf: 'books' },
    });
    const subscriber = await openSse(
      h.selectUrl([
        ['match_urlpattern', PATTERN],
        ['match', BOOK],
      ]),
      {
        headers: { authorization: `Bearer ${bearer}` },
      },
    );
    await watching.waitForEvents(3);
    const [, pattern, exact] = watching.events;
    expect([pattern?.type, exact?.type]).toEqual(['mercure', 'mercure']);
    const id = (documents(watching)[1] as { subscriber: string }).subscriber;
    expect(documents(watching).slice(1)).toEqual([
      {
        id: `/.well-known/mercure/subscriptions/urlpattern/${expand(PATTERN)}/${expand(id)}`,
        type: 'subscription',
        match_type: 'urlpattern',
        match: PATTERN,
        subscriber: id,
        active: true,
        payload: { shelf: 'books' },
      },
      {
        id: `/.well-known/mercure/subscriptions/exact/${expand(BOOK)}/${expand(id)}`,
        type: 'subscription',
        match_type: 'exact',
        match: BOOK,
        subscriber: id,
        active: true,
        // The pattern grant matches the book read as a topic: the same detail, the same payload.
        payload: { shelf: 'books' },
      },
    ]);
    subscriber.close();
    await watching.waitForEvents(5);
    expect(
      documents(watching)
        .slice(3)
        .map(({ match, active }) => [match, active]),
    ).toEqual([
      [PATTERN, false],
      [BOOK, false],
    ]);
  });

  it('announce a topic subscription as draft-07 did, in JSON-LD, on the same hub', async () => {
    const h = await startHub({ subscriptions: true, anonymous: true });
    const watching = await watcher(h);
    const subscriber = await openSse(h.selectUrl([['topic', 'https://example.com/books/{id}']]));
    expect(subscriber.status).toBe(200);
    await watching.waitForEvents(2);
    const event = watching.events[1];
    expect(event?.type).toBe('message');
    expect(JSON.parse(event?.data ?? '{}')).toMatchObject({
      '@context': 'https://mercure.rocks/',
      type: 'Subscription',
      topic: 'https://example.com/books/{id}',
      active: true,
    });
  });

  it('are private: a subscriber whose token does not grant them gets none', async () => {
    const h = await startHub({ subscriptions: true, anonymous: true });
    const watching = await watcher(h);
    const nosy = await openSse(
      h.selectUrl([
        ['match_urlpattern', NAMESPACE.match],
        ['match', 'urn:sentinel'],
      ]),
    );
    await watching.waitForEvents(2);
    await h.publish({ topic: 'urn:sentinel', id: 'sentinel' });
    await nosy.waitForEvents(1);
    expect(nosy.events.map(({ lastEventId }) => lastEventId)).toEqual(['sentinel']);
  });
});

describe('the subscriptions API, in the generation of the asking token', () => {
  async function populated() {
    const h = await startHub({ subscriptions: true, anonymous: true });
    const bearer = await h.accessToken({ subscribe: [PATTERN], payload: { n: 1 } });
    const draft08 = await openSse(h.selectUrl([['match_urlpattern', PATTERN]]), {
      headers: { authorization: `Bearer ${bearer}` },
    });
    const draft07 = await openSse(h.selectUrl([['topic', BOOK]]));
    const watching = await watcher(h);
    expect([draft08.status, draft07.status]).toEqual([200, 200]);
    return { h, watching };
  }

  it('answers an access token with the match subscriptions, in plain JSON, the cursor on Link', async () => {
    const { h } = await populated();
    // The collection's own URL too: a pattern with an optional rest.
    const api = { match: '/.well-known/mercure/subscriptions{/*}?', match_type: 'urlpattern' as const };
    const bearer = await h.accessToken({ subscribe: [api] });
    const headers = { authorization: `Bearer ${bearer}` };
    const all = await send(`${h.hubUrl}/subscriptions`, { headers });
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('application/json');
    // The subscription events are the hub's last updates: the cursor is the last one's ID.
    const lastEventId = String(all.headers.etag).slice(1, -1);
    expect(lastEventId).toMatch(/^urn:uuid:/);
    expect(all.headers.link).toBe(
      `<${h.hubUrl}>; rel="mercure"; last-event-id="${lastEventId}"; type="mercure"; content-type="application/json"`,
    );
    const body = JSON.parse(all.body);
    expect(body).toMatchObject({ id: '/.well-known/mercure/subscriptions', type: 'subscriptions' });
    // The draft-07 subscription is not in this shape; the watcher's own is.
    expect(
      body.subscriptions.map(({ match_type, match }: { match_type: string; match: string }) => [
        match_type,
        match,
      ]),
    ).toEqual([
      ['urlpattern', PATTERN],
      ['urlpattern', NAMESPACE.match],
    ]);
    const books = body.subscriptions[0];
    expect(books.payload).toEqual({ n: 1 });
    const collection = await send(`${h.hubUrl}/subscriptions/urlpattern/${expand(PATTERN)}`, { headers });
    expect(JSON.parse(collection.body)).toEqual({
      id: `/.well-known/mercure/subscriptions/urlpattern/${expand(PATTERN)}`,
      type: 'subscriptions',
      subscriptions: [books],
    });
    const one = await send(`${h.url}${books.id}`, { headers });
    expect(JSON.parse(one.body)).toEqual(books);
    expect((await send(`${h.hubUrl}/subscriptions/regexp/a`, { headers })).status).toBe(404);
    expect(
      (await send(`${h.hubUrl}/subscriptions/exact/${expand(BOOK)}/urn%3Anobody`, { headers })).status,
    ).toBe(404);
  });

  it('answers a draft-07 token with the topic subscriptions, in JSON-LD', async () => {
    const { h } = await populated();
    const bearer = await token({ subscribe: ['/.well-known/mercure/subscriptions{/topic}{/subscriber}'] });
    const all = await send(`${h.hubUrl}/subscriptions`, { headers: { authorization: `Bearer ${bearer}` } });
    expect(all.headers['content-type']).toBe('application/ld+json');
    const body = JSON.parse(all.body);
    expect(body.type).toBe('Subscriptions');
    expect(body.subscriptions.map(({ topic }: { topic: string }) => topic)).toEqual([BOOK]);
  });

  it('answers 403 insufficient_scope to an access token whose grants do not match the path', async () => {
    const { h } = await populated();
    const narrow = await h.accessToken({
      subscribe: [{ match: '/.well-known/mercure/subscriptions/exact/*', match_type: 'urlpattern' }],
    });
    const headers = { authorization: `Bearer ${narrow}` };
    expect((await send(`${h.hubUrl}/subscriptions/exact/${expand(BOOK)}`, { headers })).status).toBe(200);
    const refused = await send(`${h.hubUrl}/subscriptions`, { headers });
    expect(refused.status).toBe(403);
    expect(refused.headers['www-authenticate']).toMatch(
      /^Bearer realm="mercure", error="insufficient_scope"/,
    );
  });
});
