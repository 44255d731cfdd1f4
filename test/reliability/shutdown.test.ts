// SIGTERM to a real `siar serve` (test/hub/lifecycle.test.ts closes a hub in-process; this is the
// process a service manager stops): a publish in flight finishes and is acknowledged, every
// subscriber is told when to come back (`retry:`) and its stream ends, the process exits by itself
// with status 0; started again on the same SQLite file, the hub lets clients resume with
// Last-Event-ID, and they miss nothing and get nothing twice.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EventSource } from '../../src/client/index.js';
import { createToken } from '../../src/hub/index.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { publishSlowly } from '../helpers/hub-requests.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { ids, tempDirsRemovedAfterEach } from '../hub/hub-helpers.js';

const defer = cleanupAfterEach();
const tempDir = tempDirsRemovedAfterEach();

const KEY = 'shutdown-test-secret-of-a-decent-length';
const TOPIC = 'https://example.com/shutdown';
const RETRY_MS = 2000;

describe('siar serve on SIGTERM', () => {
  it('finishes the publish in flight, sends retry: and ends every stream, exits 0; clients resume and miss nothing', async () => {
    // The two runs of the hub listen on the same port, as a real deployment does.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const hubUrl = `${base}/.well-known/mercure`;
    const store = `sqlite:${tempDir()}/hub.db`;
    const serve = () => startHubProcess(defer, { port, key: KEY, args: ['--store', store] });
    const publisher = await createToken({ publish: ['*'] }, KEY);
    const acknowledged: string[] = [];
    const publish = async (id: string) => {
      const response = await fetch(hubUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher}` },
        body: new URLSearchParams({ topic: TOPIC, id, data: `data of ${id}` }),
      });
      expect(response.status).toBe(200);
      acknowledged.push(await response.text());
    };
    const subscribeUrl = `${hubUrl}?topic=${encodeURIComponent(TOPIC)}`;

    const first = await serve();
    // A browser-like client that reconnects by itself (siar/client's EventSource)…
    const source = new EventSource(subscribeUrl);
    defer(() => source.close());
    const seen: string[] = [];
    source.onmessage = (event) => seen.push(event.lastEventId);
    // …a raw client that records the bytes (retry:, the end of the stream)…
    const raw = await openSse(subscribeUrl);
    defer(() => raw.close());
    // …and one that leaves early and comes back after the restart.
    const early = await openSse(subscribeUrl);
    defer(() => early.close());
    await waitFor(() => source.readyState === EventSource.OPEN, 5000, 'the EventSource to open');
    for (const id of ['a1', 'a2']) await publish(id);
    await early.waitForEvents(2);
    early.close();
    for (const id of ['a3', 'a4']) await publish(id);
    await waitFor(() => seen.length === 4, 5000, 'four events');

    // A publish whose body is still on its way when SIGTERM comes.
    const body = `topic=${encodeURIComponent(TOPIC)}&id=in-flight&data=${'x'.repeat(100)}`;
    const inFlight = publishSlowly(hubUrl, publisher, body, () => first.child.kill('SIGTERM'));
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('in-flight');
    acknowledged.push(answer.body);

    // The process stops by itself, and says so.
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('SIGTERM: shutting down');
    await raw.ended;
    expect(ids(raw)).toEqual(acknowledged);
    expect(raw.retries).toEqual([RETRY_MS]);
    // retry: comes after the last event, then the stream ends (a chunked body's last chunk).
    expect(raw.text.indexOf(`retry: ${RETRY_MS}`)).toBeGreaterThan(raw.text.indexOf('id: in-flight'));
    expect(raw.text.trimEnd().endsWith(`retry: ${RETRY_MS}`)).toBe(true);
    await waitFor(() => seen.length === 5, 5000, 'the in-flight update at the EventSource');
    // Nothing is acknowledged while the hub is down.
    await expect(fetch(hubUrl, { method: 'POST' })).rejects.toThrow();

    const second = await serve();
    for (const id of ['b1', 'b2']) await publish(id);
    // The EventSource came back by itself, with its Last-Event-ID.
    await waitFor(() => seen.length === acknowledged.length, 10_000, `every event (have ${seen})`);
    await sleep(100);
    expect(seen).toEqual(acknowledged);
    // The early client resumes from the last ID it saw.
    const back = await openSse(subscribeUrl, { headers: { 'last-event-id': 'a2' } });
    defer(() => back.close());
    expect(back.headers['last-event-id']).toBe('a2');
    await back.waitForEvents(acknowledged.length - 2);
    await sleep(100);
    expect(ids(back)).toEqual(acknowledged.slice(2));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);
});

describe('siar serve on SIGTERM, with clients that hold on', () => {
  it('exits by itself even when a publish never completes, a subscriber stops reading and a head never ends', async () => {
    const run = await startHubProcess(defer, { key: KEY });
    const { port } = run;
    const publisher = await createToken({ publish: ['*'] }, KEY);
    const hold = (text: string) => {
      const socket = connect(port, '127.0.0.1');
      defer(() => socket.destroy());
      socket.on('error', () => {});
      socket.write(text);
      return socket;
    };
    // A publish that promises a body it never finishes.
    hold(
      `POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer ${publisher}\r\n` +
        'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\ntopic=a&data=',
    );
    // A subscriber that never reads, with a megabyte waiting for it.
    const stalled = hold(`GET /.well-known/mercure?topic=big HTTP/1.1\r\nHost: hub\r\n\r\n`);
    stalled.pause();
    // A request head that never ends, and an idle keep-alive connection.
    hold('GET /healthz HTTP/1.1\r\nHost: hub\r\n');
    hold('GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n');
    await sleep(200);
    for (let i = 0; i < 8; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/.well-known/mercure`, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher}` },
        body: new URLSearchParams({ topic: 'big', data: 'z'.repeat(128 * 1024) }),
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    const stopped = Date.now();
    run.child.kill('SIGTERM');
    // The publish in flight gets its grace (5 s), the connections left are then closed.
    expect(await run.exited).toBe(0);
    console.info(`siar serve stopped ${Date.now() - stopped} ms after SIGTERM, holding clients and all`);
  }, 60_000);
});
