import type { ClientHttp2Session } from 'node:http2';
import { ClientError } from '../errors.js';
import { fetchFailed } from './attempt.js';
import { Http1Connections, type Http1Limits } from './http1-connections.js';
import type { NodeModules } from './node-modules.js';
import { connectTls, type TlsOptions } from './tls.js';

/** Options of {@link Http2SessionPool}. */
export interface Http2SessionPoolOptions {
  /** How long a session with no stream stays open for the next request, in ms. Default 30,000. */
  idleTimeoutMs?: number;
  /**
   * Most sessions kept open with no stream; past it the least recently used one closes. Also the most
   * HTTP/1.1 connections kept open with no request, per origin. Default 16.
   */
  maxIdleSessions?: number;
  /**
   * Most HTTP/1.1 connections open at once to one origin whose server chose HTTP/1.1 by ALPN (an
   * event stream holds one for as long as it runs); requests past it wait for one. Default 256.
   */
  maxHttp1Connections?: number;
}

export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_IDLE_SESSIONS = 16;
export const DEFAULT_MAX_HTTP1_CONNECTIONS = 256;

/** @internal A pooled session. */
export interface SessionEntry {
  key: string;
  session: ClientHttp2Session;
  /** Streams open on it; at 0 the session is idle and does not keep the process alive. */
  streams: number;
  idleSince: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/** @internal What a request goes out on: a pooled session, or the connections of an origin that chose HTTP/1.1. */
export type Connection =
  | { kind: 'h2'; entry: SessionEntry }
  | { kind: 'http/1.1'; connections: Http1Connections };

/** @internal Where a connection goes: `key` tells apart the origins, modes and TLS options that cannot share one. */
export interface ConnectionTarget {
  url: URL;
  key: string;
  /** HTTP/2 only (h2c for `http:`), never HTTP/1.1. */
  h2Only: boolean;
  tls: TlsOptions | undefined;
}

/** Server push is of no use to an event-stream client. */
const SESSION_SETTINGS = { enablePush: false };

/**
 * HTTP/2 sessions by origin (and TLS options), shared by every request to that origin: twenty
 * event streams to one server are twenty streams on one connection. A session without streams
 * does not keep the process alive, and closes after `idleTimeoutMs`; a session the server sent
 * GOAWAY on takes no new request (the next one opens a new session). An origin whose server
 * chooses HTTP/1.1 by ALPN gets keep-alive connections instead (see {@link Http1Connections}).
 */
export class Http2SessionPool {
  readonly #idleTimeoutMs: number;
  readonly #maxIdleSessions: number;
  readonly #http1Limits: Http1Limits;
  readonly #entries = new Map<string, SessionEntry>();
  readonly #http1 = new Map<string, Http1Connections>();
  readonly #pending = new Map<string, Promise<Connection>>();

  constructor(options: Http2SessionPoolOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_SESSION_IDLE_TIMEOUT_MS;
    this.#maxIdleSessions = options.maxIdleSessions ?? DEFAULT_MAX_IDLE_SESSIONS;
    if (!(this.#idleTimeoutMs >= 0)) {
      throw new ClientError('invalid-option', `idleTimeoutMs must be 0 or more, got ${this.#idleTimeoutMs}.`);
    }
    if (!Number.isInteger(this.#maxIdleSessions) || this.#maxIdleSessions < 0) {
      throw new ClientError(
        'invalid-option',
        `maxIdleSessions must be a non-negative integer, got ${this.#maxIdleSessions}.`,
      );
    }
    const maxConnections = options.maxHttp1Connections ?? DEFAULT_MAX_HTTP1_CONNECTIONS;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new ClientError(
        'invalid-option',
        `maxHttp1Connections must be a positive integer, got ${maxConnections}.`,
      );
    }
    this.#http1Limits = {
      maxConnections,
      maxIdle: this.#maxIdleSessions,
      idleTimeoutMs: this.#idleTimeoutMs,
    };
  }

  /** Sessions open (busy or idle). */
  get size(): number {
    return this.#entries.size;
  }

  /** Closes every session and HTTP/1.1 connection: open streams finish, no new one starts on them. */
  close(): void {
    for (const entry of this.#entries.values()) this.#drop(entry, true);
    for (const connections of this.#http1.values()) connections.close();
    this.#http1.clear();
  }

  /** @internal A session for `url` (pooled, or new), or an HTTP/1.1 connection when ALPN chose it. */
  async connection(node: NodeModules, target: ConnectionTarget): Promise<Connection> {
    const { key } = target;
    const pooled = this.#pooled(key);
    if (pooled !== undefined) return pooled;
    const pending = this.#pending.get(key);
    if (pending !== undefined) {
      // Requests that arrive while the first connects wait for its session instead of opening their own.
      await pending.catch(() => undefined);
      return this.#pooled(key) ?? this.#open(node, target);
    }
    const opening = this.#open(node, target);
    this.#pending.set(key, opening);
    try {
      return await opening;
    } finally {
      this.#pending.delete(key);
    }
  }

  #pooled(key: string): Connection | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined) return { kind: 'h2', entry };
    const connections = this.#http1.get(key);
    if (connections !== undefined) return { kind: 'http/1.1', connections };
    return undefined;
  }

  /** @internal A stream starts on the session. */
  acquire(entry: SessionEntry): void {
    entry.streams++;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.session.ref();
  }

  /** @internal A stream of the session has closed. */
  release(entry: SessionEntry): void {
    entry.streams--;
    if (entry.streams > 0) return;
    if (this.#entries.get(entry.key) !== entry) {
      entry.session.close();
      return;
    }
    this.#idle(entry);
  }

  /** A session with no stream: it does not keep the process alive, and closes after a while. */
  #idle(entry: SessionEntry): void {
    entry.session.unref();
    entry.idleSince = performance.now();
    entry.idleTimer = setTimeout(() => this.#drop(entry, true), this.#idleTimeoutMs);
    entry.idleTimer.unref();
    const idle = [...this.#entries.values()].filter((other) => other.streams === 0);
    if (idle.length > this.#maxIdleSessions) {
      idle.sort((a, b) => a.idleSince - b.idleSince);
      for (const old of idle.slice(0, idle.length - this.#maxIdleSessions)) this.#drop(old, true);
    }
  }

  async #open(node: NodeModules, { url, key, h2Only, tls }: ConnectionTarget): Promise<Connection> {
    if (url.protocol === 'http:') {
      const session = node.http2.connect(url.origin, { settings: SESSION_SETTINGS });
      return { kind: 'h2', entry: await this.#add(node, key, url.origin, session) };
    }
    const socket = await connectTls(node, url, h2Only, tls);
    if (socket.alpnProtocol === 'h2') {
      const session = node.http2.connect(url.origin, {
        createConnection: () => socket,
        settings: SESSION_SETTINGS,
      });
      return { kind: 'h2', entry: await this.#add(node, key, url.origin, session) };
    }
    if (h2Only) {
      socket.destroy();
      throw fetchFailed(`${url.origin} does not offer HTTP/2 (ALPN: ${socket.alpnProtocol || 'none'})`);
    }
    const connections = new Http1Connections(node, socket, tls, this.#http1Limits, () => {
      if (this.#http1.get(key) === connections) this.#http1.delete(key);
    });
    this.#http1.set(key, connections);
    return { kind: 'http/1.1', connections };
  }

  async #add(
    node: NodeModules,
    key: string,
    origin: string,
    session: ClientHttp2Session,
  ): Promise<SessionEntry> {
    const entry: SessionEntry = { key, session, streams: 0, idleSince: 0, idleTimer: undefined };
    // A session error reaches every stream on it as a stream error; the session just leaves the pool.
    session.on('error', () => this.#drop(entry, false));
    session.once('goaway', () => this.#drop(entry, false));
    session.once('close', () => this.#drop(entry, false));
    if (session.connecting) {
      // `once` rejects on 'error'; a close before the handshake ends aborts the wait.
      const closed = new AbortController();
      const onClose = () => closed.abort(new Error('the connection closed during the HTTP/2 handshake'));
      session.once('close', onClose);
      try {
        await node.events.once(session, 'connect', { signal: closed.signal });
      } catch (error) {
        session.destroy();
        const why = closed.signal.aborted ? closed.signal.reason : error;
        throw fetchFailed(`cannot open an HTTP/2 session with ${origin}`, why);
      } finally {
        session.off('close', onClose);
      }
    }
    this.#entries.set(key, entry);
    // Idle until a request takes it (it may never: an abort while connecting).
    this.#idle(entry);
    return entry;
  }

  /** Takes a session out of the pool; `close` also closes it (gracefully: open streams finish). */
  #drop(entry: SessionEntry, close: boolean): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    if (close || entry.streams === 0) entry.session.close();
  }
}

/** The pool of `http2Fetch`, and of EventSource and subscribe() unless given `fetch`. */
export const defaultHttp2Pool = new Http2SessionPool();
