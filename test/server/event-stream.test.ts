import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/index.js';
import {
  createChannel,
  createEventStream,
  type EventStream,
  type EventStreamOptions,
  endForGood,
  heartbeatTimers,
  type Logger,
  refuse,
  ServerError,
  serverStats,
} from '../../src/server/index.js';
import { closeServer, listen, sleep, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';

let servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.map(closeServer));
  servers = [];
});

/** A server whose every request opens an event stream; the streams are collected in order. */
async function streamServer(
  options: EventStreamOptions<undefined> | ((req: IncomingMessage) => EventStreamOptions<undefined>) = {},
  onStream: (stream: EventStream, req: IncomingMessage, res: ServerResponse) => void = () => {},
) {
  const streams: EventStream[] = [];
  const server = createServer((req, res) => {
    const stream = createEventStream(req, res, typeof options === 'function' ? options(req) : options);
    streams.push(stream);
    onStream(stream, req, res);
  });
  servers.push(server);
  const url = await listen(server);
  return { url, streams, server };
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (_fields, message) => warnings.push(message), error() {} };
}

describe('createEventStream on node:http', () => {
  it('sends status 200 and the SSE headers at once, before any event', async () => {
    const { url } = await streamServer();
    const client = await openSse(url);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache');
    expect(client.headers.connection).toBe('keep-alive');
    expect(client.headers['x-accel-buffering']).toBe('no');
    expect(client.events).toEqual([]);
    client.close();
  });

  it('sends the retry hint first, then the events, byte-exact', async () => {
    const { url, streams } = await streamServer({ retry: 2500, headers: { 'X-Extra': 'yes' } });
    const client = await openSse(url);
    expect(client.headers['x-extra']).toBe('yes');
    const stream = streams[0] as EventStream;
    expect(stream.send({ data: 'one' })).toBe(true);
    expect(stream.send({ event: 'price', id: '7', data: 'line 1\nline 2' })).toBe(true);
    expect(stream.comment('hello')).toBe(true);
    await client.waitForEvents(2);
    await waitFor(() => client.comments.includes('hello'));
    expect(client.retries).toEqual([2500]);
    expect(client.events).toEqual([
      { type: 'message', data: 'one', lastEventId: '' },
      { type: 'price', data: 'line 1\nline 2', lastEventId: '7' },
    ]);
    expect(client.text).toBe(
      'retry: 2500\n\ndata: one\n\nevent: price\nid: 7\ndata: line 1\ndata: line 2\n\n: hello\n\n',
    );
    client.close();
  });

  it('refuses an event that would break the frame and sends nothing of it', async () => {
    const { url, streams } = await streamServer();
    const client = await openSse(url);
    const stream = streams[0] as EventStream;
    expect(() => stream.send({ id: 'a\nb', data: 'x' })).toThrow(ProtocolError);
    stream.send({ data: 'after' });
    await client.waitForEvents(1);
    expect(client.events).toEqual([{ type: 'message', data: 'after', lastEventId: '' }]);
    expect(stream.isOpen).toBe(true);
    client.close();
  });

  it('reads the last event ID from the header, else from the query parameter', async () => {
    const { url, streams } = await streamServer((req) => ({
      lastEventIdParam: req.url?.includes('off') ? false : undefined,
    }));
    const a = await openSse(`${url}/?lastEventId=from-query`, {
      headers: { 'Last-Event-ID': 'from-header' },
    });
    const b = await openSse(`${url}/?lastEventId=from-query`);
    const c = await openSse(`${url}/`);
    const d = await openSse(`${url}/off?lastEventId=ignored`);
    expect(streams.map((stream) => stream.lastEventId)).toEqual(['from-header', 'from-query', '', '']);
    for (const client of [a, b, c, d]) client.close();
  });

  it('close() ends the response, settles closed, emits close once, and refuses further sends', async () => {
    const { url, streams } = await streamServer();
    const client = await openSse(url);
    const stream = streams[0] as EventStream;
    let closeEvents = 0;
    stream.on('close', () => closeEvents++);
    stream.send({ data: 'last' });
    stream.close();
    stream.close();
    await stream.closed;
    await client.ended;
    expect(client.events.map((event) => event.data)).toEqual(['last']);
    expect(stream.isOpen).toBe(false);
    expect(stream.send({ data: 'late' })).toBe(false);
    expect(closeEvents).toBe(1);
  });

  it('notices a client that goes away, and leaves every channel at once', async () => {
    const { url, streams } = await streamServer();
    const channelA = createChannel();
    const channelB = createChannel();
    const client = await openSse(url);
    const stream = streams[0] as EventStream;
    channelA.add(stream);
    channelB.add(stream);
    expect(channelA.size + channelB.size).toBe(2);
    const openBefore = serverStats.streamsOpen;
    client.close();
    await stream.closed;
    expect(channelA.size).toBe(0);
    expect(channelB.size).toBe(0);
    expect(serverStats.streamsOpen).toBe(openBefore - 1);
    expect(channelA.add(stream)).toBe(false);
  });

  it('sends heartbeats from one shared timer, and stops the timer when the last stream closes', async () => {
    const before = heartbeatTimers();
    const { url, streams } = await streamServer({ heartbeatMs: 40 });
    const clients = await Promise.all(Array.from({ length: 20 }, () => openSse(url)));
    expect(heartbeatTimers()).toBe(before + 1);
    await waitFor(() => clients.every((client) => client.comments.length >= 2), 5000, 'two heartbeats each');
    expect(clients.every((client) => client.events.length === 0)).toBe(true);
    for (const client of clients) client.close();
    await Promise.all(streams.map((stream) => stream.closed));
    expect(heartbeatTimers()).toBe(before);
  });

  it('sends no heartbeat to a stream that was written to during the interval', async () => {
    const { url, streams } = await streamServer({ heartbeatMs: 400 });
    const client = await openSse(url);
    const stream = streams[0] as EventStream;
    // Written every 20 ms, so each tick finds it active; idle, it would get 3 heartbeats meanwhile.
    for (let i = 0; i < 70; i++) {
      stream.send({ data: String(i) });
      await sleep(20);
    }
    expect(client.events).toHaveLength(70);
    expect(client.comments).toEqual([]);
    client.close();
  });

  it('closes a client that stops reading once it holds maxBufferedBytes, with a log line and a count', async () => {
    const logger = recordingLogger();
    const { url, streams } = await streamServer({ maxBufferedBytes: 256 * 1024, logger });
    const { port } = new URL(url);
    // A raw socket that sends its request, then never reads.
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    socket.pause();
    await waitFor(() => streams.length === 1);
    const stream = streams[0] as EventStream;
    const before = serverStats.slowConsumersClosed;
    const big = 'x'.repeat(64 * 1024);
    let refusedOnce = false;
    for (let i = 0; i < 2000 && stream.isOpen; i++) {
      if (!stream.send({ data: big })) refusedOnce = true;
      await sleep(0);
    }
    expect(refusedOnce).toBe(true);
    expect(stream.isOpen).toBe(false);
    expect(serverStats.slowConsumersClosed).toBe(before + 1);
    expect(logger.warnings.some((message) => message.includes('slow consumer'))).toBe(true);
    socket.destroy();
  });

  it('frames without chunked encoding for an HTTP/1.0 client', async () => {
    const { url, streams } = await streamServer();
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    socket.write('GET / HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n');
    await waitFor(() => streams.length === 1);
    (streams[0] as EventStream).send({ data: 'plain' });
    await waitFor(() => received.includes('data: plain\n\n'));
    expect(received).not.toMatch(/transfer-encoding/i);
    expect(received.endsWith('\r\n\r\ndata: plain\n\n')).toBe(true);
    socket.destroy();
  });

  it('writes through a middleware that replaced res.write (compression, say) and flushes it', async () => {
    let writes = 0;
    let flushes = 0;
    const { url, streams } = await streamServer({}, () => {});
    const server = servers[0] as Server;
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse & { flush?: () => void }) => {
      const write = res.write.bind(res);
      res.write = ((chunk: Buffer) => {
        writes++;
        return write(chunk);
      }) as typeof res.write;
      res.flush = () => {
        flushes++;
      };
      streams.push(createEventStream(req, res));
    });
    const client = await openSse(url);
    (streams[0] as EventStream).send({ data: 'through middleware' });
    await client.waitForEvents(1);
    expect(client.events[0]?.data).toBe('through middleware');
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeGreaterThanOrEqual(1);
    client.close();
  });

  it('refuses to start after the headers were sent, and on something that is not a request', async () => {
    const errors: unknown[] = [];
    const server = createServer((req, res) => {
      res.writeHead(200).write('x');
      try {
        createEventStream(req, res);
      } catch (error) {
        errors.push(error);
      }
      res.end();
    });
    servers.push(server);
    const url = await listen(server);
    await fetch(url).then((response) => response.text());
    expect((errors[0] as ServerError).code).toBe('headers-sent');
    expect(() => createEventStream({} as IncomingMessage, {} as ServerResponse)).toThrow(ServerError);
  });

  it('validates its options', async () => {
    const errors: unknown[] = [];
    const server = createServer((req, res) => {
      try {
        createEventStream(req, res, { heartbeatMs: -1 });
      } catch (error) {
        errors.push(error);
        res.end();
      }
    });
    servers.push(server);
    const url = await listen(server);
    await fetch(url).then((response) => response.text());
    expect((errors[0] as ServerError).code).toBe('invalid-option');
  });

  it('endForGood answers 204 and refuse answers the status with a message', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/gone') endForGood(res);
      else refuse(res, 401, 'Log in first.', { 'www-authenticate': 'Bearer' });
    });
    servers.push(server);
    const url = await listen(server);
    const gone = await fetch(`${url}/gone`);
    expect(gone.status).toBe(204);
    const refused = await fetch(`${url}/private`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect(await refused.text()).toBe('Log in first.\n');
  });
});
