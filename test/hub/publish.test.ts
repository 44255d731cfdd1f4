import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/hub/index.js';
import { sleep, waitFor } from '../helpers/net.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import {
  data,
  form,
  formHeaders,
  hubsClosedAfterEach,
  ids,
  send,
  sseClosedAfterEach,
  token,
} from './hub-helpers.js';

const defer = cleanupAfterEach();
const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const UUID_V7 = /^urn:uuid:([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('hub: publish and subscribe', () => {
  it('answers a subscription with an event stream that is not cached', async () => {
    const h = await startHub({ anonymous: true });
    const client = await openSse(h.subscribeUrl(['https://example.com/a']));
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toContain('no-store');
    expect(client.headers['cache-control']).toContain('private');
    expect(client.headers['last-event-id']).toBeUndefined();
  });

  it('answers HEAD with the headers only: no subscriber, and the connection serves the next request', async () => {
    const h = await startHub({ anonymous: true });
    const socket = connect(Number(new URL(h.url).port), '127.0.0.1');
    defer(() => socket.destroy());
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    socket.write(
      `HEAD /.well-known/mercure?topic=${encodeURIComponent('https://example.com/a')} HTTP/1.1\r\nHost: hub\r\n\r\n`,
    );
    await waitFor(() => received.includes('\r\n\r\n'));
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toContain('content-type: text/event-stream');
    expect(h.hub.stats().subscribers).toBe(0);
    await h.publish({ topic: 'https://example.com/a', id: 'after-head', data: 'x' });
    const head = received;
    socket.write('GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n');
    await waitFor(() => received.length > head.length && received.endsWith('0\r\n\r\n'));
    // What follows the HEAD answer is the next answer, not event bytes.
    expect(received.slice(head.length)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).not.toContain('after-head');
    const unauthorized = await startHub();
    const refused = await send(unauthorized.subscribeUrl(['https://example.com/a']), { method: 'HEAD' });
    expect(refused.status).toBe(401);
  });

  it('makes a urn:uuid UUIDv7 ID (time-ordered, now) when the publisher gives none, and keeps one it gives', async () => {
    const h = await startHub({ anonymous: true });
    const client = await openSse(h.subscribeUrl(['https://example.com/a']));
    const before = Date.now();
    const first = await (await h.publish({ topic: 'https://example.com/a', data: '1' })).text();
    const second = await (await h.publish({ topic: 'https://example.com/a', data: '2' })).text();
    const chosen = await h.publish({
      topic: 'https://example.com/a',
      data: '3',
      id: 'https://example.com/ids/3',
    });
    expect(chosen.status).toBe(200);
    expect(await chosen.text()).toBe('https://example.com/ids/3');
    const after = Date.now();
    for (const id of [first, second]) {
      const match = UUID_V7.exec(id);
      expect(match, id).not.toBeNull();
      const ms = Number.parseInt(`${match?.[1]}${match?.[2]}`, 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
    expect(first).not.toBe(second);
    await client.waitForEvents(3);
    expect(ids(client)).toEqual([first, second, 'https://example.com/ids/3']);
    expect(data(client)).toEqual(['1', '2', '3']);
  });

  it('carries type, retry and data with every kind of line break, and data cannot inject a frame', async () => {
    const h = await startHub({ anonymous: true });
    const client = await openSse(h.subscribeUrl(['https://example.com/a']));
    await h.publish({
      topic: 'https://example.com/a',
      data: 'first\r\nsecond\rthird\n\nafter an empty line\n',
      type: 'chapter',
      retry: '2500',
      id: 'e1',
    });
    await h.publish({
      topic: 'https://example.com/a',
      data: 'x\n\nid: forged\nevent: forged\ndata: injected',
      id: 'e2',
    });
    await h.publish({ topic: 'https://example.com/a', id: 'e3' });
    await client.waitForEvents(3);
    expect(client.events).toEqual([
      { type: 'chapter', data: 'first\nsecond\nthird\n\nafter an empty line\n', lastEventId: 'e1' },
      { type: 'message', data: 'x\n\nid: forged\nevent: forged\ndata: injected', lastEventId: 'e2' },
      { type: 'message', data: '', lastEventId: 'e3' },
    ]);
    expect(client.retries).toEqual([2500]);
  });

  it('matches exact topics, URI templates and "*", on the canonical topic or an alternate, once per subscriber', async () => {
    const h = await startHub({ anonymous: true });
    const exact = await openSse(h.subscribeUrl(['https://example.com/books/1']));
    const template = await openSse(h.subscribeUrl(['https://example.com/books/{id}']));
    const query = await openSse(h.subscribeUrl(['https://example.com/search{?q}']));
    const all = await openSse(h.subscribeUrl(['*']));
    // Every selector of this one matches the first update, through both of its topics.
    const overlapping = await openSse(
      h.subscribeUrl(['https://example.com/books/1', 'https://example.com/books/{id}', 'urn:isbn:1', '*']),
    );
    const alternate = await openSse(h.subscribeUrl(['urn:isbn:1']));
    const none = await openSse(
      h.subscribeUrl(['https://example.com/authors/{id}', 'https://example.com/books']),
    );
    await waitFor(() => h.hub.stats().subscribers === 7);
    await h.publish({ topic: ['https://example.com/books/1', 'urn:isbn:1'], data: 'book 1', id: 'b1' });
    await h.publish({ topic: 'https://example.com/books/2', data: 'book 2', id: 'b2' });
    await h.publish({ topic: 'https://example.com/search?q=dune', data: 'search', id: 's1' });
    await h.publish({ topic: 'https://example.com/books/2/reviews', data: 'deeper', id: 'r1' });
    await all.waitForEvents(4);
    await overlapping.waitForEvents(4);
    await query.waitForEvents(1);
    // A final update every subscriber gets: when it arrives, nothing else is on its way.
    await h.publish({
      topic: ['https://example.com/books/1', 'urn:isbn:1', 'https://example.com/authors/9'],
      id: 'end',
    });
    for (const client of [exact, template, all, overlapping, alternate, none, query]) {
      if (client !== query) await waitFor(() => ids(client).includes('end'));
    }
    expect(ids(exact)).toEqual(['b1', 'end']);
    expect(ids(template)).toEqual(['b1', 'b2', 'end']);
    expect(ids(query)).toEqual(['s1']);
    expect(ids(all)).toEqual(['b1', 'b2', 's1', 'r1', 'end']);
    expect(ids(overlapping)).toEqual(['b1', 'b2', 's1', 'r1', 'end']);
    expect(ids(alternate)).toEqual(['b1', 'end']);
    expect(ids(none)).toEqual(['end']);
  });

  it('accepts a form whose Content-Type carries a charset', async () => {
    const h = await startHub({ anonymous: true });
    const client = await openSse(h.subscribeUrl(['https://example.com/a']));
    const answer = await send(h.hubUrl, {
      method: 'POST',
      headers: formHeaders(await token({ publish: ['*'] }), {
        'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
      }),
      body: form({ topic: 'https://example.com/a', data: 'héllo ✓', id: 'c1' }),
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('c1');
    await client.waitForEvents(1);
    expect(data(client)).toEqual(['héllo ✓']);
  });

  it('accepts a JSON body (a convenience): topic string or array, private as a boolean, retry as a number', async () => {
    const h = await startHub({ anonymous: true });
    const publisher = await token({ publish: ['*'] });
    const subscriberToken = await token({ subscribe: ['https://example.com/private/{id}'] });
    const anonymous = await openSse(
      h.subscribeUrl(['https://example.com/{path}', 'https://example.com/private/{id}']),
    );
    const allowed = await openSse(h.subscribeUrl(['https://example.com/private/{id}']), {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    const post = (body: unknown) =>
      send(h.hubUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const one = await post({ topic: 'https://example.com/one', data: '{"n":1}', type: 'json', retry: 3000 });
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toMatch(/^text\/plain/);
    expect(one.body).toMatch(UUID_V7);
    const two = await post({
      topic: ['https://example.com/private/7', 'https://example.com/two'],
      data: 'secret',
      id: 'j2',
      private: true,
    });
    expect(two.status).toBe(200);
    expect(two.body).toBe('j2');
    await post({ topic: 'https://example.com/three', data: 'public', id: 'j3' });
    await allowed.waitForEvents(1);
    await anonymous.waitForEvents(2);
    expect(anonymous.events).toEqual([
      { type: 'json', data: '{"n":1}', lastEventId: one.body },
      { type: 'message', data: 'public', lastEventId: 'j3' },
    ]);
    expect(anonymous.retries).toEqual([3000]);
    expect(allowed.events).toEqual([{ type: 'message', data: 'secret', lastEventId: 'j2' }]);
  });

  it('publishes from the embedding app with hub.publish(), which applies the same rules', async () => {
    const h = await startHub({ anonymous: true, maxTopics: 2 });
    const client = await openSse(h.subscribeUrl(['https://example.com/orders/{id}']));
    const update = await h.hub.publish({
      topics: ['https://example.com/orders/1'],
      data: 'shipped\ntoday',
      type: 'order',
      retry: 1000,
    });
    expect(update).toEqual({
      id: expect.stringMatching(UUID_V7),
      topics: ['https://example.com/orders/1'],
      data: 'shipped\ntoday',
      type: 'order',
      retry: 1000,
      private: false,
    });
    const chosen = await h.hub.publish({ topics: ['https://example.com/orders/2'], id: 'o2', private: true });
    expect(chosen.id).toBe('o2');
    await h.hub.publish({ topics: ['https://example.com/orders/3'], id: 'o3' });
    await client.waitForEvents(2);
    expect(client.events).toEqual([
      { type: 'order', data: 'shipped\ntoday', lastEventId: update.id },
      { type: 'message', data: '', lastEventId: 'o3' },
    ]);
    await expect(h.hub.publish({ topics: [] })).rejects.toThrow(HubError);
    await expect(h.hub.publish({ topics: ['a', 'b', 'c'] })).rejects.toMatchObject({ status: 413 });
    await expect(h.hub.publish({ topics: ['https://example.com/orders/4'], id: '#4' })).rejects.toMatchObject(
      {
        code: 'bad-request',
      },
    );
    await sleep(50);
    expect(client.events).toHaveLength(2);
  });
});
