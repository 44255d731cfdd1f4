import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../helpers/net.js';
import {
  type Answer,
  formHeaders,
  hubsClosedAfterEach,
  ids,
  send,
  sseClosedAfterEach,
  token,
} from './hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const TOPIC = 'https://example.com/books/1';

/** The value of one sample in Prometheus text, or undefined when absent. */
function metric(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

describe('hub: /healthz and /metrics', () => {
  it('answers /healthz with 200 and JSON', async () => {
    const h = await startHub({ anonymous: true, maxSubscribers: 100 });
    const client = await openSse(h.subscribeUrl([TOPIC]));
    expect(client.status).toBe(200);
    const answer = await send(`${h.url}/healthz`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      status: 'ok',
      store: { kind: 'memory', ok: true },
      subscribers: 1,
      capacity: 100,
    });
  });

  it('serves Prometheus text whose numbers move with a publish', async () => {
    const h = await startHub({ anonymous: true });
    const scrape = async () => {
      const answer = await send(`${h.url}/metrics`);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^text\/plain/);
      return answer.body;
    };
    const before = await scrape();
    for (const name of [
      'siar_subscribers_connected',
      'siar_updates_published_total',
      'siar_deliveries_total',
      'mercure_subscribers_connected',
      'mercure_subscribers_total',
      'mercure_updates_total',
      'siar_history_size',
    ]) {
      expect(before, name).toContain(`# TYPE ${name} `);
      expect(metric(before, name), name).toBe(0);
    }
    const one = await openSse(h.subscribeUrl([TOPIC]));
    const two = await openSse(h.subscribeUrl(['*']));
    await waitFor(() => h.hub.stats().subscribers === 2);
    await h.publish({ topic: TOPIC, id: 'm1' });
    await h.publish({ topic: 'https://example.com/other', id: 'm2' });
    await one.waitForEvents(1);
    await two.waitForEvents(2);
    const after = await scrape();
    expect(metric(after, 'siar_subscribers_connected')).toBe(2);
    expect(metric(after, 'mercure_subscribers_connected')).toBe(2);
    expect(metric(after, 'mercure_subscribers_total')).toBe(2);
    expect(metric(after, 'siar_updates_published_total')).toBe(2);
    expect(metric(after, 'mercure_updates_total')).toBe(2);
    expect(metric(after, 'siar_deliveries_total')).toBe(3);
    expect(metric(after, 'siar_history_size')).toBe(2);
    one.close();
    await waitFor(() => h.hub.stats().subscribers === 1);
    const later = await scrape();
    expect(metric(later, 'siar_subscribers_connected')).toBe(1);
    expect(metric(later, 'mercure_subscribers_total')).toBe(2);
    expect(await h.hub.metrics()).toContain('siar_updates_published_total 2');
  });

  it('serves neither when metrics is off', async () => {
    const h = await startHub({ metrics: false });
    expect((await send(`${h.url}/healthz`)).status).toBe(404);
    expect((await send(`${h.url}/metrics`)).status).toBe(404);
  });
});

describe('hub: graceful close', () => {
  it('tells every subscriber when to come back (retry:), ends the streams, and answers new requests with 503', async () => {
    const h = await startHub({ anonymous: true, shutdownRetryMs: 1234 });
    const clients = await Promise.all([openSse(h.subscribeUrl([TOPIC])), openSse(h.subscribeUrl(['*']))]);
    await h.publish({ topic: TOPIC, id: 'before' });
    for (const client of clients) await client.waitForEvents(1);
    await h.hub.close();
    for (const client of clients) {
      await client.ended;
      expect(client.retries).toEqual([1234]);
      expect(client.text.indexOf('retry: 1234')).toBeGreaterThan(client.text.indexOf('id: before'));
      expect(ids(client)).toEqual(['before']);
    }
    const subscribe = await send(h.subscribeUrl([TOPIC]));
    expect(subscribe.status).toBe(503);
    expect(subscribe.headers['retry-after']).toMatch(/^\d+$/);
    expect(subscribe.body).toContain('shutting down');
    const publish = await h.publish({ topic: TOPIC });
    expect(publish.status).toBe(503);
    const health = await send(`${h.url}/healthz`);
    expect(health.status).toBe(503);
    expect(JSON.parse(health.body).status).toBe('closing');
    await expect(h.hub.publish({ topics: [TOPIC] })).rejects.toMatchObject({ status: 503 });
  });

  it('lets a publish in flight complete, and its subscribers receive it before their streams end', async () => {
    const h = await startHub({ anonymous: true, shutdownRetryMs: 1000 });
    const client = await openSse(h.subscribeUrl([TOPIC]));
    expect(client.status).toBe(200);
    // A publish whose body is still on its way when the hub is told to close.
    const body = `topic=${encodeURIComponent(TOPIC)}&id=in-flight&data=`;
    const bearer = await token({ publish: ['*'] });
    const answer = new Promise<Answer>((resolve, reject) => {
      const req = request(h.hubUrl, {
        method: 'POST',
        agent: false,
        headers: { ...formHeaders(bearer), 'content-length': String(body.length + 5) },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.write(body);
      setTimeout(() => req.end('hello'), 300);
    });
    await sleep(100);
    const closed = h.hub.close({ graceMs: 5000 });
    const published = await answer;
    expect(published.status).toBe(200);
    expect(published.body).toBe('in-flight');
    await closed;
    await client.ended;
    expect(client.events).toEqual([{ type: 'message', data: 'hello', lastEventId: 'in-flight' }]);
    expect(client.retries).toEqual([1000]);
  });

  it('does not wait longer than graceMs for a publish that never completes', async () => {
    const h = await startHub({ anonymous: true });
    const client = await openSse(h.subscribeUrl([TOPIC]));
    const req = request(h.hubUrl, {
      method: 'POST',
      agent: false,
      headers: { ...formHeaders(await token({ publish: ['*'] })), 'content-length': '1000' },
    });
    req.on('error', () => {});
    req.write('topic=a');
    await sleep(50);
    const started = Date.now();
    await h.hub.close({ graceMs: 300 });
    expect(Date.now() - started).toBeLessThan(3000);
    await client.ended;
    req.destroy();
  });
});
