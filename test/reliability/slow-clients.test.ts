// Slow and oversized clients against the standalone server (`createHubServer`, cleartext HTTP/1.1):
// the fast path reads each connection's first request head, node:http every later one and every
// body. A client that sends its head or its body slowly must not hold a socket for long, one that
// sends too much must get 431 or 413, and the subscribers already connected must not notice.
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { HubOptions, HubServerOptions } from '../../src/hub/index.js';
import { type ServedHub, serveHub, testCertificate } from '../helpers/http2.js';
import { sleep, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

const defer = cleanupAfterEach();

const TOPIC = 'https://example.com/slow';
/** Short timeouts, so that the tests wait for them in a second or two. */
const TIMEOUTS: HubServerOptions = { headersTimeoutMs: 400, requestTimeoutMs: 800 };

async function standalone(options: HubOptions = {}, server: HubServerOptions = TIMEOUTS): Promise<ServedHub> {
  const served = await serveHub(options, { plain: true, ...server });
  defer(() => served.close());
  return served;
}

/** A raw connection that records what it receives and whether the server closed it. */
interface Raw {
  socket: Socket;
  received(): string;
  closed(): boolean;
  /** Writes `text` one byte every `gapMs` until the socket closes or the text runs out. */
  drip(text: string, gapMs?: number): Promise<void>;
}

function raw(served: ServedHub): Raw {
  const port = Number(new URL(served.url).port);
  const socket = served.url.startsWith('https:')
    ? connectTls({ port, host: '127.0.0.1', ca: testCertificate().cert, ALPNProtocols: ['http/1.1'] })
    : connect(port, '127.0.0.1');
  defer(() => socket.destroy());
  let received = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
  });
  return {
    socket,
    received: () => received,
    closed: () => closed,
    async drip(text, gapMs = 50) {
      for (const byte of text) {
        if (closed) return;
        socket.write(byte);
        await sleep(gapMs);
      }
    },
  };
}

/** A subscriber to TOPIC through the fast path, to show that the others go on. */
async function watcher(served: ServedHub) {
  const client = await openSse(served.subscribeUrl([TOPIC]));
  defer(() => client.close());
  expect(client.status).toBe(200);
  return client;
}

async function stillServes(served: ServedHub, client: Awaited<ReturnType<typeof watcher>>, id: string) {
  expect(await served.publish({ topic: TOPIC, id })).toBe(200);
  await waitFor(() => client.events.some((event) => event.lastEventId === id), 5000, `event ${id}`);
  expect(client.isEnded()).toBe(false);
}

const publishHead = (served: ServedHub, length: number) =>
  `POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer ${served.publisherToken}\r\n` +
  `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n`;

describe('standalone server: slow clients are dropped (slowloris)', () => {
  it('drops a client that sends its first request head byte by byte (the fast path reads it)', async () => {
    const served = await standalone();
    const client = await watcher(served);
    const slow = raw(served);
    // Never finishes: a request line, then a header that goes on and on.
    const dripping = slow.drip(
      `GET /.well-known/mercure?topic=${TOPIC} HTTP/1.1\r\nX-Slow: ${'a'.repeat(400)}`,
    );
    await waitFor(slow.closed, 5000, 'the server to drop the slow head');
    await dripping;
    expect(slow.received()).toBe('');
    expect(served.hub.stats().subscribers).toBe(1);
    await stillServes(served, client, 'after-slow-head');
  });

  it('drops a keep-alive client that drips its second request head (node:http reads it)', async () => {
    const served = await standalone();
    const client = await watcher(served);
    const slow = raw(served);
    slow.socket.write('GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n');
    await waitFor(() => slow.received().includes('"status":"ok"'), 5000, 'the first answer');
    const dripping = slow.drip(`GET /healthz HTTP/1.1\r\nX-Slow: ${'a'.repeat(400)}`);
    await waitFor(slow.closed, 5000, 'the server to drop the slow second head');
    await dripping;
    await stillServes(served, client, 'after-slow-second-head');
  });

  it('answers 408 and closes the connection when a publish body comes too slowly', async () => {
    const served = await standalone();
    const client = await watcher(served);
    const slow = raw(served);
    const body = `topic=${encodeURIComponent(TOPIC)}&id=slow&data=${'x'.repeat(400)}`;
    slow.socket.write(publishHead(served, body.length));
    const dripping = slow.drip(body);
    await waitFor(slow.closed, 5000, 'the server to drop the slow body');
    await dripping;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(served.hub.stats().updatesPublished).toBe(0);
    await stillServes(served, client, 'after-slow-body');
    expect(client.events.map((event) => event.lastEventId)).toEqual(['after-slow-body']);
  });

  it('does the same for a body sent to a path that never reads it (/healthz), without a token', async () => {
    const served = await standalone();
    const slow = raw(served);
    slow.socket.write('POST /healthz HTTP/1.1\r\nHost: hub\r\nContent-Length: 100000\r\n\r\n');
    const dripping = slow.drip('x'.repeat(400));
    await waitFor(slow.closed, 5000, 'the server to drop the slow body');
    await dripping;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('holds HTTP/1.1 over TLS to the same times (the secure server serves it through node:http)', async () => {
    const served = await serveHub({}, TIMEOUTS);
    defer(() => served.close());
    const head = raw(served);
    const body = raw(served);
    body.socket.write('POST /healthz HTTP/1.1\r\nHost: hub\r\nContent-Length: 100000\r\n\r\n');
    await Promise.all([
      head.drip(`GET /healthz HTTP/1.1\r\nX-Slow: ${'a'.repeat(400)}`),
      body.drip('x'.repeat(400)),
      waitFor(() => head.closed() && body.closed(), 5000, 'the server to drop both'),
    ]);
    expect(body.received()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('never times out an event stream, through the fast path or through node:http', async () => {
    const served = await standalone();
    const fast = await watcher(served);
    // A head with a (chunked, empty) body is one the fast path leaves to node:http.
    const viaHttp = raw(served);
    viaHttp.socket.write(
      `GET /.well-known/mercure?topic=${encodeURIComponent(TOPIC)} HTTP/1.1\r\nHost: hub\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    await waitFor(() => served.hub.stats().subscribers === 2, 5000, 'two subscribers');
    // Well past requestTimeoutMs and headersTimeoutMs, and past node:http's checks of them.
    await sleep(2500);
    await stillServes(served, fast, 'later');
    await waitFor(() => viaHttp.received().includes('id: later'), 5000, 'the event through node:http');
    expect(viaHttp.closed()).toBe(false);
  });
});

describe('standalone server: request and header size limits', () => {
  it('answers 431 to a first request head over 16 KiB (fast path) and to a later one (node:http)', async () => {
    const served = await standalone();
    const client = await watcher(served);
    const first = raw(served);
    first.socket.write(`GET /.well-known/mercure?topic=a HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await waitFor(first.closed, 5000, 'the first connection to close');
    expect(first.received()).toMatch(/^HTTP\/1\.1 431 /);
    const later = raw(served);
    later.socket.write('GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n');
    await waitFor(() => later.received().includes('"status":"ok"'), 5000, 'the first answer');
    later.socket.write(`GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await waitFor(later.closed, 5000, 'the second connection to close');
    expect(later.received()).toMatch(/HTTP\/1\.1 431 /);
    expect(served.hub.stats().subscribers).toBe(1);
    await stillServes(served, client, 'after-431');
  });

  it('answers 413 to a publish body over maxUpdateBytes, declared or chunked, and stores nothing', async () => {
    const served = await standalone({ maxUpdateBytes: 1024 });
    const client = await watcher(served);
    const declared = raw(served);
    declared.socket.write(publishHead(served, 5000));
    await waitFor(() => declared.received().includes('\r\n\r\n'), 5000, 'the answer');
    expect(declared.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared.received()).toMatch(/connection: close/i);
    const chunked = raw(served);
    chunked.socket.write(
      publishHead(served, 0).replace('Content-Length: 0', 'Transfer-Encoding: chunked') +
        `${(3000).toString(16)}\r\ntopic=a&data=${'y'.repeat(2987)}\r\n`,
    );
    await waitFor(chunked.closed, 5000, 'the chunked publish to be closed');
    expect(chunked.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(served.hub.stats().updatesPublished).toBe(0);
    await stillServes(served, client, 'after-413');
    expect(client.events.map((event) => event.lastEventId)).toEqual(['after-413']);
  });
});

describe('standalone server: subscriber limits through the fast path', () => {
  it('answers 503 with Retry-After past maxSubscribers, 429 past maxSubscribersPerAddress, 400 past maxTopics', async () => {
    const served = await standalone({ maxSubscribers: 3, maxSubscribersPerAddress: 2, maxTopics: 2 });
    const one = await watcher(served);
    await watcher(served);
    const perAddress = await openSse(served.subscribeUrl([TOPIC]));
    expect(perAddress.status).toBe(429);
    expect(perAddress.headers['retry-after']).toMatch(/^\d+$/);
    // Another address (127.0.0.2 is loopback too) may still come in, up to maxSubscribers in all.
    const other = connect({
      port: Number(new URL(served.url).port),
      host: '127.0.0.1',
      localAddress: '127.0.0.2',
    });
    defer(() => other.destroy());
    other.on('error', () => {});
    other.write(`GET /.well-known/mercure?topic=${encodeURIComponent(TOPIC)} HTTP/1.1\r\nHost: hub\r\n\r\n`);
    await waitFor(() => served.hub.stats().subscribers === 3, 5000, 'the third subscriber');
    const total = await openSse(served.subscribeUrl([TOPIC]));
    expect(total.status).toBe(503);
    expect(total.headers['retry-after']).toMatch(/^\d+$/);
    const topics = await openSse(served.subscribeUrl(['a', 'b', 'c']));
    expect(topics.status).toBe(400);
    await stillServes(served, one, 'after-limits');
  });
});
