// A real siar/server event stream on 127.0.0.1 for the hook tests, with CORS for the DOM environment's
// page origin (happy-dom's fetch applies the same-origin policy, as a browser does).
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { SseEvent } from '../../src/protocol/index.js';
import { cors, createEventStream, type EventStream } from '../../src/server/index.js';
import { closeServer, listen } from '../helpers/net.js';

/** The origin of the page in Vitest's happy-dom environment. */
export const PAGE_ORIGIN = 'http://localhost:3000';

/** One request the server answered. */
export interface SeenRequest {
  method: string;
  path: string;
  lastEventId: string;
  authorization: string;
  body: string;
}

export interface StreamServer {
  /** Base URL, e.g. http://127.0.0.1:1234 */
  url: string;
  server: Server;
  /** Stream requests, in order (preflights left out). */
  requests: SeenRequest[];
  /** Streams open now. */
  streams: Set<EventStream>;
  /** Sends an event on every open stream. */
  send(event: SseEvent): void;
  /** Cuts every connection, as a network failure does: the clients reconnect. */
  drop(): void;
  close(): Promise<void>;
}

/**
 * `/events` streams (with `retry: 50`, so an EventSource reconnects fast); `/private` answers 401
 * without `Authorization: Bearer let-me-in`; anything else 404.
 */
export async function startStreamServer(): Promise<StreamServer> {
  const allow = cors({ origins: [PAGE_ORIGIN], credentials: true, exposeHeaders: ['Content-Type'] });
  const streams = new Set<EventStream>();
  const sockets = new Set<Socket>();
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    if (!allow(req, res)) return;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push({
        method: req.method ?? 'GET',
        path,
        lastEventId: String(req.headers['last-event-id'] ?? ''),
        authorization: String(req.headers.authorization ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (path === '/private' && req.headers.authorization !== 'Bearer let-me-in') {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('A token is needed.\n');
        return;
      }
      if (path !== '/events' && path !== '/private') {
        res.writeHead(404).end();
        return;
      }
      const stream = createEventStream(req, res, { retry: 50, heartbeatMs: 0 });
      streams.add(stream);
      stream.on('close', () => streams.delete(stream));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const url = await listen(server);
  return {
    url,
    server,
    requests,
    streams,
    send(event) {
      for (const stream of streams) stream.send(event);
    },
    drop() {
      for (const socket of sockets) socket.destroy();
    },
    close: () => closeServer(server),
  };
}
