import { connect, constants, createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createParser, type ParsedEvent } from '../../src/protocol/index.js';
import { createEventStream, createEventStreamResponse, type EventStream } from '../../src/server/index.js';
import { waitFor } from '../helpers/net.js';

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

async function h2Server(onRequest: (server: Http2Server) => void): Promise<string> {
  const server = createServer();
  onRequest(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (session) => sessions.add(session));
  closers.push(async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Opens an h2c stream and parses its events. */
function h2Client(url: string, path = '/', headers: Record<string, string> = {}) {
  const session = connect(url);
  closers.push(async () => {
    session.destroy();
  });
  const request = session.request({ ':path': path, accept: 'text/event-stream', ...headers });
  const events: ParsedEvent[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  request.on('data', (chunk: Buffer) => parser.feed(chunk));
  const response = new Promise<Record<string, unknown>>((resolve) => request.on('response', resolve));
  return { session, request, events, response };
}

describe('createEventStream on node:http2', () => {
  it('works on the compatibility API, without connection headers', async () => {
    const streams: EventStream[] = [];
    const url = await h2Server((server) =>
      server.on('request', (req, res) => streams.push(createEventStream(req, res, { retry: 1000 }))),
    );
    const client = h2Client(url, '/?lastEventId=q', { 'last-event-id': 'h2-id' });
    const headers = await client.response;
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(headers.connection).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();
    await waitFor(() => streams.length === 1);
    const stream = streams[0] as EventStream;
    expect(stream.lastEventId).toBe('h2-id');
    stream.send({ id: '1', data: 'over h2' });
    await waitFor(() => client.events.length === 1);
    expect(client.events[0]).toEqual({ type: 'message', data: 'over h2', lastEventId: '1' });
  });

  it('works on a raw ServerHttp2Stream, and closes when the client resets the stream', async () => {
    const streams: EventStream[] = [];
    const url = await h2Server((server) =>
      server.on('stream', (h2stream: ServerHttp2Stream, headers) =>
        streams.push(createEventStream(h2stream, headers)),
      ),
    );
    const client = h2Client(url, '/?lastEventId=from-query');
    const headers = await client.response;
    expect(headers[':status']).toBe(200);
    expect(headers.connection).toBeUndefined();
    await waitFor(() => streams.length === 1);
    const stream = streams[0] as EventStream;
    expect(stream.lastEventId).toBe('from-query');
    stream.send({ data: 'raw' });
    await waitFor(() => client.events.length === 1);
    client.request.close(constants.NGHTTP2_CANCEL);
    await stream.closed;
    expect(stream.isOpen).toBe(false);
  });
});

describe('createEventStreamResponse (Web Request/Response)', () => {
  it('streams events in the Response body and reads Last-Event-ID', async () => {
    const request = new Request('http://example.test/events?lastEventId=q', {
      headers: { 'Last-Event-ID': '41' },
    });
    const stream = createEventStreamResponse(request, { retry: 500 });
    expect(stream.lastEventId).toBe('41');
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.response.headers.get('x-accel-buffering')).toBe('no');
    stream.send({ id: '42', data: 'web' });
    stream.close();
    const text = await stream.response.text();
    expect(text).toBe('retry: 500\n\nid: 42\ndata: web\n\n');
  });

  it('closes when the client cancels the body or the request aborts', async () => {
    const controller = new AbortController();
    const aborted = createEventStreamResponse(
      new Request('http://example.test/', { signal: controller.signal }),
    );
    controller.abort();
    await aborted.closed;
    expect(aborted.isOpen).toBe(false);

    const cancelled = createEventStreamResponse(new Request('http://example.test/'));
    await cancelled.response.body?.cancel();
    await cancelled.closed;
    expect(cancelled.send({ data: 'late' })).toBe(false);
  });

  it('reports backpressure past the high-water mark and drains once all is read', async () => {
    const stream = createEventStreamResponse(new Request('http://example.test/'), {
      highWaterMark: 1024,
      heartbeatMs: 0,
    });
    let accepted = 0;
    while (stream.send({ data: 'x'.repeat(200) })) accepted++;
    expect(accepted).toBeLessThan(6);
    expect(stream.bufferedBytes).toBeGreaterThan(1024);
    const drained = stream.drained();
    const reader = stream.response.body?.getReader();
    // Drained means emptied, as a Node.js stream's 'drain' does: room in the queue is not enough.
    while (stream.bufferedBytes > 0) await reader?.read();
    await drained;
    stream.close();
  });
});
