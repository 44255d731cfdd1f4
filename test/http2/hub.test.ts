// The hub over HTTP/2 through createHubServer: TLS with ALPN (h2, and HTTP/1.1 on the same port),
// and cleartext h2c. The clients are raw node:http2 sessions, so what is checked is the wire.
import type { ServerHttp2Stream } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, createHubServer, HubError } from '../../src/hub/index.js';
import { createParser, type ParsedEvent } from '../../src/protocol/index.js';
import { serverStats, silentLogger } from '../../src/server/index.js';
import {
  CONNECTION_HEADERS,
  type H2Exchange,
  h2Publish,
  h2Request,
  h2Session,
  type ServedHub,
  serveHub,
  testCertificate,
} from '../helpers/http2.js';
import { sleep, waitFor } from '../helpers/net.js';

const TOPIC = 'https://example.com/books/1';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function started(...args: Parameters<typeof serveHub>): Promise<ServedHub> {
  const served = await serveHub(...args);
  cleanups.push(() => served.close());
  return served;
}

function session(url: string) {
  const opened = h2Session(url);
  cleanups.push(() => opened.destroy());
  return opened;
}

function expectNoConnectionHeaders(headers: Record<string, unknown>): void {
  for (const name of CONNECTION_HEADERS) expect(headers[name], name).toBeUndefined();
}

/** Waits until `exchange` has its 200 and the hub counts `count` subscribers. */
async function subscribed(served: ServedHub, exchange: H2Exchange, count: number): Promise<void> {
  expect((await exchange.response)[':status']).toBe(200);
  await waitFor(() => served.hub.stats().subscribers === count, 2000, `${count} subscribers`);
}

describe('hub over TLS and HTTP/2', () => {
  it('subscribes and publishes over h2, with no connection-specific header in any answer', async () => {
    const served = await started();
    const client = session(served.url);
    const subscriber = h2Request(client, served.subscribePath([TOPIC]));
    const head = await subscriber.response;
    expect(head[':status']).toBe(200);
    expect(head['content-type']).toBe('text/event-stream; charset=utf-8');
    expectNoConnectionHeaders(head);
    await subscribed(served, subscriber, 1);

    const published = await h2Publish(client, served.publisherToken, {
      topic: TOPIC,
      id: 'one',
      data: 'over h2',
    });
    expect(published).toMatchObject({ status: 200, body: 'one' });
    expectNoConnectionHeaders(published.headers);
    expect(await subscriber.waitForEvents(1)).toEqual([
      { type: 'message', data: 'over h2', lastEventId: 'one' },
    ]);
    // Subscriber and publisher shared one connection, as a browser's tabs do.
    expect(served.hub.stats()).toMatchObject({ subscribers: 1, deliveries: 1 });
  });

  it('refuses over h2 with the status and message, the connection left working', async () => {
    const served = await started({ anonymous: false, maxUpdateBytes: 1024 });
    const serverStreams: ServerHttp2Stream[] = [];
    served.server.on('stream', (stream: ServerHttp2Stream) => serverStreams.push(stream));
    const client = session(served.url);
    const refusals = [
      { exchange: h2Request(client, served.subscribePath([TOPIC])), status: 401 },
      { exchange: h2Request(client, '/.well-known/mercure'), status: 400 },
      { exchange: h2Request(client, '/nothing-here'), status: 404 },
      {
        // A body past the limit (and past the stream's 64 KiB window), refused before it is all read.
        // Over HTTP/1.1 the hub would close the connection (Connection: close); HTTP/2 forbids that
        // header: the hub answers, then resets the stream with NO_ERROR so the client stops sending.
        exchange: h2Request(client, '/.well-known/mercure', {
          method: 'POST',
          headers: {
            authorization: `Bearer ${served.publisherToken}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: `topic=${encodeURIComponent(TOPIC)}&data=${'x'.repeat(128 * 1024)}`,
        }),
        status: 413,
      },
    ];
    for (const { exchange, status } of refusals) {
      const head = await exchange.response;
      expect(head[':status']).toBe(status);
      expectNoConnectionHeaders(head);
      // The whole message, ending with its newline.
      await waitFor(() => exchange.text().endsWith('.\n'), 2000, `the ${status} message`);
    }
    // On the hub's side every stream is gone, the one whose body was left unread included (reset
    // with NO_ERROR: "stop sending", not a failure).
    await waitFor(() => serverStreams.length === 4 && serverStreams.every((stream) => stream.destroyed));
    expect(serverStreams.map((stream) => stream.rstCode)).toEqual([0, 0, 0, 0]);
    // The same session still serves.
    const published = await h2Publish(client, served.publisherToken, { topic: TOPIC, data: 'still here' });
    expect(published.status).toBe(200);
    expect(client.closed || client.destroyed).toBe(false);
  });

  it('advertises maxConcurrentStreams (1000 by default), and 50 subscriptions share one connection', async () => {
    const served = await started();
    const sessions: unknown[] = [];
    served.server.on('session', (opened) => sessions.push(opened));
    const client = session(served.url);
    await new Promise<void>((resolve) => client.once('remoteSettings', () => resolve()));
    expect(client.remoteSettings.maxConcurrentStreams).toBe(1000);

    const subscribers = Array.from({ length: 50 }, () => h2Request(client, served.subscribePath([TOPIC])));
    for (const subscriber of subscribers) expect((await subscriber.response)[':status']).toBe(200);
    await waitFor(() => served.hub.stats().subscribers === 50);
    await h2Publish(client, served.publisherToken, { topic: TOPIC, id: 'to-all', data: 'fifty' });
    for (const subscriber of subscribers) {
      expect(await subscriber.waitForEvents(1)).toEqual([
        { type: 'message', data: 'fifty', lastEventId: 'to-all' },
      ]);
    }
    expect(sessions).toHaveLength(1);

    const limited = await started({}, { maxConcurrentStreams: 3 });
    const other = session(limited.url);
    await new Promise<void>((resolve) => other.once('remoteSettings', () => resolve()));
    expect(other.remoteSettings.maxConcurrentStreams).toBe(3);
  });

  it('a client that resets its stream leaves at once, and the others keep receiving', async () => {
    const served = await started({ subscriptions: true });
    const client = session(served.url);
    const leaving = h2Request(client, served.subscribePath([TOPIC]));
    const staying = h2Request(client, served.subscribePath([TOPIC]));
    await subscribed(served, leaving, 2);
    await subscribed(served, staying, 2);

    const { constants } = await import('node:http2');
    leaving.stream.close(constants.NGHTTP2_CANCEL);
    const resetAt = performance.now();
    await waitFor(() => served.hub.stats().subscribers === 1, 1000, 'the subscription gone');
    // At once: the RST_STREAM frame, not a heartbeat or a write failing later.
    expect(performance.now() - resetAt).toBeLessThan(500);

    await h2Publish(client, served.publisherToken, { topic: TOPIC, id: 'after', data: 'still one' });
    await staying.waitForEvents(1);
    expect(staying.events.map((event) => event.lastEventId)).toEqual(['after']);
  });

  it('flow control: a subscriber that does not read is dropped as a slow consumer; one beside it on the same connection receives everything', async () => {
    const served = await started({ maxBufferedBytes: 64 * 1024 });
    const client = session(served.url);
    const reader = h2Request(client, served.subscribePath([TOPIC]));
    const stalled = h2Request(client, served.subscribePath([TOPIC]), { read: false });
    await subscribed(served, reader, 2);
    await subscribed(served, stalled, 2);
    const slowBefore = serverStats.slowConsumersClosed;

    const data = 'x'.repeat(16 * 1024);
    const count = 40; // 640 KiB: the stalled stream's window (64 KiB) and its buffer limit are far behind
    for (let i = 1; i <= count; i++) {
      const published = await h2Publish(client, served.publisherToken, { topic: TOPIC, id: String(i), data });
      expect(published.status).toBe(200);
    }
    await reader.waitForEvents(count, 10_000);
    expect(reader.events.map((event) => event.lastEventId)).toEqual(
      Array.from({ length: count }, (_, i) => String(i + 1)),
    );
    // The hub reset the stalled stream once it held more than maxBufferedBytes for it.
    expect(await stalled.closed).toBe((await import('node:http2')).constants.NGHTTP2_CANCEL);
    expect(served.hub.stats().subscribers).toBe(1);
    expect(serverStats.slowConsumersClosed).toBe(slowBefore + 1);
  });

  it('ALPN: a client without h2 gets HTTP/1.1 on the same port', async () => {
    const served = await started();
    const versions: string[] = [];
    served.server.on('request', (req) => versions.push(req.httpVersion));
    const events: ParsedEvent[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const request = httpsRequest(served.subscribeUrl([TOPIC]), {
        ca: testCertificate().cert,
        agent: false,
        headers: { accept: 'text/event-stream' },
      });
      request.on('response', resolve).on('error', reject).end();
      cleanups.push(() => request.destroy());
    });
    expect(response.httpVersion).toBe('1.1');
    // node:https offers no ALPN at all; the server takes such a client for HTTP/1.1.
    expect((response.socket as import('node:tls').TLSSocket).alpnProtocol).toBe(false);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    response.on('data', (chunk: Buffer) => parser.feed(chunk));
    await waitFor(() => served.hub.stats().subscribers === 1);

    const client = session(served.url);
    await h2Publish(client, served.publisherToken, { topic: TOPIC, id: 'h1', data: 'to HTTP/1.1' });
    await waitFor(() => events.length === 1);
    expect(events[0]).toEqual({ type: 'message', data: 'to HTTP/1.1', lastEventId: 'h1' });
    expect(versions).toEqual(['1.1', '2.0']);
  });

  it('knows a same-origin request over h2 by :authority (there is no Host), and applies CORS to others', async () => {
    const served = await started({ corsOrigins: ['https://app.example.com'] });
    const client = session(served.url);
    // Same origin: the hub's own pages. Over HTTP/1.1 the Host header says so; over h2, :authority.
    const own = h2Request(client, served.subscribePath([TOPIC]), { headers: { origin: served.url } });
    expect((await own.response)[':status']).toBe(200);
    const app = h2Request(client, served.subscribePath([TOPIC]), {
      headers: { origin: 'https://app.example.com' },
    });
    const appHead = await app.response;
    expect(appHead[':status']).toBe(200);
    expect(appHead['access-control-allow-origin']).toBe('https://app.example.com');
    const stranger = h2Request(client, served.subscribePath([TOPIC]), {
      headers: { origin: 'https://evil.example' },
    });
    expect((await stranger.response)[':status']).toBe(403);
  });

  it('closeHubServer: GOAWAY first, then retry: and the end of every stream', async () => {
    const served = await started({ shutdownRetryMs: 1500 });
    const client = session(served.url);
    const subscriber = h2Request(client, served.subscribePath([TOPIC]));
    await subscribed(served, subscriber, 1);
    const order: string[] = [];
    client.once('goaway', (code: number) => order.push(`goaway ${code}`));
    subscriber.stream.once('end', () => order.push(`end (retry ${subscriber.retries.join(',')})`));
    const closing = served.close();
    await subscriber.closed;
    await closing;
    expect(order).toEqual(['goaway 0', 'end (retry 1500)']);
    expect(await subscriber.closed).toBe(0);
    await waitFor(() => client.closed || client.destroyed, 2000, 'the client session closed');
  });

  it('checks its options', () => {
    const hub = createHub({ anonymous: true, logger: silentLogger });
    cleanups.push(() => hub.close());
    expect(() => createHubServer(hub, { tls: testCertificate(), h2c: true })).toThrow(HubError);
    expect(() => createHubServer(hub, { maxConcurrentStreams: 0 })).toThrow(/maxConcurrentStreams/);
  });
});

describe('hub over h2c (cleartext HTTP/2, behind a TLS-terminating proxy)', () => {
  it('subscribes, publishes and closes with GOAWAY', async () => {
    const served = await started({}, { h2c: true });
    expect(served.url.startsWith('http://')).toBe(true);
    const client = session(served.url);
    const subscriber = h2Request(client, served.subscribePath([TOPIC]));
    const head = await subscriber.response;
    expect(head[':status']).toBe(200);
    expectNoConnectionHeaders(head);
    await subscribed(served, subscriber, 1);
    expect(
      await h2Publish(client, served.publisherToken, { topic: TOPIC, id: 'c', data: 'h2c' }),
    ).toMatchObject({
      status: 200,
      body: 'c',
    });
    await subscriber.waitForEvents(1);
    let goaway = false;
    client.once('goaway', () => {
      goaway = true;
    });
    await served.close();
    await subscriber.closed;
    expect(goaway).toBe(true);
    await sleep(10);
  });
});
