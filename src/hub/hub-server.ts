import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  createServer as createH2cServer,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
  type ServerHttp2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import { type Logger, stderrLogger } from '../server/logger.js';
import { descriptorBudget } from './capacity.js';
import { limitConnections } from './connection-limit.js';
import { HubError } from './errors.js';
import { installFastPath } from './http1-front.js';
import type { Hub } from './hub.js';
import { hubIntegerOption } from './hub-options.js';

/** Streams one HTTP/2 connection may have open at once, unless told otherwise: 1000 tabs' worth. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1000;
/** How long closing waits for HTTP/2 sessions to send their last frames and close by themselves (ms). */
const SESSION_FLUSH_MS = 1000;
/** Time a client has to send a request head, unless told otherwise (ms). */
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Time a client has to send a whole request, head and body, unless told otherwise (ms). */
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** How often node:http looks for requests past those times (ms); its own default is 30 s. */
const TIMEOUT_CHECK_MS = 1000;

/** Options of {@link createHubServer}. Without `tls` or `h2c` the server is plain HTTP/1.1. */
export interface HubServerOptions {
  /**
   * Serve HTTPS: HTTP/2, and HTTP/1.1 for clients that do not offer h2, negotiated by ALPN on the
   * same port. PEM certificate (chain) and private key.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Serve cleartext HTTP/2 (h2c, prior knowledge), for a TLS-terminating proxy that speaks it. Not with `tls`. */
  h2c?: boolean;
  /** How long an HTTP/2 connection may stay silent before it is closed, in ms; 0: never. Default 60,000. */
  idleSessionTimeoutMs?: number;
  /** Most streams (subscriptions) one HTTP/2 connection may have open at once. Default 1000. */
  maxConcurrentStreams?: number;
  /**
   * Time a client has to send a request head, in ms; a slower one is dropped (slowloris). HTTP/1.1
   * connections, cleartext or TLS. Default 10,000.
   */
  headersTimeoutMs?: number;
  /**
   * Time a client has to send a whole request, head and body, in ms; a slower one gets 408 and its
   * connection closes; 0: no limit. It bounds a body sent slowly, never an event stream (its
   * request is complete once its head is in). HTTP/1.1 connections. Default 60,000.
   */
  requestTimeoutMs?: number;
  /**
   * Most connections open at once, whatever they ask; past it a connection is answered 503 with
   * `Retry-After` before its request is read (over TLS: closed). Default: what the process's
   * descriptor limit leaves once the part of its reserve for the store and logs is set aside
   * (capacity.ts), so that the process never runs out of descriptors to accept with.
   */
  maxConnections?: number;
  /** Where the server's log lines go (connections refused, accept errors). Default: warnings on stderr. */
  logger?: Logger;
}

/** A node:http server (HTTP/1.1), or a node:http2 one: secure (h2 + HTTP/1.1) or cleartext (h2c). */
export type HubServer = HttpServer | Http2Server | Http2SecureServer;

/** What closing a hub server needs to know about it. */
interface Served {
  hub: Hub;
  sessions: Set<ServerHttp2Session>;
  sockets: Set<Socket>;
}

const served = new WeakMap<HubServer, Served>();

/** Default time an HTTP/2 connection may stay silent (no frame either way) before it is closed: 60 s. */
export const DEFAULT_IDLE_SESSION_TIMEOUT_MS = 60_000;

/**
 * Closes HTTP/2 connections on which nothing moved for `timeoutMs`: one that never opens a stream
 * would otherwise hold its socket for good. A subscription's heartbeats (15 s by default) keep its
 * connection busy, so only a hub with heartbeats off sees quiet subscribers reconnect.
 */
function boundIdleSessions(server: Http2Server | Http2SecureServer, idleSessionTimeoutMs?: number): void {
  const timeoutMs = hubIntegerOption(
    'idleSessionTimeoutMs',
    idleSessionTimeoutMs,
    DEFAULT_IDLE_SESSION_TIMEOUT_MS,
  );
  // With no 'timeout' listener, node:http2 destroys a session that timed out.
  if (timeoutMs > 0) server.setTimeout(timeoutMs);
}

/**
 * A server for `hub`, not yet listening: node:http by default; with `tls`, node:http2's secure server
 * (HTTP/2, with HTTP/1.1 for clients that do not speak it); with `h2c`, cleartext HTTP/2. Its
 * request handler is `hub.handler`. Listen with `server.listen(port)`; stop with {@link closeHubServer}.
 *
 * Over HTTP/2 every subscription of a browser shares one connection, so its limit of six
 * connections per origin no longer caps the tabs that can subscribe.
 */
export function createHubServer(hub: Hub, options: HubServerOptions = {}): HubServer {
  const maxConcurrentStreams = hubIntegerOption(
    'maxConcurrentStreams',
    options.maxConcurrentStreams,
    DEFAULT_MAX_CONCURRENT_STREAMS,
    // HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS is a 32-bit field.
    { min: 1, max: 2 ** 32 - 1 },
  );
  const headersTimeout = hubIntegerOption(
    'headersTimeoutMs',
    options.headersTimeoutMs,
    DEFAULT_HEADERS_TIMEOUT_MS,
    { min: 1 },
  );
  const requestTimeout = hubIntegerOption(
    'requestTimeoutMs',
    options.requestTimeoutMs,
    DEFAULT_REQUEST_TIMEOUT_MS,
  );
  if (requestTimeout > 0 && requestTimeout < headersTimeout) {
    throw new HubError(
      'invalid-option',
      `requestTimeoutMs (${requestTimeout}) must not be shorter than headersTimeoutMs (${headersTimeout}).`,
    );
  }
  if (options.tls !== undefined && options.h2c === true) {
    throw new HubError('invalid-option', 'tls and h2c exclude each other: h2c is HTTP/2 without TLS.');
  }
  const settings = { maxConcurrentStreams };
  let server: HubServer;
  if (options.tls !== undefined) {
    server = createSecureServer({ ...options.tls, allowHTTP1: true, settings }, hub.handler);
    boundIdleSessions(server, options.idleSessionTimeoutMs);
  } else if (options.h2c === true) {
    server = createH2cServer({ settings }, hub.handler);
    boundIdleSessions(server, options.idleSessionTimeoutMs);
  } else {
    server = createHttpServer(hub.handler);
    // Subscriptions skip node:http's per-request objects: an idle subscriber then costs less than half.
    installFastPath(server, hub.takeSubscription, { headersTimeoutMs: headersTimeout });
  }
  // node:http bounds the time to receive a request, head and body, not the response: an event
  // stream's request is complete once its head is in, so no timeout here ever ends a stream. (The
  // secure server has the same fields for its HTTP/1.1 connections, though its types do not say so;
  // the checking interval is read when the server starts listening.)
  const timeouts = server as {
    requestTimeout?: number;
    headersTimeout?: number;
    connectionsCheckingInterval?: number;
  };
  timeouts.requestTimeout = requestTimeout;
  timeouts.headersTimeout = headersTimeout;
  timeouts.connectionsCheckingInterval = TIMEOUT_CHECK_MS;
  limitConnections(server, {
    maxConnections: hubIntegerOption(
      'maxConnections',
      options.maxConnections,
      descriptorBudget().connections,
      {
        min: 1,
      },
    ),
    cleartextHttp1: options.tls === undefined && options.h2c !== true,
    logger: options.logger ?? stderrLogger,
  });
  const state: Served = { hub, sessions: new Set(), sockets: new Set() };
  served.set(server, state);
  server.on('connection', (socket: Socket) => {
    state.sockets.add(socket);
    socket.once('close', () => state.sockets.delete(socket));
  });
  server.on('session', (session: ServerHttp2Session) => {
    state.sessions.add(session);
    session.once('close', () => state.sessions.delete(session));
  });
  return server;
}

/**
 * Shuts a hub server down gracefully: stops listening, sends GOAWAY on every HTTP/2 connection (its
 * clients open no new stream there), closes the hub (publishes in flight get `graceMs`, then every
 * subscriber gets `retry:` and the end of its stream), and closes the connections left.
 */
export async function closeHubServer(server: HubServer, options: { graceMs?: number } = {}): Promise<void> {
  const state = served.get(server);
  if (state === undefined)
    throw new HubError('invalid-option', 'closeHubServer takes a server made by createHubServer.');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const session of state.sessions) session.close();
  await state.hub.close(options);
  if ('closeIdleConnections' in server) server.closeIdleConnections();
  // The sessions close once their streams have ended and their last frames are out.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, SESSION_FLUSH_MS)))]);
  clearTimeout(timer);
  for (const session of state.sessions) session.destroy();
  for (const socket of state.sockets) socket.destroy();
  await closed;
}
