// siar/server's createEventStream on a real TLS HTTP/2 server: the compatibility API and raw streams.
import {
  constants,
  createSecureServer,
  type Http2SecureServer,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventStream, type EventStream, silentLogger } from '../../src/server/index.js';
import { CONNECTION_HEADERS, h2Request, h2Session, testCertificate } from '../helpers/http2.js';
import { waitFor } from '../helpers/net.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function secureServer(setup: (server: Http2SecureServer) => void): Promise<string> {
  const server = createSecureServer({ ...testCertificate(), allowHTTP1: true });
  setup(server);
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => sessions.add(session));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(url: string) {
  const session = h2Session(url);
  cleanups.push(() => session.destroy());
  return session;
}

describe('createEventStream over TLS and HTTP/2', () => {
  it('on Http2ServerRequest/Http2ServerResponse: events, no connection headers, backpressure per stream', async () => {
    const streams: EventStream[] = [];
    const url = await secureServer((server) =>
      server.on('request', (req, res) => {
        streams.push(createEventStream(req, res, { heartbeatMs: 0, maxBufferedBytes: 16 * 1024 * 1024 }));
      }),
    );
    const session = client(url);
    const reading = h2Request(session, '/reading');
    const stalled = h2Request(session, '/stalled', { read: false });
    for (const exchange of [reading, stalled]) {
      const head = await exchange.response;
      expect(head[':status']).toBe(200);
      for (const name of CONNECTION_HEADERS) expect(head[name]).toBeUndefined();
    }
    await waitFor(() => streams.length === 2);
    const [toReader, toStalled] = streams as [EventStream, EventStream];
    // The stalled client's window (64 KiB) fills, then the stream's buffer: send says so.
    const data = 'y'.repeat(8 * 1024);
    let accepted = 0;
    while (toStalled.send({ data }) && accepted < 1000) accepted++;
    expect(accepted).toBeLessThan(1000);
    await waitFor(() => toStalled.bufferedBytes > 0);
    // Its neighbour on the same connection is not held back.
    for (let i = 0; i < 20; i++) toReader.send({ id: String(i), data });
    await reading.waitForEvents(20);
    // Reading the stalled stream drains it.
    const drained = toStalled.drained();
    stalled.stream.resume();
    await drained;
  });

  it('on a raw ServerHttp2Stream: a client reset with an error code closes the stream, and the server lives on', async () => {
    const streams: EventStream[] = [];
    const url = await secureServer((server) =>
      server.on('stream', (stream: ServerHttp2Stream, headers) => {
        streams.push(createEventStream(stream, headers, { heartbeatMs: 0, logger: silentLogger }));
      }),
    );
    const session = client(url);
    const first = h2Request(session, '/');
    expect((await first.response)[':status']).toBe(200);
    await waitFor(() => streams.length === 1);
    // Without an 'error' listener of its own, the stream's error would be uncaught: the process would exit.
    first.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    await (streams[0] as EventStream).closed;
    const second = h2Request(session, '/');
    expect((await second.response)[':status']).toBe(200);
    await waitFor(() => streams.length === 2);
    (streams[1] as EventStream).send({ data: 'after a reset' });
    expect(await second.waitForEvents(1)).toEqual([
      { type: 'message', data: 'after a reset', lastEventId: '' },
    ]);
  });
});
