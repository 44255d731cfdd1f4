import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { LogRecorder } from '../helpers/log-recorder.js';
import { sleep, waitFor } from '../helpers/net.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import {
  type Answer,
  form,
  formHeaders,
  hubsClosedAfterEach,
  ids,
  send,
  sseClosedAfterEach,
  type TestHub,
  token,
} from './hub-helpers.js';

const defer = cleanupAfterEach();
const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const TOPIC = 'https://example.com/books/1';
const LIMITS = { maxUpdateBytes: 1024, maxTopics: 3, maxTopicLength: 100 };

/** Sends a body in chunks, without Content-Length (chunked transfer encoding). */
function sendChunked(url: string, headers: Record<string, string>, chunks: string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    // The hub may answer and close before the whole body is sent.
    req.on('close', () => {});
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

type BadRequest = (h: TestHub, publisher: string) => Promise<Answer>;

const post =
  (fields: Record<string, string | string[]>): BadRequest =>
  (h, publisher) =>
    send(h.hubUrl, {
      method: 'POST',
      headers: formHeaders(publisher),
      body: form({ topic: TOPIC, ...fields }),
    });

const postRaw =
  (contentType: string | undefined, body: string): BadRequest =>
  (h, publisher) =>
    send(h.hubUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${publisher}`,
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
      },
      body,
    });

const subscribe =
  (topics: string[]): BadRequest =>
  (h) =>
    send(h.subscribeUrl(topics));

const cases: Array<[string, BadRequest, number, string | RegExp]> = [
  ['an update over maxUpdateBytes', post({ data: 'x'.repeat(2000) }), 413, 'larger than 1024 bytes'],
  [
    'a chunked body over maxUpdateBytes',
    (h, publisher) =>
      sendChunked(h.hubUrl, formHeaders(publisher), [
        `topic=${encodeURIComponent(TOPIC)}&data=`,
        ...Array(8).fill('y'.repeat(200)),
      ]),
    413,
    'larger than 1024 bytes',
  ],
  // Past a publish limit, draft-08 §Publication answers 413 (draft-07 said nothing; the hub said 400).
  ['too many topics in a publish', post({ topic: ['a', 'b', 'c', 'd'] }), 413, 'Too many "topic" fields'],
  // Past a subscription limit, it answers 400.
  ['too many topics in a subscription', subscribe(['a', 'b', 'c', 'd']), 400, 'Too many selector parameters'],
  [
    'a publish with no topic',
    (h, publisher) =>
      send(h.hubUrl, { method: 'POST', headers: formHeaders(publisher), body: form({ data: 'x' }) }),
    400,
    'Missing "topic" parameter.',
  ],
  ['a subscription with no topic', (h) => send(h.hubUrl), 400, 'Missing selector'],
  [
    'an empty topic',
    (h, publisher) => send(h.hubUrl, { method: 'POST', headers: formHeaders(publisher), body: 'topic=' }),
    400,
    'non-empty',
  ],
  [
    'a topic too long in a publish',
    post({ topic: `https://example.com/${'a'.repeat(100)}` }),
    413,
    'longer than 100 characters',
  ],
  [
    'a selector too long in a subscription',
    subscribe([`https://example.com/${'a'.repeat(100)}`]),
    400,
    'longer than 100 characters',
  ],
  ['a retry that is not a number', post({ retry: 'soon' }), 400, '"retry" must be a non-negative integer'],
  ['a negative retry', post({ retry: '-1' }), 400, '"retry" must be a non-negative integer'],
  ['a fractional retry', post({ retry: '1.5' }), 400, '"retry" must be a non-negative integer'],
  ['an id starting with #', post({ id: '#3' }), 400, 'must not start with "#"'],
  ['an id with LF', post({ id: 'a\nid: b' }), 400, 'must not contain CR, LF or NUL'],
  ['an id with CR', post({ id: 'a\rb' }), 400, 'must not contain CR, LF or NUL'],
  ['an id with NUL', post({ id: 'a\0b' }), 400, 'must not contain CR, LF or NUL'],
  ['the reserved id "earliest"', post({ id: 'earliest' }), 400, 'reserved'],
  [
    'a type with LF',
    post({ type: 'a\ndata: injected' }),
    400,
    'The "type" must be a string without CR or LF.',
  ],
  ['a type with CR', post({ type: 'a\rb' }), 400, 'without CR or LF'],
  ['two data fields', post({ data: ['one', 'two'] }), 400, 'The "data" field must appear once.'],
  ['two id fields', post({ id: ['one', 'two'] }), 400, 'The "id" field must appear once.'],
  ['two type fields', post({ type: ['one', 'two'] }), 400, 'The "type" field must appear once.'],
  ['two retry fields', post({ retry: ['1', '2'] }), 400, 'The "retry" field must appear once.'],
  ['a text/plain body', postRaw('text/plain', `topic=${TOPIC}`), 415, 'application/x-www-form-urlencoded'],
  ['a body without Content-Type', postRaw(undefined, `topic=${TOPIC}`), 415, 'not "none"'],
  [
    'malformed JSON',
    postRaw('application/json', '{"topic": "a",'),
    400,
    'The JSON body could not be parsed.',
  ],
  ['a JSON array', postRaw('application/json', '["a"]'), 400, 'must be an object'],
  [
    'a JSON topic that is a number',
    postRaw('application/json', '{"topic": 1}'),
    400,
    '"topic" must be a string or an array of strings',
  ],
  [
    'JSON data that is an object',
    postRaw('application/json', `{"topic": "${TOPIC}", "data": {"a": 1}}`),
    400,
    '"data" must be a string',
  ],
  [
    'a path the hub does not serve',
    (h) => send(`${h.url}/nothing-here`),
    404,
    'The hub is at /.well-known/mercure',
  ],
  [
    'PUT on the hub',
    (h, publisher) =>
      send(h.hubUrl, { method: 'PUT', headers: formHeaders(publisher), body: form({ topic: TOPIC }) }),
    405,
    'GET subscribes, POST publishes',
  ],
];

describe('hub limits and bad input: a clear status and message, and nobody else disturbed', () => {
  it.each(cases)('%s', async (_name, bad, status, message) => {
    const h = await startHub(LIMITS);
    const publisher = await token({ publish: ['*'] });
    const watcher = await openSse(h.subscribeUrl(['*']), {
      headers: { authorization: `Bearer ${await token({ subscribe: ['*'] })}` },
    });
    await h.publish({ topic: TOPIC, id: 'before' });
    await watcher.waitForEvents(1);
    const answer = await bad(h, publisher);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    if (typeof message === 'string') expect(answer.body).toContain(message);
    else expect(answer.body).toMatch(message);
    if (status === 405) expect(answer.headers.allow).toBe('GET, POST, OPTIONS');
    // Nothing was stored, the watcher is still served, and the hub takes the next update.
    const after = await h.publish({ topic: TOPIC, id: 'after' });
    expect(after.status).toBe(200);
    await watcher.waitForEvents(2);
    await sleep(20);
    expect(ids(watcher)).toEqual(['before', 'after']);
    expect(watcher.isEnded()).toBe(false);
    expect(h.hub.stats().updatesPublished).toBe(2);
  });

  it('applies the same limits to hub.publish()', async () => {
    const h = await startHub(LIMITS);
    await expect(h.hub.publish({ topics: [TOPIC], data: 'x'.repeat(2000) })).rejects.toMatchObject({
      status: 413,
    });
    await expect(h.hub.publish({ topics: ['a', 'b', 'c', 'd'] })).rejects.toMatchObject({ status: 413 });
    await expect(h.hub.publish({ topics: [TOPIC], type: 'a\nb' })).rejects.toMatchObject({ status: 400 });
    expect(h.hub.stats().updatesPublished).toBe(0);
  });

  it('answers 503 with Retry-After past maxSubscribers, and lets the next one in once a subscriber leaves', async () => {
    const h = await startHub({ anonymous: true, maxSubscribers: 2 });
    const first = await openSse(h.subscribeUrl([TOPIC]));
    const second = await openSse(h.subscribeUrl([TOPIC]));
    const refused = await send(h.subscribeUrl([TOPIC]));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body).toContain('maximum of 2 subscribers');
    await h.publish({ topic: TOPIC, id: 'still' });
    await first.waitForEvents(1);
    await second.waitForEvents(1);
    first.close();
    await waitFor(() => h.hub.stats().subscribers === 1);
    const third = await openSse(h.subscribeUrl([TOPIC]));
    expect(third.status).toBe(200);
  });

  it('answers 429 with Retry-After past maxSubscribersPerAddress, counting each address apart', async () => {
    const h = await startHub({ anonymous: true, maxSubscribersPerAddress: 2, trustProxy: true });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': `${address}, 10.0.0.1` } });
    const a1 = await openSse(h.subscribeUrl([TOPIC]), from('192.0.2.1'));
    const a2 = await openSse(h.subscribeUrl([TOPIC]), from('192.0.2.1'));
    const refused = await send(h.subscribeUrl([TOPIC]), from('192.0.2.1'));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body).toContain('Too many subscriptions from 192.0.2.1');
    const b1 = await openSse(h.subscribeUrl([TOPIC]), from('192.0.2.2'));
    expect(b1.status).toBe(200);
    await h.publish({ topic: TOPIC, id: 'served' });
    for (const client of [a1, a2, b1]) await client.waitForEvents(1);
    a1.close();
    await waitFor(() => h.hub.stats().subscribers === 2);
    const again = await openSse(h.subscribeUrl([TOPIC]), from('192.0.2.1'));
    expect(again.status).toBe(200);
  });

  it('ignores X-Forwarded-For unless trustProxy is on', async () => {
    const h = await startHub({ anonymous: true, maxSubscribersPerAddress: 1 });
    const first = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'x-forwarded-for': '192.0.2.1' } });
    expect(first.status).toBe(200);
    const refused = await send(h.subscribeUrl([TOPIC]), { headers: { 'x-forwarded-for': '192.0.2.2' } });
    expect(refused.status).toBe(429);
  });

  it('drops a subscriber that does not read past maxBufferedBytes, without slowing the others; it resumes by Last-Event-ID', async () => {
    const h = await startHub({ anonymous: true, maxBufferedBytes: 64 * 1024 });
    const watcher = await openSse(h.subscribeUrl([TOPIC]));
    // A client that sends its request and never reads.
    const stalled = connect(Number(new URL(h.url).port), '127.0.0.1');
    defer(() => stalled.destroy());
    stalled.write(
      `GET ${new URL(h.subscribeUrl([TOPIC])).pathname}?topic=${encodeURIComponent(TOPIC)} HTTP/1.1\r\nHost: hub\r\n\r\n`,
    );
    stalled.pause();
    await waitFor(() => h.hub.stats().subscribers === 2);
    const chunk = 'z'.repeat(16 * 1024);
    const total = 600;
    for (let i = 0; i < total; i++) {
      await h.hub.publish({ topics: [TOPIC], id: `big-${i}`, data: `${i} ${chunk}` });
      if (i % 20 === 0) await sleep(1);
    }
    await watcher.waitForEvents(total, 15_000);
    expect(ids(watcher)).toEqual(Array.from({ length: total }, (_, i) => `big-${i}`));
    await waitFor(() => h.hub.stats().subscribers === 1, 5000, 'the stalled subscriber to be dropped');
    // Coming back with the last ID it saw, it gets the rest from the history.
    const back = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'big-9' } });
    await back.waitForEvents(total - 10, 15_000);
    expect(ids(back)[0]).toBe('big-10');
    expect(ids(back).at(-1)).toBe(`big-${total - 1}`);
  }, 30_000);

  it('takes a publisher that goes away before its body is all there as the client’s doing, not the hub’s', async () => {
    const log = new LogRecorder();
    const h = await startHub({ logger: log });
    const watcher = await openSse(h.subscribeUrl([TOPIC]), {
      headers: { authorization: `Bearer ${await token({ subscribe: ['*'] })}` },
    });
    const leaving = connect(Number(new URL(h.url).port), '127.0.0.1');
    defer(() => leaving.destroy());
    const headers = formHeaders(await token({ publish: ['*'] }));
    leaving.write(
      `POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nAuthorization: ${headers.authorization}\r\n` +
        `Content-Type: ${headers['content-type']}\r\nContent-Length: 100\r\n\r\ntopic=a`,
    );
    await waitFor(() => h.hub.stats().subscribers === 1);
    await sleep(50);
    leaving.destroy();
    await sleep(50);
    expect(log.lines.filter(({ level }) => level === 'error')).toEqual([]);
    await h.publish({ topic: TOPIC, id: 'after' });
    await watcher.waitForEvents(1);
    expect(ids(watcher)).toEqual(['after']);
  });
});
