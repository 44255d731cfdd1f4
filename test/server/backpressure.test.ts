import { createServer, type Server } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2Server, type Http2Server } from 'node:http2';
import {
  type AddressInfo,
  connect,
  createServer as createNetServer,
  type Server as NetServer,
} from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createParser } from '../../src/protocol/index.js';
import {
  createEventStream,
  createEventStreamResponse,
  createSocketEventStream,
  type EventStream,
  type Logger,
  serverStats,
} from '../../src/server/index.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';

/*
 * A stream's own limit (maxBufferedBytes) against the high-water mark of what it writes to. A
 * socket's mark is 16 KiB on Node.js 20 and 64 KiB from 22 on, and a server can set any: with a limit
 * at or below the mark, a writer that waits whenever send() says false used to be told so only once
 * it was already past the limit, and was dropped. Each case sets the mark above the limit, so it
 * fails on every Node.js line if the stream trusts the mark.
 */

const LIMIT = 64 * 1024;
/** Well above LIMIT, and above every Node.js line's default mark. */
const TRANSPORT_MARK = 1024 * 1024;
const EVENT_DATA = 'p'.repeat(8 * 1024);
/** 16 MiB in all: more than loopback's socket buffers hold, so a client that does not read holds the writer up. */
const EVENTS = 2000;

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Written {
  waits: number;
  /** The most the stream held unread at any send. */
  mostBuffered: number;
}

/** Sends EVENTS events the way a replay does: whenever send() says false, wait for drained(). */
async function writePaced(stream: EventStream, written: Written): Promise<void> {
  for (let i = 0; i < EVENTS && stream.isOpen; i++) {
    const ok = stream.send({ id: String(i), data: EVENT_DATA });
    written.mostBuffered = Math.max(written.mostBuffered, stream.bufferedBytes);
    if (!ok) {
      written.waits++;
      await stream.drained();
    }
  }
}

/** Counts the events and the last id in SSE bytes. */
function eventCounter() {
  const seen = { count: 0, lastId: '' };
  const parser = createParser({
    onEvent: ({ lastEventId }) => {
      seen.count++;
      seen.lastId = lastEventId;
    },
  });
  return { seen, feed: (chunk: Uint8Array | string) => parser.feed(chunk) };
}

function recordingLogger(): Logger & { drops: number[] } {
  const drops: number[] = [];
  const warn: Logger['warn'] = (fields) => {
    const buffered = (fields as { bufferedBytes?: number }).bufferedBytes;
    if (typeof buffered === 'number') drops.push(buffered);
  };
  return { drops, debug() {}, info() {}, warn, error() {} };
}

/** A node:http server whose sockets' high-water mark is TRANSPORT_MARK; each request opens a stream. */
async function httpServer(onStream: (stream: EventStream) => void, logger: Logger): Promise<string> {
  const server: Server = createServer({ highWaterMark: TRANSPORT_MARK }, (req, res) => {
    onStream(createEventStream(req, res, { maxBufferedBytes: LIMIT, heartbeatMs: 0, logger }));
  });
  closers.push(() => closeServer(server));
  const url = await listen(server);
  return url;
}

/** A raw HTTP/1.1 client that reads nothing until `resume` is called. */
async function pausedClient(url: string) {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  closers.push(() => {
    socket.destroy();
  });
  const counter = eventCounter();
  let head = true;
  socket.on('data', (chunk: Buffer) => {
    // HTTP/1.0: no chunked framing, the body is the event stream itself.
    const text = chunk.toString('latin1');
    if (!head) return counter.feed(text);
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return;
    head = false;
    counter.feed(text.slice(end + 4));
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET / HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n');
  socket.pause();
  return { seen: counter.seen, resume: () => socket.resume() };
}

describe('backpressure: a writer that waits is never dropped, whatever the mark under the stream', () => {
  it('node:http: a client that stops reading holds the writer below maxBufferedBytes, then gets everything', async () => {
    const logger = recordingLogger();
    const written: Written = { waits: 0, mostBuffered: 0 };
    let stream: EventStream | undefined;
    const url = await httpServer((opened) => {
      stream = opened;
    }, logger);
    const client = await pausedClient(url);
    await waitFor(() => stream);
    const open = stream as EventStream;
    const before = serverStats.slowConsumersClosed;
    const writing = writePaced(open, written);
    await waitFor(() => written.waits > 0, 10_000, 'the writer to be told to wait');
    client.resume();
    await writing;
    await waitFor(() => client.seen.count === EVENTS, 15_000, `${EVENTS} events (have ${client.seen.count})`);
    expect(client.seen.lastId).toBe(String(EVENTS - 1));
    expect(open.isOpen).toBe(true);
    expect(written.mostBuffered).toBeLessThanOrEqual(LIMIT);
    expect(logger.drops).toEqual([]);
    expect(serverStats.slowConsumersClosed).toBe(before);
  });

  it('node:http: a client that never reads is dropped once past maxBufferedBytes, not at the socket mark', async () => {
    const logger = recordingLogger();
    let stream: EventStream | undefined;
    const url = await httpServer((opened) => {
      stream = opened;
    }, logger);
    await pausedClient(url);
    await waitFor(() => stream);
    const open = stream as EventStream;
    // A fan-out writer does not wait: it writes on, and the stream must enforce its limit itself.
    for (let i = 0; i < EVENTS && open.isOpen; i++) {
      open.send({ data: EVENT_DATA });
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(open.isOpen).toBe(false);
    expect(logger.drops).toHaveLength(1);
    expect(logger.drops[0]).toBeGreaterThan(LIMIT);
    expect(logger.drops[0]).toBeLessThan(LIMIT + 2 * EVENT_DATA.length);
  });

  it('a bare socket (createSocketEventStream): the same pace', async () => {
    const logger = recordingLogger();
    const written: Written = { waits: 0, mostBuffered: 0 };
    let stream: EventStream | undefined;
    const server: NetServer = createNetServer({ highWaterMark: TRANSPORT_MARK }, (socket) => {
      socket.once('data', () => {
        stream = createSocketEventStream(
          socket,
          { httpVersion: '1.0', url: '/', headers: {} },
          { maxBufferedBytes: LIMIT, heartbeatMs: 0, logger },
        );
      });
    });
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = await pausedClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await waitFor(() => stream);
    const open = stream as EventStream;
    const writing = writePaced(open, written);
    await waitFor(() => written.waits > 0, 10_000, 'the writer to be told to wait');
    client.resume();
    await writing;
    await waitFor(() => client.seen.count === EVENTS, 15_000, `${EVENTS} events (have ${client.seen.count})`);
    expect(open.isOpen).toBe(true);
    expect(written.mostBuffered).toBeLessThanOrEqual(LIMIT);
    expect(logger.drops).toEqual([]);
    open.close();
  });

  it('node:http2: a stream past its window holds the writer below maxBufferedBytes, then gets everything', async () => {
    // An HTTP/2 stream's mark cannot be set: a limit below every line's default (16 KiB) stands in.
    const limit = 8 * 1024;
    const data = 'q'.repeat(1024);
    const logger = recordingLogger();
    const written: Written = { waits: 0, mostBuffered: 0 };
    let stream: EventStream | undefined;
    const server: Http2Server = createHttp2Server();
    server.on('stream', (h2stream, headers) => {
      stream = createEventStream(h2stream, headers, { maxBufferedBytes: limit, heartbeatMs: 0, logger });
    });
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = connectHttp2(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    closers.push(() => {
      session.destroy();
    });
    const request = session.request({ ':path': '/', accept: 'text/event-stream' });
    const counter = eventCounter();
    request.on('data', (chunk: Buffer) => counter.feed(chunk));
    request.pause();
    await waitFor(() => stream);
    const open = stream as EventStream;
    const events = 500;
    const writing = (async () => {
      for (let i = 0; i < events && open.isOpen; i++) {
        const ok = open.send({ id: String(i), data });
        written.mostBuffered = Math.max(written.mostBuffered, open.bufferedBytes);
        if (!ok) {
          written.waits++;
          await open.drained();
        }
      }
    })();
    await waitFor(() => written.waits > 0, 10_000, 'the writer to be told to wait');
    request.resume();
    await writing;
    await waitFor(
      () => counter.seen.count === events,
      15_000,
      `${events} events (have ${counter.seen.count})`,
    );
    expect(open.isOpen).toBe(true);
    expect(written.mostBuffered).toBeLessThanOrEqual(limit);
    expect(logger.drops).toEqual([]);
    open.close();
  });

  it('a Web Response (createEventStreamResponse) whose queue is larger than maxBufferedBytes: the same pace', async () => {
    const logger = recordingLogger();
    const written: Written = { waits: 0, mostBuffered: 0 };
    const stream = createEventStreamResponse(new Request('http://127.0.0.1/events'), {
      highWaterMark: TRANSPORT_MARK,
      maxBufferedBytes: LIMIT,
      heartbeatMs: 0,
      logger,
    });
    const reader = (stream.response.body as ReadableStream<Uint8Array>).getReader();
    const counter = eventCounter();
    const writing = writePaced(stream, written);
    await waitFor(() => written.waits > 0, 10_000, 'the writer to be told to wait');
    const reading = (async () => {
      while (counter.seen.count < EVENTS) {
        const { value, done } = await reader.read();
        if (done) return;
        counter.feed(value);
      }
    })();
    await writing;
    await reading;
    expect(counter.seen.count).toBe(EVENTS);
    expect(stream.isOpen).toBe(true);
    expect(written.mostBuffered).toBeLessThanOrEqual(LIMIT);
    expect(logger.drops).toEqual([]);
    stream.close();
  });
});
