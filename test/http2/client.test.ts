// siar/client over HTTP/2: EventSource and subscribe() choose h2 by ALPN for https: URLs (or h2c
// with http2: true), share one session per origin, and keep fetch's behaviour (redirects, abort,
// backpressure through flow control, reconnection after a reset).
import { writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import {
  constants,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClientError,
  createHttp2Fetch,
  EventSource,
  Http2SessionPool,
  type Subscription,
  subscribe,
} from '../../src/client/index.js';
import type { ParsedEvent } from '../../src/protocol/index.js';
import { createEventStream, type EventStream, silentLogger } from '../../src/server/index.js';
import { type ServedHub, serveHub, testCertificate } from '../helpers/http2.js';
import { sleep, waitFor } from '../helpers/net.js';
import { cliKilledAfterEach, tempDirsRemovedAfterEach } from '../hub/hub-helpers.js';

const TOPIC = 'https://example.com/books/1';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const tls = () => ({ ca: testCertificate().cert });

/** A hub over TLS (h2 + HTTP/1.1), recording the HTTP version of every request and the sessions. */
async function hubRecording(
  ...args: Parameters<typeof serveHub>
): Promise<ServedHub & { versions: string[]; sessions: number }> {
  const served = await serveHub(...args);
  cleanups.push(() => served.close());
  const recorded = Object.assign(served, { versions: [] as string[], sessions: 0 });
  served.server.on('request', (req: IncomingMessage | Http2ServerRequest) =>
    recorded.versions.push(req.httpVersion),
  );
  served.server.on('session', () => recorded.sessions++);
  return recorded;
}

async function publish(served: ServedHub, fields: Record<string, string>): Promise<void> {
  expect(await served.publish(fields)).toBe(200);
}

function started(subscription: Subscription): Subscription {
  cleanups.push(() => subscription.close());
  return subscription;
}

/** A TLS HTTP/2 server (with HTTP/1.1 by ALPN) whose streams `handle` answers. */
async function secureH2(
  handle: (stream: ServerHttp2Stream, headers: Record<string, unknown>, n: number) => void,
) {
  const server: Http2SecureServer = createSecureServer({ ...testCertificate(), allowHTTP1: true });
  const sessions: ServerHttp2Session[] = [];
  let count = 0;
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => handle(stream, headers, ++count));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, sessions };
}

describe('EventSource over HTTP/2', () => {
  it('uses h2 for an https: hub that offers it, and receives its updates', async () => {
    const served = await hubRecording();
    const source = new EventSource(served.subscribeUrl([TOPIC]), { tls: tls() });
    cleanups.push(() => source.close());
    const messages: MessageEvent<string>[] = [];
    source.onmessage = (event) => messages.push(event);
    await new Promise((resolve) => source.addEventListener('open', resolve, { once: true }));
    await waitFor(() => served.hub.stats().subscribers === 1);
    await publish(served, { topic: TOPIC, id: 'es', data: 'to EventSource over h2' });
    await waitFor(() => messages.length === 1);
    expect(messages[0]?.data).toBe('to EventSource over h2');
    expect(messages[0]?.lastEventId).toBe('es');
    expect(messages[0]?.origin).toBe(served.url);
    expect(served.versions[0]).toBe('2.0');
    // close() resets the stream: the hub lets the subscription go at once.
    source.close();
    await waitFor(() => served.hub.stats().subscribers === 0, 1000);
  });

  it('20 EventSources to one origin share one HTTP/2 connection', async () => {
    const served = await hubRecording();
    const sources = Array.from(
      { length: 20 },
      () => new EventSource(served.subscribeUrl([TOPIC]), { tls: tls() }),
    );
    cleanups.push(() => {
      for (const source of sources) source.close();
    });
    const received: string[] = [];
    for (const source of sources) source.onmessage = (event) => received.push(event.data);
    await waitFor(() => served.hub.stats().subscribers === 20);
    await publish(served, { topic: TOPIC, data: 'to all 20' });
    await waitFor(() => received.length === 20);
    expect(new Set(served.versions)).toEqual(new Set(['2.0']));
    // One session for the 20 streams, and one for the publisher.
    expect(served.sessions).toBe(2);
  });

  it('falls back to HTTP/1.1 on the same connection when the server does not offer h2', async () => {
    const streams: EventStream[] = [];
    const versions: string[] = [];
    const server: HttpsServer = createHttpsServer(testCertificate(), (req, res) => {
      versions.push(req.httpVersion);
      streams.push(createEventStream(req, res, { heartbeatMs: 0 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    cleanups.push(() => server.closeAllConnections());
    const source = new EventSource(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      tls: tls(),
    });
    cleanups.push(() => source.close());
    const messages: string[] = [];
    source.onmessage = (event) => messages.push(event.data);
    await waitFor(() => streams.length === 1);
    streams[0]?.send({ data: 'over HTTP/1.1' });
    await waitFor(() => messages.length === 1);
    expect(messages).toEqual(['over HTTP/1.1']);
    expect(versions).toEqual(['1.1']);
  });
});

describe('subscribe() over HTTP/2', () => {
  it('uses h2 for an https: hub, and a signal abort resets the stream at once', async () => {
    const served = await hubRecording();
    const controller = new AbortController();
    const subscription = started(
      subscribe(served.subscribeUrl([TOPIC]), { tls: tls(), signal: controller.signal }),
    );
    const first = subscription.next();
    await waitFor(() => served.hub.stats().subscribers === 1);
    await publish(served, { topic: TOPIC, id: 'sub', data: 'to subscribe()' });
    expect((await first).value).toEqual({ type: 'message', data: 'to subscribe()', lastEventId: 'sub' });
    expect(served.versions).toEqual(['2.0', '2.0']);
    const reason = new Error('enough');
    const next = subscription.next();
    controller.abort(reason);
    await expect(next).rejects.toBe(reason);
    await waitFor(() => served.hub.stats().subscribers === 0, 1000);
  });

  it('speaks h2c to an http: server with http2: true', async () => {
    const served = await hubRecording({}, { h2c: true });
    const subscription = started(subscribe(served.subscribeUrl([TOPIC]), { http2: true }));
    const first = subscription.next();
    await waitFor(() => served.hub.stats().subscribers === 1);
    await publish(served, { topic: TOPIC, data: 'h2c' });
    expect((await first).value?.data).toBe('h2c');
    expect(served.versions[0]).toBe('2.0');
  });

  it('with http2: true, fails clearly on a server that does not offer h2', async () => {
    const server = createHttpsServer(testCertificate(), (_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const error = await started(subscribe(url, { http2: true, tls: tls(), reconnect: false }))
      .next()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('network');
    expect((error as ClientError).message).toMatch(/does not offer HTTP\/2/);
    expect(() => subscribe(url, { http2: false, tls: tls() })).toThrow(/tls needs the built-in transport/);
  });

  it('reconnects with Last-Event-ID after the server resets the stream', async () => {
    const lastEventIds: unknown[] = [];
    const { url } = await secureH2((stream, headers, n) => {
      lastEventIds.push(headers['last-event-id']);
      const events = createEventStream(stream, headers as Record<string, string>, {
        heartbeatMs: 0,
        retry: 10,
        logger: silentLogger,
      });
      events.send({ id: String(n), data: `connection ${n}` });
      // An abrupt reset (RST_STREAM INTERNAL_ERROR); close(code) would first end the stream cleanly.
      if (n === 1) setTimeout(() => stream.destroy(new Error('reset for the test')), 20);
    });
    const errors: ClientError[] = [];
    const subscription = started(subscribe(url, { tls: tls(), onError: (error) => void errors.push(error) }));
    const events: ParsedEvent[] = [];
    for await (const event of subscription) {
      events.push(event);
      if (events.length === 2) break;
    }
    expect(events.map((event) => event.data)).toEqual(['connection 1', 'connection 2']);
    expect(lastEventIds).toEqual([undefined, '1']);
    expect(errors.map((error) => error.code)).toEqual(['network']);
    expect(errors[0]?.message).toMatch(/NGHTTP2_INTERNAL_ERROR/);
  });

  it('backpressure: a consumer that stops taking events stops the stream, by HTTP/2 flow control', async () => {
    const streams: EventStream[] = [];
    const { url } = await secureH2((stream, headers) => {
      streams.push(
        createEventStream(stream, headers as Record<string, string>, {
          heartbeatMs: 0,
          maxBufferedBytes: 64 * 1024 * 1024,
        }),
      );
    });
    const subscription = started(subscribe(url, { tls: tls(), maxQueuedEvents: 5 }));
    const first = subscription.next();
    await waitFor(() => streams.length === 1);
    const stream = streams[0] as EventStream;
    const count = 2000;
    // 2 MB: far more than the queue, the body's buffer and the stream's 64 KiB window.
    for (let i = 0; i < count; i++) stream.send({ id: String(i), data: 'z'.repeat(1000) });
    expect((await first).value?.lastEventId).toBe('0');
    // The consumer takes nothing for a while: the server is left holding nearly all of it.
    await sleep(300);
    expect(stream.bufferedBytes).toBeGreaterThan(1_500_000);
    // Then it reads: everything arrives, in order.
    let expected = 1;
    for await (const event of subscription) {
      expect(event.lastEventId).toBe(String(expected));
      if (++expected === count) break;
    }
    expect(stream.bufferedBytes).toBe(0);
  });
});

describe('the session pool', () => {
  it('starts a new session after GOAWAY while the streams on the old one go on; closes idle sessions', async () => {
    const streams: EventStream[] = [];
    const { url, sessions } = await secureH2((stream, headers) => {
      streams.push(createEventStream(stream, headers as Record<string, string>, { heartbeatMs: 0 }));
    });
    const pool = new Http2SessionPool({ idleTimeoutMs: 100 });
    cleanups.push(() => pool.close());
    const fetch = createHttp2Fetch({ tls: tls(), pool });
    const old = subscribe(url, { fetch, reconnect: false });
    started(old);
    const oldFirst = old.next();
    await waitFor(() => streams.length === 1);
    expect(pool.size).toBe(1);
    sessions[0]?.goaway(constants.NGHTTP2_NO_ERROR);
    await waitFor(() => pool.size === 0, 1000, 'the session out of the pool');
    const fresh = started(subscribe(url, { fetch, reconnect: false }));
    const freshFirst = fresh.next();
    await waitFor(() => streams.length === 2);
    expect(sessions).toHaveLength(2);
    streams[0]?.send({ data: 'old' });
    streams[1]?.send({ data: 'new' });
    expect((await oldFirst).value?.data).toBe('old');
    expect((await freshFirst).value?.data).toBe('new');
    // Idle: once its streams end, the session closes after idleTimeoutMs.
    fresh.close();
    await waitFor(() => sessions[1]?.closed || sessions[1]?.destroyed, 2000, 'the idle session closed');
    expect(pool.size).toBe(0);
  });
});

describe('createHttp2Fetch', () => {
  it('posts a body, follows a 303 to a GET, and answers a standard Response', async () => {
    const seen: string[] = [];
    const { url } = await secureH2((stream, headers) => {
      const method = String(headers[':method']);
      const path = String(headers[':path']);
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        body += chunk;
      });
      stream.on('end', () => {
        seen.push(`${method} ${path} ${headers['content-type'] ?? '-'} ${body}`);
        if (path === '/form')
          stream.respond({ ':status': 303, location: '/result?x=1' }, { endStream: true });
        else {
          stream.respond({
            ':status': 200,
            'content-type': 'application/json',
            'set-cookie': ['a=1', 'b=2'],
          });
          stream.end(JSON.stringify({ method, path }));
        }
      });
    });
    const fetch = createHttp2Fetch({ tls: tls() });
    const response = await fetch(`${url}/form`, { method: 'POST', body: new URLSearchParams({ q: 'h2' }) });
    expect(response.status).toBe(200);
    expect(response.statusText).toBe('OK');
    expect(response.redirected).toBe(true);
    expect(response.url).toBe(`${url}/result?x=1`);
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ method: 'GET', path: '/result?x=1' });
    expect(seen).toEqual([
      'POST /form application/x-www-form-urlencoded;charset=UTF-8 q=h2',
      'GET /result?x=1 - ',
    ]);
  });
});

describe('siar subscribe (the CLI) over HTTP/2', () => {
  const cli = cliKilledAfterEach();
  const tempDir = tempDirsRemovedAfterEach();

  it('uses h2 for an https: hub and exits once done: an idle session keeps no process alive', async () => {
    const served = await hubRecording();
    const caFile = join(tempDir(), 'ca.pem');
    writeFileSync(caFile, testCertificate().cert);
    const run = cli(['subscribe', served.subscribeUrl([TOPIC]), '--count', '1', '--format', 'json'], {
      NODE_EXTRA_CA_CERTS: caFile,
    });
    await waitFor(() => served.hub.stats().subscribers === 1, 15_000, 'siar subscribe to connect');
    await publish(served, { topic: TOPIC, id: 'cli', data: 'to the CLI' });
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.stdout())).toEqual({ type: 'message', data: 'to the CLI', lastEventId: 'cli' });
    expect(served.versions[0]).toBe('2.0');
  });
});
