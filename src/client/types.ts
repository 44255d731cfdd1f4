/**
 * A request body that can be sent again on a reconnection (so no one-shot streams). The bytes are
 * `Uint8Array<ArrayBuffer>`, as fetch's `BodyInit` has them, so the global `fetch` fits {@link Fetch}.
 */
export type RequestBody = string | Uint8Array<ArrayBuffer> | ArrayBuffer | URLSearchParams | Blob | FormData;

/** Request headers: a plain object, `[name, value]` pairs or a `Headers`. */
export type HeadersLike = Record<string, string> | Iterable<readonly [string, string]> | Headers;

/** What the client passes to `fetch`. */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: RequestBody;
  redirect: 'follow';
  credentials: 'include' | 'same-origin';
  signal: AbortSignal;
}

/**
 * The part of a fetch `Response` the client reads. Node's global `fetch` (undici), node-fetch and
 * browsers' all fit: `body` may be a WHATWG `ReadableStream` or an async iterable of chunks.
 */
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  /** The final URL, after redirects (`""` if the implementation does not say). */
  readonly url: string;
  readonly headers: {
    get(name: string): string | null;
    forEach(callback: (value: string, name: string) => void): void;
  };
  readonly body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string> | null;
}

/** A `fetch` to use instead of the global one, for a proxy, custom TLS or an HTTP/2 agent. */
export type Fetch = (url: string, init: FetchInit) => Promise<FetchResponse>;
