// siar/client over HTTP/2: EventSource and subscribe() choose h2 by ALPN for https: URLs (or h2c
// with http2: true), share one session per origin, and keep fetch's behaviour (redirects, abort,
// backpressure through flow control, reconnection after a reset).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import {
  constants,
  createServer as createH2cServer,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

/**
 * An HTTP/2 server whose streams `handle` answers: TLS with the dev certificate (and HTTP/1.1 by
 * ALPN), or cleartext h2c with `h2c`.
 */
async function h2Server(
  handle: (stream: ServerHttp2Stream, headers: Record<string, unknown>, n: number) => void,
  { h2c = false } = {},
) {
  const server: Http2Server | Http2SecureServer = h2c
    ? createH2cServer()
    : createSecureServer({ ...testCertificate(), allowHTTP1: true });
  const sessions: ServerHttp2Session[] = [];
  let count = 0;
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => handle(stream, headers, ++count));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `${h2c ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`, sessions };
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

  it('falls back to HTTP/1.1 on the same connection when the server does not offer h2, and reconnects on it', async () => {
    const streams: EventStream[] = [];
    const versions: string[] = [];
    const lastEventIds: unknown[] = [];
    const server: HttpsServer = createHttpsServer(testCertificate(), (req, res) => {
      versions.push(req.httpVersion);
      lastEventIds.push(req.headers['last-event-id']);
      streams.push(createEventStream(req, res, { heartbeatMs: 0, retry: 10 }));
    });
    let connections = 0;
    server.on('secureConnection', () => connections++);
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
    streams[0]?.send({ id: 'one', data: 'over HTTP/1.1' });
    await waitFor(() => messages.length === 1);
    expect(messages).toEqual(['over HTTP/1.1']);
    expect(versions).toEqual(['1.1']);
    // The server ends the stream: the reconnection goes out on the connection kept alive.
    streams[0]?.close();
    await waitFor(() => streams.length === 2, 5000, 'the reconnection');
    streams[1]?.send({ data: 'again' });
    await waitFor(() => messages.length === 2);
    expect(lastEventIds).toEqual([undefined, 'one']);
    expect(connections).toBe(1);
  });
});

/**
 * The client in a child process: for each URL, an EventSource (closed after its first `error`) and
 * a subscribe() with `reconnect: false`; one JSON line each. A crash (an uncaught exception, such as
 * a body enqueued into after it was cancelled) ends the child with a non-zero exit code.
 */
const REFUSAL_CLIENT = `
const { EventSource, subscribe } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../../src/client/index.ts')).href)});
const { urls, ca } = JSON.parse(process.env.SIAR_TEST_REFUSALS);
const options = ca === undefined ? { http2: true } : { tls: { ca } };
for (const url of urls) {
  const eventSource = await new Promise((resolve) => {
    const source = new EventSource(url, options);
    source.onopen = () => {
      source.close();
      resolve({ opened: true });
    };
    source.onerror = (event) => {
      const { readyState } = source;
      source.close();
      resolve({ status: event.status, readyState, message: event.message });
    };
  });
  let subscribed;
  try {
    for await (const event of subscribe(url, { ...options, reconnect: false })) subscribed = { event };
    subscribed ??= { ended: true };
  } catch (error) {
    subscribed = { code: error.code, status: error.status, message: error.message };
  }
  console.log(JSON.stringify({ url, eventSource, subscribed }));
}
`;

/** Runs {@link REFUSAL_CLIENT} until it exits by itself: its exit code, stderr and results by URL. */
async function runRefusalClient(urls: string[], ca: string | undefined) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', REFUSAL_CLIENT], {
    env: { ...process.env, SIAR_TEST_REFUSALS: JSON.stringify({ urls, ca }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | string>((resolve) =>
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? -1)),
  );
  const results = new Map<
    string,
    { eventSource: Record<string, unknown>; subscribed: Record<string, unknown> }
  >();
  for (const line of stdout.split('\n').filter((text) => text !== '')) {
    const { url, ...result } = JSON.parse(line);
    results.set(url, result);
  }
  return { code, stderr, results };
}

/** Answers every request as its path says: a status with a body, a page, a redirect to itself. */
function refusing(
  req: { url?: string },
  // The part of node:http's and node:http2's (compatibility) responses this uses.
  res: { writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown },
): void {
  const path = req.url ?? '/';
  if (path === '/204') {
    res.writeHead(204, {});
    res.end('');
  } else if (path === '/loop') {
    res.writeHead(302, { location: '/loop' });
    res.end('');
  } else if (path === '/page') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>not a stream</title>${'<p>page</p>'.repeat(2000)}`);
  } else {
    const status = Number(path.slice(1));
    res.writeHead(status, { 'content-type': 'text/plain' });
    // Some bodies larger than a stream's 64 KiB window, so chunks are still arriving when the client lets go.
    res.end(`refused with ${status}\n${'x'.repeat(status === 500 ? 200_000 : 2000)}`);
  }
}

const TRANSPORTS = {
  'HTTP/2 over TLS with the dev certificate': () => createSecureServer(testCertificate(), refusing),
  h2c: () => createH2cServer(refusing),
  'HTTP/1.1 over TLS (the server offers no h2)': () => createHttpsServer(testCertificate(), refusing),
};

describe('non-200 answers (the client in a child process, which must not crash)', () => {
  for (const [transport, createRefusingServer] of Object.entries(TRANSPORTS)) {
    it(`EventSource fails and subscribe() throws for each, and the process lives on and exits by itself: ${transport}`, async () => {
      const h2c = transport === 'h2c';
      const server = createRefusingServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      const url = `${h2c ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // The hub's own 401, over HTTP/2 (TLS or h2c).
      const hubUrl = transport.startsWith('HTTP/1.1')
        ? undefined
        : (await hubRecording({ anonymous: false }, h2c ? { h2c: true } : {})).subscribeUrl([TOPIC]);
      const statuses = [204, 401, 403, 404, 500];
      const urls = [...statuses.map((status) => `${url}/${status}`), `${url}/page`, `${url}/loop`];
      if (hubUrl !== undefined) urls.push(hubUrl);
      const { code, stderr, results } = await runRefusalClient(urls, h2c ? undefined : tls().ca);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      for (const status of statuses) {
        expect(results.get(`${url}/${status}`)?.eventSource).toMatchObject({ status, readyState: 2 });
      }
      expect(results.get(`${url}/204`)?.subscribed).toEqual({ ended: true });
      for (const status of [401, 403, 404, 500]) {
        expect(results.get(`${url}/${status}`)?.subscribed).toMatchObject({ code: 'http-status', status });
      }
      expect(results.get(`${url}/500`)?.subscribed.message).toMatch(/: refused with 500 x+…$/);
      expect(results.get(`${url}/page`)).toMatchObject({
        eventSource: {
          status: 200,
          readyState: 2,
          message: expect.stringMatching(/Content-Type text\/html/),
        },
        subscribed: { code: 'bad-content-type', status: 200 },
      });
      // A redirect loop is a network error: the EventSource would reconnect (it is closed after the event).
      expect(results.get(`${url}/loop`)).toMatchObject({
        eventSource: { readyState: 0, message: expect.stringMatching(/more than 20 redirects/) },
        subscribed: { code: 'network', message: expect.stringMatching(/more than 20 redirects/) },
      });
      if (hubUrl !== undefined) {
        expect(results.get(hubUrl)).toMatchObject({
          eventSource: { status: 401, readyState: 2 },
          subscribed: { code: 'http-status', status: 401 },
        });
      }
      expect(results.size).toBe(urls.length);
    });
  }
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
    const { url } = await h2Server((stream, headers, n) => {
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
    const { url } = await h2Server((stream, headers) => {
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
    const { url, sessions } = await h2Server((stream, headers) => {
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
  it('HTTP/1.1 fallback: keep-alive connections reused, at most maxHttp1Connections at once, closed by close()', async () => {
    const open = new Set<import('node:tls').TLSSocket>();
    let made = 0;
    let most = 0;
    const held: Array<import('node:http').ServerResponse> = [];
    const server: HttpsServer = createHttpsServer(testCertificate(), (req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': held open\n\n');
        held.push(res);
      } else res.end('short');
    });
    server.on('secureConnection', (socket) => {
      made++;
      open.add(socket);
      most = Math.max(most, open.size);
      socket.once('close', () => open.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    cleanups.push(() => server.closeAllConnections());
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const pool = new Http2SessionPool({ maxHttp1Connections: 2 });
    cleanups.push(() => pool.close());
    const fetch = createHttp2Fetch({ tls: tls(), pool });

    // One after another, each read to its end: one connection for all three.
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${url}/short`)).text()).toBe('short');
    expect(made).toBe(1);

    // Two streams held open take the two connections allowed; a third request waits for one.
    const first = await fetch(`${url}/stream`);
    const second = await fetch(`${url}/stream`);
    expect(made).toBe(2);
    let third: Promise<string> | undefined = fetch(`${url}/short`).then((response) => response.text());
    let answered = false;
    third.then(() => {
      answered = true;
    });
    await sleep(200);
    expect({ answered, made }).toEqual({ answered: false, made: 2 });
    // Cancelling a stream ends its connection (it cannot be reused mid-response): the third goes out.
    await first.body?.cancel();
    expect(await third).toBe('short');
    third = undefined;
    expect(most).toBe(2);

    // close(): the idle connection closes now, the busy one once its response ends.
    pool.close();
    await waitFor(() => open.size === 1, 2000, 'the idle connection closed');
    held[1]?.end();
    expect(await second.text()).toBe(': held open\n\n');
    await waitFor(() => open.size === 0, 2000, 'the busy connection closed after its response');
  });
});

describe('createHttp2Fetch', () => {
  it('posts a body, follows a 303 to a GET, and answers a standard Response', async () => {
    const seen: string[] = [];
    const { url } = await h2Server((stream, headers) => {
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
  it('a cancelled body lets the stream go: the server sees RST_STREAM CANCEL, and the session is free again', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    cleanups.push(() => process.off('uncaughtException', onUncaught));
    const closed: number[] = [];
    const { url, sessions } = await h2Server((stream) => {
      stream.on('error', () => {});
      stream.once('close', () => closed.push(stream.rstCode));
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      // Far past the window: the stream is still sending when the client cancels.
      stream.end(Buffer.alloc(1_000_000, 1));
    });
    const pool = new Http2SessionPool({ idleTimeoutMs: 100 });
    cleanups.push(() => pool.close());
    const fetch = createHttp2Fetch({ tls: tls(), pool });
    const response = await fetch(`${url}/big`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await waitFor(() => closed.length === 1, 2000, 'the server stream to close');
    expect(closed).toEqual([constants.NGHTTP2_CANCEL]);
    // No stream is left on the session: idle, it closes after idleTimeoutMs.
    await waitFor(() => sessions[0]?.closed || sessions[0]?.destroyed, 2000, 'the idle session closed');
    expect(pool.size).toBe(0);
    expect(uncaught).toEqual([]);
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
