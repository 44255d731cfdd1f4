import { normalizeHeaders } from '../request-headers.js';
import type { HeadersLike, RequestBody } from '../types.js';
import { type Attempt, fetchFailed } from './attempt.js';
import { bodyBytes } from './bodies.js';
import { nodeModules } from './node-modules.js';
import { isFollowed, type RedirectMode, redirectedAttempt } from './redirects.js';
import { requestH2 } from './request-h2.js';
import { requestHttp1 } from './request-http1.js';
import { defaultHttp2Pool, type Http2SessionPool } from './session-pool.js';
import { type TlsOptions, tlsKey } from './tls.js';

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
  redirect?: RedirectMode;
  signal?: AbortSignal | null;
}

/** A fetch over HTTP/2: the standard call shape, a standard `Response`. */
export type Http2Fetch = (url: string | URL, init?: Http2RequestInit) => Promise<Response>;

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
    const url = new URL(String(input));
    const signal = init.signal ?? undefined;
    if (url.protocol === 'http:' && !h2Only) return globalThis.fetch(url, init as RequestInit);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw fetchFailed(`cannot fetch ${url.protocol} URLs`);
    }
    signal?.throwIfAborted();
    const node = await nodeModules();
    keySuffix ??= tlsKey(node, tls);
    const headers = normalizeHeaders(init.headers);
    const encoded = await bodyBytes(init.body);
    if (encoded?.type && headers['content-type'] === undefined) headers['content-type'] = encoded.type;
    const redirect = init.redirect ?? 'follow';
    const method = (init.method ?? 'GET').toUpperCase();
    let attempt: Attempt = { url, method, headers, body: encoded?.bytes, signal, redirected: false };
    for (let redirects = 0; ; redirects++) {
      const key = `${h2Only ? 'h2' : 'auto'} ${attempt.url.origin} ${keySuffix}`;
      const connection = await pool.connection(node, { url: attempt.url, key, h2Only, tls });
      if (signal?.aborted) {
        if (connection.kind === 'http/1.1') connection.connections.discardSpare();
        throw signal.reason;
      }
      const response =
        connection.kind === 'h2'
          ? await requestH2(node, pool, connection.entry, attempt)
          : await requestHttp1(connection.connections, attempt);
      if (!isFollowed(response, redirect)) return response;
      await response.body?.cancel();
      attempt = redirectedAttempt(attempt, response, redirect, redirects);
      if (attempt.url.protocol === 'http:' && !h2Only) {
        const { method: next, headers: nextHeaders, body } = attempt;
        return globalThis.fetch(attempt.url, { method: next, headers: nextHeaders, body, redirect, signal });
      }
    }
  };
}

/** A fetch over HTTP/2 where the server offers it (see {@link createHttp2Fetch}), on the shared pool. */
export const http2Fetch: Http2Fetch = createHttp2Fetch();
