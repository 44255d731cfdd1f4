import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../helpers/net.js';
import type { SseConnection } from '../helpers/sse-client.js';
import { hubsClosedAfterEach, send, sseClosedAfterEach, type TestHub, token } from './hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const EVENTS_SELECTOR = '/.well-known/mercure/subscriptions/{topic}/{subscriber}';
const API_CLAIM = '/.well-known/mercure/subscriptions{/topic}{/subscriber}';
const BOOK = 'https://example.com/books/1';
const AUTHORS = 'https://example.com/authors/{id}';

/** RFC 6570 simple expansion of one variable: everything but unreserved characters percent-encoded. */
const expand = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const subscriptionTopic = (topic: string, subscriber: string) =>
  `/.well-known/mercure/subscriptions/${expand(topic)}/${expand(subscriber)}`;

interface SubscriptionEvent {
  '@context': string;
  id: string;
  type: string;
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

const parsed = (client: SseConnection): SubscriptionEvent[] =>
  client.events.map((event) => JSON.parse(event.data) as SubscriptionEvent);

/** A subscriber to the subscription events, allowed to see them; resolves once its own event came. */
async function watch(h: TestHub, claim: string[] = [EVENTS_SELECTOR]) {
  const client = await openSse(h.subscribeUrl([EVENTS_SELECTOR]), {
    headers: { authorization: `Bearer ${await token({ subscribe: claim })}` },
  });
  expect(client.status).toBe(200);
  return client;
}

/** GETs the subscriptions API with a token of this subscribe claim (null: no token). */
async function api(h: TestHub, path: string, claim: string[] | null = [API_CLAIM]) {
  const headers: Record<string, string> =
    claim === null ? {} : { authorization: `Bearer ${await token({ subscribe: claim })}` };
  const answer = await send(`${h.url}/.well-known/mercure/subscriptions${path}`, { headers });
  return {
    ...answer,
    json: answer.headers['content-type']?.includes('json') ? JSON.parse(answer.body) : undefined,
  };
}

describe('hub: subscription events', () => {
  it('publishes a private JSON-LD update when a subscription starts and ends, to subscribers allowed to see it', async () => {
    const h = await startHub({ subscriptions: true });
    const watcher = await watch(h);
    await watcher.waitForEvents(1);
    const watcherId = (parsed(watcher)[0] as SubscriptionEvent).subscriber;
    // Subscribes to the events too, but its token does not allow them (they are private).
    const blind = await openSse(h.subscribeUrl([EVENTS_SELECTOR]), {
      headers: { authorization: `Bearer ${await token({ subscribe: ['https://example.com/{path}'] })}` },
    });
    const bookEvents = await watch(h, [`/.well-known/mercure/subscriptions/${expand(BOOK)}/{subscriber}`]);
    const payload = { user: 'https://example.com/users/ada', roles: ['reader'] };
    const subscriber = await openSse(h.subscribeUrl([BOOK, AUTHORS]), {
      headers: { authorization: `Bearer ${await token({ subscribe: [], payload })}` },
    });
    expect(subscriber.status).toBe(200);
    // The watcher sees: the blind subscriber's, the book watcher's, then the subscriber's two.
    await watcher.waitForEvents(5);
    const started = parsed(watcher).slice(3);
    const subscriberId = (started[0] as SubscriptionEvent).subscriber;
    expect(subscriberId).toMatch(/^urn:uuid:/);
    expect(subscriberId).not.toBe(watcherId);
    expect(started).toEqual([
      {
        '@context': 'https://mercure.rocks/',
        id: subscriptionTopic(BOOK, subscriberId),
        type: 'Subscription',
        topic: BOOK,
        subscriber: subscriberId,
        active: true,
        payload,
      },
      {
        '@context': 'https://mercure.rocks/',
        id: subscriptionTopic(AUTHORS, subscriberId),
        type: 'Subscription',
        topic: AUTHORS,
        subscriber: subscriberId,
        active: true,
        payload,
      },
    ]);
    for (const event of watcher.events) expect(event.lastEventId).toMatch(/^urn:uuid:/);
    subscriber.close();
    await watcher.waitForEvents(7);
    expect(parsed(watcher).slice(5)).toEqual(started.map((event) => ({ ...event, active: false })));
    // The watcher limited to the book's subscriptions saw its start and end only.
    await bookEvents.waitForEvents(2);
    expect(parsed(bookEvents).map(({ topic, active }) => [topic, active])).toEqual([
      [BOOK, true],
      [BOOK, false],
    ]);
    await sleep(50);
    expect(blind.events).toEqual([]);
    expect(bookEvents.events).toHaveLength(2);
  });

  it('announces a subscriber whose token payload is larger than maxUpdateBytes, and keeps it connected', async () => {
    const h = await startHub({ subscriptions: true, maxUpdateBytes: 256 });
    const watcher = await watch(h);
    await watcher.waitForEvents(1);
    const payload = { bio: 'x'.repeat(600) };
    const subscriber = await openSse(h.subscribeUrl([BOOK]), {
      headers: { authorization: `Bearer ${await token({ payload })}` },
    });
    expect(subscriber.status).toBe(200);
    await watcher.waitForEvents(2);
    expect(parsed(watcher)[1]).toMatchObject({ topic: BOOK, active: true, payload });
    await h.publish({ topic: BOOK, id: 'delivered' });
    await subscriber.waitForEvents(1);
    expect(subscriber.isEnded()).toBe(false);
    subscriber.close();
    await watcher.waitForEvents(3);
    expect(parsed(watcher)[2]).toMatchObject({ topic: BOOK, active: false, payload });
    expect(h.hub.stats().subscribers).toBe(1);
  });

  it('publishes no subscription events unless configured', async () => {
    const h = await startHub();
    // The namespace is the hub's alone: the sentinel comes on another topic, after any event would.
    const sentinel = 'https://example.com/sentinel';
    const watcher = await openSse(h.subscribeUrl([EVENTS_SELECTOR, sentinel]), {
      headers: { authorization: `Bearer ${await token({ subscribe: [EVENTS_SELECTOR] })}` },
    });
    const subscriber = await openSse(h.subscribeUrl([BOOK]), {
      headers: { authorization: `Bearer ${await token({})}` },
    });
    subscriber.close();
    await waitFor(() => h.hub.stats().subscribers === 1);
    await h.publish({ topic: sentinel, id: 'sentinel' });
    await watcher.waitForEvents(1);
    expect(watcher.events.map((event) => event.lastEventId)).toEqual(['sentinel']);
    expect(h.hub.stats().updatesPublished).toBe(1);
  });
});

describe('hub: subscriptions API', () => {
  it('answers "earliest" as lastEventID and no subscriptions before any update', async () => {
    const h = await startHub({ subscriptions: true });
    const all = await api(h, '');
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('application/ld+json');
    expect(all.json).toEqual({
      '@context': 'https://mercure.rocks/',
      id: '/.well-known/mercure/subscriptions',
      type: 'Subscriptions',
      lastEventID: 'earliest',
      subscriptions: [],
    });
  });

  it('lists all active subscriptions, those of one topic, and one, with the lastEventID of the hub', async () => {
    const h = await startHub({ subscriptions: true });
    const payload = { name: 'Ada' };
    const first = await openSse(h.subscribeUrl([BOOK, AUTHORS]), {
      headers: { authorization: `Bearer ${await token({ payload })}` },
    });
    const second = await openSse(h.subscribeUrl([BOOK]), {
      headers: { authorization: `Bearer ${await token({})}` },
    });
    const watcher = await watch(h);
    // Its own start event is the newest update: the lastEventID the API must answer.
    await watcher.waitForEvents(1);
    const lastEventID = watcher.events[0]?.lastEventId;
    const watcherId = (parsed(watcher)[0] as SubscriptionEvent).subscriber;
    const all = await api(h, '');
    expect(all.status).toBe(200);
    expect(all.json).toMatchObject({ type: 'Subscriptions', lastEventID });
    const documents = all.json.subscriptions as SubscriptionEvent[];
    expect(documents).toHaveLength(4);
    const firstId = documents.find((document) => document.topic === AUTHORS)?.subscriber as string;
    const secondId = documents.find((document) => document.topic === BOOK && document.subscriber !== firstId)
      ?.subscriber as string;
    expect(new Set([firstId, secondId, watcherId]).size).toBe(3);
    expect(documents).toContainEqual({
      id: subscriptionTopic(BOOK, firstId),
      type: 'Subscription',
      topic: BOOK,
      subscriber: firstId,
      active: true,
      payload,
    });
    expect(documents).toContainEqual({
      id: subscriptionTopic(BOOK, secondId),
      type: 'Subscription',
      topic: BOOK,
      subscriber: secondId,
      active: true,
    });

    const ofBook = await api(h, `/${expand(BOOK)}`);
    expect(ofBook.status).toBe(200);
    expect(ofBook.json).toMatchObject({
      '@context': 'https://mercure.rocks/',
      id: `/.well-known/mercure/subscriptions/${expand(BOOK)}`,
      type: 'Subscriptions',
      lastEventID,
    });
    expect(
      (ofBook.json.subscriptions as SubscriptionEvent[]).map((document) => document.subscriber).sort(),
    ).toEqual([firstId, secondId].sort());

    const one = await api(h, `/${expand(AUTHORS)}/${expand(firstId)}`);
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toBe('application/ld+json');
    expect(one.json).toEqual({
      '@context': 'https://mercure.rocks/',
      id: subscriptionTopic(AUTHORS, firstId),
      type: 'Subscription',
      topic: AUTHORS,
      subscriber: firstId,
      active: true,
      payload,
      lastEventID,
    });

    // Gone once it disconnects.
    first.close();
    await watcher.waitForEvents(3);
    const gone = await api(h, `/${expand(AUTHORS)}/${expand(firstId)}`);
    expect(gone.status).toBe(404);
    const after = await api(h, '');
    expect(after.json.lastEventID).toBe(watcher.events[2]?.lastEventId);
    expect(
      (after.json.subscriptions as SubscriptionEvent[]).map((document) => document.subscriber),
    ).not.toContain(firstId);
    second.close();
  });

  it('answers 404 for an unknown subscription, 401 without a token, 403 when the claim does not match the URL', async () => {
    const h = await startHub({ subscriptions: true });
    const subscriber = await openSse(h.subscribeUrl([BOOK]), {
      headers: { authorization: `Bearer ${await token({})}` },
    });
    expect(subscriber.status).toBe(200);
    const unknown = await api(
      h,
      `/${expand(BOOK)}/${expand('urn:uuid:00000000-0000-7000-8000-000000000000')}`,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('No active subscription');
    const unknownTopic = await api(h, `/${expand('https://example.com/nothing')}/${expand('urn:uuid:x')}`);
    expect(unknownTopic.status).toBe(404);

    const anonymous = await api(h, '', null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe(
      `Bearer realm="mercure", resource_metadata="${h.url}/.well-known/oauth-protected-resource/.well-known/mercure"`,
    );
    const wrongKey = await send(`${h.url}/.well-known/mercure/subscriptions`, {
      headers: { authorization: 'Bearer not.a.token' },
    });
    expect(wrongKey.status).toBe(401);

    // Allowed one topic's subscriptions only.
    const narrow = [`/.well-known/mercure/subscriptions/${expand(BOOK)}{/subscriber}`];
    expect((await api(h, `/${expand(BOOK)}`, narrow)).status).toBe(200);
    expect((await api(h, '', narrow)).status).toBe(403);
    expect((await api(h, `/${expand(AUTHORS)}`, narrow)).status).toBe(403);
    const noClaim = await api(h, '', []);
    expect(noClaim.status).toBe(403);
    expect(noClaim.body).toContain('"mercure.subscribe"');
    expect((await api(h, '', ['https://example.com/{path}'])).status).toBe(403);
    // A publisher token carries no subscribe claim.
    const publisher = await send(`${h.url}/.well-known/mercure/subscriptions`, {
      headers: { authorization: `Bearer ${await token({ publish: ['*'] })}` },
    });
    expect(publisher.status).toBe(403);
  });

  it('is not served unless configured', async () => {
    const h = await startHub();
    expect((await api(h, '')).status).toBe(404);
  });

  it('answers only GET', async () => {
    const h = await startHub({ subscriptions: true });
    const answer = await send(`${h.url}/.well-known/mercure/subscriptions`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await token({ subscribe: [API_CLAIM] })}` },
    });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET');
  });

  it('keeps every subscriber served while subscriptions come and go', async () => {
    const h = await startHub({ subscriptions: true, anonymous: true });
    const reader = await openSse(h.subscribeUrl([BOOK]));
    for (let i = 0; i < 5; i++) {
      const passing = await openSse(h.subscribeUrl([BOOK, AUTHORS]));
      passing.close();
    }
    await h.publish({ topic: BOOK, id: 'still-here' });
    await reader.waitForEvents(1);
    await waitFor(() => h.hub.stats().subscribers === 1);
    expect(reader.events.map((event) => event.lastEventId)).toEqual(['still-here']);
  });
});

describe('hub: subscriptions API paths and repeated selectors', () => {
  it('serves only the API paths, and counts a selector given twice as one subscription', async () => {
    const h = await startHub({ subscriptions: true, anonymous: true });
    const reader = await token({ subscribe: ['*'] });
    const twice = await openSse(h.subscribeUrl([BOOK, BOOK]));
    expect(twice.status).toBe(200);
    const list = await send(`${h.hubUrl}/subscriptions`, { headers: { authorization: `Bearer ${reader}` } });
    expect(list.status).toBe(200);
    const subscriptions = (JSON.parse(list.body) as { subscriptions: Array<{ topic: string }> })
      .subscriptions;
    expect(subscriptions.filter((subscription) => subscription.topic === BOOK)).toHaveLength(1);
    const lookalike = await send(`${h.hubUrl}/subscriptionsX`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(lookalike.status).toBe(404);
  });
});
