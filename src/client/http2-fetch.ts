import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  IncomingHttpHeaders as Http2Headers,
  IncomingHttpStatusHeader,
} from 'node:http2';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ClientError } from './errors.js';
import { normalizeHeaders } from './request-headers.js';
import type { Fetch, HeadersLike, RequestBody } from './types.js';

/**
 * TLS options for `https:` URLs: trust a private CA or a self-signed certificate (`ca`) without
 * turning certificate checks off for the whole process; a client certificate (`cert`, `key`).
 */
export interface TlsOptions {
  /** Certificates (PEM) to trust instead of the system's. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** A client certificate (PEM), with its `key`. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Check the server's certificate. Default true; false only for a server you know. */
  rejectUnauthorized?: boolean;
  /** The name to check the certificate against (SNI). Default: the URL's host name. */
  servername?: string;
}

/** Options of {@link createHttp2Fetch}. */
export interface Http2FetchOptions {
  /**
   * `undefined` (default): HTTP/2 when an `https:` server offers it by ALPN, else HTTP/1.1 on the
   * same connection; `http:` URLs go to the global `fetch`. `true`: HTTP/2 only, cleartext (h2c,
   * prior knowledge) for `http:` URLs, and a failure when an `https:` server does not offer h2.
   */
  http2?: boolean;
  /** TLS options of `https:` connections. */
  tls?: TlsOptions;
  /** The pool whose sessions the requests share. Default: one pool for the whole process. */
  pool?: Http2SessionPool;
}

/** What an HTTP/2 fetch takes: the part of `RequestInit` an event-stream client uses. */
export interface Http2RequestInit {
  method?: string;
  headers?: HeadersLike;
  body?: RequestBody | null;
  /** Default `"follow"` (up to 20 redirects). */
  redirect?: 'follow' | 'manual' | 'error';
  signal?: AbortSignal | null;
}

/** A fetch over HTTP/2: the standard call shape, a standard `Response`. */
export type Http2Fetch = (url: string | URL, init?: Http2RequestInit) => Promise<Response>;

/** Options of {@link Http2SessionPool}. */
export interface Http2SessionPoolOptions {
  /** How long a session with no stream stays open for the next request, in ms. Default 30,000. */
  idleTimeoutMs?: number;
  /** Most sessions kept open with no stream; past it the least recently used one closes. Default 16. */
  maxIdleSessions?: number;
}

/** The Node.js modules of this transport (only their types are imported above: see {@link nodeModules}). */
interface NodeModules {
  crypto: typeof import('node:crypto');
  http: typeof import('node:http');
  http2: typeof import('node:http2');
  https: typeof import('node:https');
  net: typeof import('node:net');
  tls: typeof import('node:tls');
}

let loaded: Promise<NodeModules> | undefined;

/**
 * The Node.js modules, loaded by the first request that needs them. siar/client also runs in browsers
 * (siar/react bundles it), which never use this transport: loading the modules here, by a specifier
 * bundlers leave alone, keeps every Node.js built-in out of a browser bundle.
 */
function nodeModules(): Promise<NodeModules> {
  const load = (name: keyof NodeModules) => {
    const specifier = `node:${name}`;
    return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
  };
  loaded ??= Promise.all(
    ['crypto', 'http', 'http2', 'https', 'net', 'tls'].map((name) => load(name as keyof NodeModules)),
  ).then(([crypto, http, http2, https, net, tls]) => ({ crypto, http, http2, https, net, tls }));
  return loaded;
}

/** True in Node.js (and runtimes with its modules), where the HTTP/2 transport can run. */
function inNode(): boolean {
  return typeof process === 'object' && typeof process.versions?.node === 'string';
}

/** RST_STREAM codes (RFC 9113 §7). */
const NO_ERROR = 0;
const CANCEL = 8;

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2), and Host, which is `:authority` there. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
  'host',
]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

interface SessionEntry {
  key: string;
  session: ClientHttp2Session;
  /** Streams open on it; at 0 the session is idle and does not keep the process alive. */
  streams: number;
  idleSince: number;
  idleTimer: NodeJS.Timeout | undefined;
}

type Connection = { kind: 'h2'; entry: SessionEntry } | { kind: 'http/1.1'; socket: TLSSocket };

function ignore(): void {}

function fetchFailed(message: string, cause?: unknown): TypeError {
  // As undici does: a TypeError "fetch failed" whose cause says why (ECONNREFUSED, a reset…).
  return new TypeError(`fetch failed: ${message}`, cause === undefined ? undefined : { cause });
}

/**
 * HTTP/2 sessions by origin (and TLS options), shared by every request to that origin: twenty
 * event streams to one server are twenty streams on one connection. A session without streams
 * does not keep the process alive, and closes after `idleTimeoutMs`; a session the server sent
 * GOAWAY on takes no new request (the next one opens a new session).
 */
export class Http2SessionPool {
  readonly #idleTimeoutMs: number;
  readonly #maxIdleSessions: number;
  readonly #entries = new Map<string, SessionEntry>();
  readonly #pending = new Map<string, Promise<Connection>>();

  constructor(options: Http2SessionPoolOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.#maxIdleSessions = options.maxIdleSessions ?? 16;
    if (!(this.#idleTimeoutMs >= 0)) {
      throw new ClientError('invalid-option', `idleTimeoutMs must be 0 or more, got ${this.#idleTimeoutMs}.`);
    }
    if (!Number.isInteger(this.#maxIdleSessions) || this.#maxIdleSessions < 0) {
      throw new ClientError(
        'invalid-option',
        `maxIdleSessions must be a non-negative integer, got ${this.#maxIdleSessions}.`,
      );
    }
  }

  /** Sessions open (busy or idle). */
  get size(): number {
    return this.#entries.size;
  }

  /** Closes every session: open streams finish, no new one starts on them. */
  close(): void {
    for (const entry of this.#entries.values()) this.#drop(entry, true);
  }

  /** @internal A session for `url` (pooled, or new), or an HTTP/1.1 connection when ALPN chose it. */
  async connection(
    node: NodeModules,
    url: URL,
    key: string,
    h2Only: boolean,
    tls: TlsOptions | undefined,
  ): Promise<Connection> {
    const entry = this.#entries.get(key);
    if (entry !== undefined) return { kind: 'h2', entry };
    const pending = this.#pending.get(key);
    if (pending !== undefined) {
      // Requests that arrive while the first connects wait for its session instead of opening their own.
      const connected = await pending.catch(() => undefined);
      const shared = this.#entries.get(key);
      if (connected?.kind === 'h2' && shared !== undefined) return { kind: 'h2', entry: shared };
      return this.#open(node, url, key, h2Only, tls);
    }
    const opening = this.#open(node, url, key, h2Only, tls);
    this.#pending.set(key, opening);
    try {
      return await opening;
    } finally {
      this.#pending.delete(key);
    }
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

  async #open(
    node: NodeModules,
    url: URL,
    key: string,
    h2Only: boolean,
    tls: TlsOptions | undefined,
  ): Promise<Connection> {
    if (url.protocol === 'http:') {
      const session = node.http2.connect(url.origin, { settings: { enablePush: false } });
      return { kind: 'h2', entry: await this.#add(key, url.origin, session) };
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = node.tls.connect({
      host,
      port: Number(url.port || 443),
      // SNI carries host names only (RFC 6066): none for an IP address.
      ...(node.net.isIP(host) === 0 ? { servername: host } : {}),
      ALPNProtocols: h2Only ? ['h2'] : ['h2', 'http/1.1'],
      ...tls,
    });
    // Whoever takes the socket next (the session, or node:https) listens for its errors; until then
    // an error must not go unhandled.
    socket.on('error', ignore);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
    }).catch((error: unknown) => {
      socket.destroy();
      if (h2Only && (error as { code?: unknown }).code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
        throw fetchFailed(`${url.origin} does not offer HTTP/2 (it refused ALPN h2)`, error);
      }
      throw fetchFailed(`cannot connect to ${url.origin}`, error);
    });
    if (socket.alpnProtocol === 'h2') {
      const session = node.http2.connect(url.origin, {
        createConnection: () => socket,
        settings: { enablePush: false },
      });
      return { kind: 'h2', entry: await this.#add(key, url.origin, session) };
    }
    if (h2Only) {
      socket.destroy();
      throw fetchFailed(`${url.origin} does not offer HTTP/2 (ALPN: ${socket.alpnProtocol || 'none'})`);
    }
    return { kind: 'http/1.1', socket };
  }

  async #add(key: string, origin: string, session: ClientHttp2Session): Promise<SessionEntry> {
    const entry: SessionEntry = { key, session, streams: 0, idleSince: 0, idleTimer: undefined };
    // A session error reaches every stream on it as a stream error; the session just leaves the pool.
    session.on('error', () => this.#drop(entry, false));
    session.once('goaway', () => this.#drop(entry, false));
    session.once('close', () => this.#drop(entry, false));
    await new Promise<void>((resolve, reject) => {
      if (!session.connecting) return resolve();
      session.once('connect', () => resolve());
      session.once('error', reject);
      session.once('close', () => reject(new Error('the connection closed during the HTTP/2 handshake')));
    }).catch((error: unknown) => {
      session.destroy();
      throw fetchFailed(`cannot open an HTTP/2 session with ${origin}`, error);
    });
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

/** The pool of {@link http2Fetch}, and of EventSource and subscribe() unless given `fetch`. */
export const defaultHttp2Pool = new Http2SessionPool();

/** A key telling apart sessions with different TLS options (another CA is another trust). */
function tlsKey(node: NodeModules, tls: TlsOptions | undefined): string {
  if (tls === undefined) return '';
  const hash = node.crypto.createHash('sha256');
  const add = (value: unknown) => {
    for (const item of Array.isArray(value) ? value : [value]) {
      hash.update(
        item === undefined
          ? '-'
          : typeof item === 'string'
            ? `s${item}`
            : node.crypto.createHash('sha256').update(item).digest('hex'),
      );
      hash.update('\0');
    }
  };
  add(tls.ca);
  add(tls.cert);
  add(tls.key);
  add(String(tls.rejectUnauthorized));
  add(tls.servername);
  return hash.digest('base64url');
}

async function bodyBytes(
  body: RequestBody | null | undefined,
): Promise<{ bytes: Uint8Array<ArrayBuffer>; type: string | null } | undefined> {
  if (body === undefined || body === null) return undefined;
  // The Fetch standard's own encoding of each body kind, with its Content-Type (a form's boundary…).
  const request = new Request('http://body.invalid/', { method: 'POST', body });
  return { bytes: new Uint8Array(await request.arrayBuffer()), type: request.headers.get('content-type') };
}

/**
 * A pull-based body over a Node.js stream: it reads only when the consumer asks, so a consumer
 * that stops reading stops the stream, and flow control (HTTP/2's window, TCP's) tells the server.
 * Once the body is done (ended, broken, aborted or cancelled) it lets go of the source: no listener
 * of its own is left on it, and nothing is enqueued after the controller has closed.
 */
function bodyStream(
  source: Readable,
  signal: AbortSignal | undefined,
  cancel: (reason: unknown) => void,
): ReadableStream<Uint8Array> {
  let done = false;
  let detach = ignore;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const onData = (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) source.pause();
      };
      const finish = (error?: unknown) => {
        if (done) return;
        detach();
        if (error === undefined) controller.close();
        else controller.error(error);
      };
      const onEnd = () => finish();
      const onError = (error: Error) =>
        finish(fetchFailed(`the response body broke: ${error.message}`, error));
      const onClose = () => {
        const code = (source as Partial<ClientHttp2Stream>).rstCode;
        finish(
          fetchFailed(
            code === undefined
              ? 'the connection closed mid-response'
              : `the server reset the stream (code ${code})`,
          ),
        );
      };
      // As fetch does: once the signal aborts, reading the body throws its reason.
      const onAbort = () => finish(signal?.reason);
      detach = () => {
        done = true;
        source.off('data', onData);
        source.off('end', onEnd);
        source.off('error', onError);
        source.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
        // A late error (the session failing after the body was let go) must not go unhandled, and
        // what is still buffered drains to nowhere, so the source can end and close (and free its slot).
        source.on('error', ignore);
        source.resume();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      source.on('data', onData);
      source.once('end', onEnd);
      source.once('error', onError);
      source.once('close', onClose);
      source.pause();
    },
    pull() {
      source.resume();
    },
    cancel(reason) {
      if (done) return;
      detach();
      cancel(reason);
    },
  });
}

function toResponse(
  status: number,
  raw: IncomingHttpHeaders | Http2Headers,
  body: ReadableStream<Uint8Array> | null,
  url: URL,
  redirected: boolean,
  statusText: string,
): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, String(item));
  }
  const response = new Response(body, { status, statusText, headers });
  Object.defineProperty(response, 'url', { value: url.href });
  if (redirected) Object.defineProperty(response, 'redirected', { value: true });
  return response;
}

interface Attempt {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | undefined;
  signal: AbortSignal | undefined;
  redirected: boolean;
}

function requestH2(
  node: NodeModules,
  pool: Http2SessionPool,
  entry: SessionEntry,
  attempt: Attempt,
): Promise<Response> {
  const { url, method, body, signal } = attempt;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attempt.headers)) {
    if (!CONNECTION_HEADERS.has(name) || (name === 'te' && value === 'trailers')) headers[name] = value;
  }
  if (body !== undefined) headers['content-length'] = String(body.length);
  let stream: ClientHttp2Stream;
  try {
    stream = entry.session.request(
      { ':method': method, ':path': `${url.pathname}${url.search}`, ...headers },
      { endStream: body === undefined },
    );
  } catch (error) {
    // The session closed or got GOAWAY between the pool's check and now.
    return Promise.reject(fetchFailed(`cannot start a stream to ${url.origin}`, error));
  }
  pool.acquire(entry);
  return new Promise<Response>((resolve, reject) => {
    let responded = false;
    const onAbort = () => {
      if (!responded) reject(signal?.reason);
      stream.close(CANCEL);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => {
      signal?.removeEventListener('abort', onAbort);
      pool.release(entry);
      if (!responded)
        reject(fetchFailed(`the stream to ${url.origin} closed before a response (code ${stream.rstCode})`));
    });
    stream.once('error', (error) => {
      if (!responded) reject(fetchFailed(`the stream to ${url.origin} failed`, error));
    });
    stream.once('response', (raw: Http2Headers & IncomingHttpStatusHeader) => {
      responded = true;
      const status = Number(raw[':status']);
      const empty = NULL_BODY_STATUSES.has(status) || method === 'HEAD';
      if (empty) stream.close(NO_ERROR);
      const responseBody = empty ? null : bodyStream(stream, signal, () => stream.close(CANCEL));
      try {
        resolve(
          toResponse(
            status,
            raw,
            responseBody,
            url,
            attempt.redirected,
            node.http.STATUS_CODES[status] ?? '',
          ),
        );
      } catch (error) {
        stream.close(CANCEL);
        reject(fetchFailed(`unusable response status ${status}`, error));
      }
    });
    if (body !== undefined) stream.end(body);
  });
}

/** One HTTP/1.1 request on the TLS connection on which ALPN chose HTTP/1.1. */
function requestHttp1(node: NodeModules, socket: TLSSocket, attempt: Attempt): Promise<Response> {
  const { url, method, body, signal } = attempt;
  const headers = { ...attempt.headers };
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    // No agent: with `createConnection` and no agent, node:https sends the request on that socket.
    const request = node.https.request(url, { method, headers, createConnection: () => socket });
    let responded = false;
    const onAbort = () => {
      if (!responded) reject(signal?.reason);
      request.destroy(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    request.once('close', () => signal?.removeEventListener('abort', onAbort));
    request.once('error', (error) => {
      if (!responded) reject(fetchFailed(`the request to ${url.origin} failed`, error));
    });
    request.once('response', (response: IncomingMessage) => {
      responded = true;
      const status = response.statusCode ?? 0;
      const empty = NULL_BODY_STATUSES.has(status) || method === 'HEAD';
      if (empty) response.resume();
      const responseBody = empty ? null : bodyStream(response, signal, () => request.destroy());
      resolve(
        toResponse(
          status,
          response.headers,
          responseBody,
          url,
          attempt.redirected,
          response.statusMessage ?? '',
        ),
      );
    });
    request.end(body);
  });
}

/**
 * Makes a fetch that speaks HTTP/2 with node:http2: it connects with TLS offering `h2` and
 * `http/1.1` by ALPN, and uses an HTTP/2 session (shared by every request to the origin) when the
 * server chooses h2, or sends the request as HTTP/1.1 on that connection when it does not. Redirects
 * are followed as fetch does. The body is a pull-based `ReadableStream`: a consumer that stops
 * reading pauses the stream, and HTTP/2 flow control holds the server back.
 *
 * Differences from the global fetch: `statusText` is the standard reason phrase (HTTP/2 sends none);
 * no cookies, cache or proxy.
 */
export function createHttp2Fetch(options: Http2FetchOptions = {}): Http2Fetch {
  const pool = options.pool ?? defaultHttp2Pool;
  const h2Only = options.http2 === true;
  const tls = options.tls;
  let keySuffix: string | undefined;
  return async (input, init = {}) => {
    let url = new URL(String(input));
    const signal = init.signal ?? undefined;
    if (url.protocol === 'http:' && !h2Only) return globalThis.fetch(url, init as RequestInit);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw fetchFailed(`cannot fetch ${url.protocol} URLs`);
    }
    signal?.throwIfAborted();
    const node = await nodeModules();
    keySuffix ??= tlsKey(node, tls);
    let method = (init.method ?? 'GET').toUpperCase();
    const headers = normalizeHeaders(init.headers);
    const encoded = await bodyBytes(init.body);
    let body = encoded?.bytes;
    if (encoded?.type && headers['content-type'] === undefined) headers['content-type'] = encoded.type;
    const redirect = init.redirect ?? 'follow';
    for (let redirects = 0; ; redirects++) {
      const key = `${h2Only ? 'h2' : 'auto'} ${url.origin} ${keySuffix}`;
      const connection = await pool.connection(node, url, key, h2Only, tls);
      const attempt: Attempt = { url, method, headers, body, signal, redirected: redirects > 0 };
      if (signal?.aborted) {
        if (connection.kind === 'http/1.1') connection.socket.destroy();
        throw signal.reason;
      }
      const response =
        connection.kind === 'h2'
          ? await requestH2(node, pool, connection.entry, attempt)
          : await requestHttp1(node, connection.socket, attempt);
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || location === null || redirect === 'manual') return response;
      await response.body?.cancel();
      if (redirect === 'error') throw fetchFailed(`${url.href} redirected, and redirect is "error"`);
      if (redirects === MAX_REDIRECTS)
        throw fetchFailed(`more than ${MAX_REDIRECTS} redirects from ${url.href}`);
      const next = new URL(location, url);
      if (
        (response.status === 303 && method !== 'GET' && method !== 'HEAD') ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
        for (const name of [
          'content-type',
          'content-length',
          'content-encoding',
          'content-language',
          'content-location',
        ])
          delete headers[name];
      }
      if (next.origin !== url.origin) {
        for (const name of ['authorization', 'proxy-authorization', 'cookie']) delete headers[name];
      }
      if (next.protocol === 'http:' && !h2Only) {
        const response = await globalThis.fetch(next, { method, headers, body, redirect, signal });
        return response;
      }
      url = next;
    }
  };
}

/** A fetch over HTTP/2 where the server offers it (see {@link createHttp2Fetch}), on the shared pool. */
export const http2Fetch: Http2Fetch = createHttp2Fetch();

/**
 * The fetch EventSource and subscribe() use: `fetch` when given; the global fetch with `http2: false`,
 * and outside Node.js (a browser's fetch negotiates HTTP/2 itself); else {@link createHttp2Fetch}
 * (HTTP/2 for `https:` servers that offer it, h2c too with `http2: true`).
 */
export function resolveFetch(options: { fetch?: Fetch; http2?: boolean; tls?: TlsOptions }): Fetch {
  const own = options.fetch;
  // Called as a plain function: a browser's fetch refuses to run as a method of another object.
  if (own !== undefined) return (url, init) => own(url, init);
  if (options.http2 === false || (options.http2 === undefined && options.tls === undefined && !inNode())) {
    if (options.tls !== undefined) {
      throw new ClientError(
        'invalid-option',
        'tls needs the built-in transport: leave http2 unset (or true), or pass a fetch of your own.',
      );
    }
    return (url, init) => globalThis.fetch(url, init);
  }
  return createHttp2Fetch({ http2: options.http2, tls: options.tls }) as Fetch;
}
