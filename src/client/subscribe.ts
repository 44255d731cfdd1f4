import { type ParsedEvent, ProtocolError } from '../protocol/index.js';
import { parseRetryAfter, type ReconnectPolicy, resolvePolicy } from './backoff.js';
import { isEventStream } from './content-type.js';
import { ClientError, describeError, refusalError } from './errors.js';
import { DEFAULT_MAX_QUEUED_EVENTS, EventQueue } from './event-queue.js';
import { resolveFetch } from './http2/resolve-fetch.js';
import type { TlsOptions } from './http2/tls.js';
import { Reconnection, type RetryInfo } from './reconnection.js';
import { normalizeHeaders } from './request-headers.js';
import { chunkReader, discardBody } from './response-body.js';
import type { Fetch, FetchResponse, HeadersLike, RequestBody } from './types.js';

/** The options of {@link subscribe}. Every one has a default; times are in milliseconds. */
export interface SubscribeOptions {
  /** The HTTP method. Default `"GET"`. */
  method?: string;
  /** The request body, sent again on each reconnection (for POST subscriptions, as LLM APIs use). */
  body?: RequestBody;
  /** Request headers, such as `Authorization`. `Accept` and `Cache-Control` default to the event-stream ones. */
  headers?: HeadersLike;
  /** Aborting it ends the subscription at once: the request is cancelled and the iterator throws `signal.reason`. */
  signal?: AbortSignal;
  /** The last event ID to start from, sent as `Last-Event-ID` on the first request too. Default `""` (none). */
  lastEventId?: string;
  /**
   * The `fetch` to use (a proxy, say). Default: HTTP/2 for an `https:` server that offers it by ALPN
   * (one connection for every subscription to it), else HTTP/1.1; `http:` URLs through the global
   * `fetch`. When given, `http2` and `tls` do not apply.
   */
  fetch?: Fetch;
  /**
   * `false` always uses the global `fetch` (HTTP/1.1); `true` always HTTP/2, cleartext (h2c) for
   * `http:` URLs. Default: HTTP/2 when an `https:` server offers it.
   */
  http2?: boolean;
  /** TLS options for `https:` URLs, such as `ca` to trust a self-signed certificate. */
  tls?: TlsOptions;
  /**
   * How to reconnect after the stream ends or the connection fails; `false` never reconnects.
   * A server's `retry:` replaces `initialDelayMs`; a `Retry-After` on a refused request replaces the delay.
   */
  reconnect?: ReconnectPolicy | false;
  /**
   * Reconnect also when the method is not idempotent (POST, PATCH). Off by default: resending a POST
   * may repeat what it does (a charge, a prompt to a paid model). Default `false`.
   */
  retryNonIdempotent?: boolean;
  /** Whether a refusal with this HTTP status is worth retrying. Default: 5xx and 429; anything else fails. */
  isRetryableStatus?: (status: number) => boolean;
  /**
   * The most events held for a consumer that has not asked for them. While the queue holds this many,
   * the client stops reading the response, so a slow consumer slows the server down instead of filling
   * memory (the queue can exceed it by the events of the one chunk being parsed). Default 1000.
   */
  maxQueuedEvents?: number;
  /** Reconnect when nothing at all, not even a comment, arrives for this long. Default 0: off. */
  idleTimeoutMs?: number;
  /**
   * The most the parser may buffer, in UTF-16 code units: an unfinished line plus the data of the event
   * being built. A stream that needs more fails the subscription (`event-too-large`). Default 16 MiB.
   */
  maxEventSize?: number;
  /** Called with each successful response, before its events. A throw (or rejection) ends the subscription with that error. */
  onOpen?: (response: FetchResponse) => void | Promise<void>;
  /**
   * Called for each error the client is about to retry, with the attempt and the delay. Return `false`
   * to stop and throw the error instead; any other value (or none) lets the reconnection go on.
   */
  onError?: (error: ClientError, retry: RetryInfo) => unknown;
  /** Called before each reconnection, whether after an error or after the server ended the stream. */
  onRetry?: (retry: RetryInfo & { lastEventId: string }) => void;
}

/** Methods RFC 9110 defines as idempotent: repeating them has the effect of sending them once. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function defaultIsRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** What one request came to. */
interface Outcome {
  /** The server answered with an event stream. */
  opened: boolean;
  /** Why it ended, if it was not the server ending the stream. */
  error?: unknown;
  /** Whether a reconnection may follow. */
  retry: boolean;
  /** The server's `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
}

/**
 * A running subscription: an async iterable of the stream's events (`{ type, data, lastEventId }`),
 * across reconnections. The request starts with the first `next()` (the first turn of `for await`).
 * Leaving the loop (`break`, `return`, a throw) cancels the request at once.
 */
export class Subscription implements AsyncIterableIterator<ParsedEvent, undefined> {
  readonly #url: string;
  readonly #method: string;
  readonly #body: RequestBody | undefined;
  readonly #headers: Record<string, string>;
  readonly #signal: AbortSignal | undefined;
  readonly #fetch: Fetch;
  readonly #mayRetry: boolean;
  readonly #isRetryableStatus: (status: number) => boolean;
  readonly #idleTimeoutMs: number;
  readonly #options: SubscribeOptions;
  readonly #queue: EventQueue<ParsedEvent>;
  readonly #reconnection: Reconnection;
  #started = false;
  /** The request in flight. */
  #controller: AbortController | undefined;
  readonly #onAbort = (): void => this.#close({ reason: this.#signal?.reason });

  /** Use {@link subscribe}. */
  constructor(url: string | URL, options: SubscribeOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(String(url));
    } catch {
      throw new ClientError('invalid-url', `Cannot parse the URL "${String(url)}".`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ClientError(
        'invalid-url',
        `Only http: and https: URLs can be subscribed to, not ${parsed.protocol}.`,
      );
    }
    const maxQueuedEvents = options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS;
    if (!Number.isInteger(maxQueuedEvents) || maxQueuedEvents < 1) {
      throw new ClientError(
        'invalid-option',
        `maxQueuedEvents must be a positive integer, got ${maxQueuedEvents}.`,
      );
    }
    const idleTimeoutMs = options.idleTimeoutMs ?? 0;
    if (!(idleTimeoutMs >= 0)) {
      throw new ClientError('invalid-option', `idleTimeoutMs must be 0 (off) or more, got ${idleTimeoutMs}.`);
    }
    this.#url = parsed.href;
    this.#method = (options.method ?? 'GET').toUpperCase();
    this.#body = options.body;
    this.#headers = normalizeHeaders(options.headers);
    this.#signal = options.signal;
    this.#fetch = resolveFetch(options);
    this.#mayRetry = IDEMPOTENT.has(this.#method) || options.retryNonIdempotent === true;
    this.#isRetryableStatus = options.isRetryableStatus ?? defaultIsRetryableStatus;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#options = options;
    this.#queue = new EventQueue(maxQueuedEvents);
    this.#reconnection = new Reconnection(
      resolvePolicy(options.reconnect === false ? { maxRetries: 0 } : options.reconnect),
      {
        onEvent: (event) => this.#queue.push(event),
        ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
        ...(options.maxEventSize === undefined ? {} : { maxEventSize: options.maxEventSize }),
      },
    );
  }

  /** The last event ID received (or given as `lastEventId`): where a new subscription would resume. */
  get lastEventId(): string {
    return this.#reconnection.lastEventId;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ParsedEvent, undefined>> {
    if (!this.#started && !this.#queue.closed) this.#start();
    return this.#queue.next();
  }

  /** Ends the subscription at once (what `break` in `for await` calls). */
  return(): Promise<IteratorResult<ParsedEvent, undefined>> {
    this.#close(undefined);
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the subscription at once: the request is cancelled, queued events are dropped. */
  close(): void {
    this.#close(undefined);
  }

  #start(): void {
    this.#started = true;
    if (this.#signal?.aborted) {
      this.#close({ reason: this.#signal.reason });
      return;
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#run().then(
      () => this.#end(undefined),
      (reason: unknown) => this.#end({ reason }),
    );
  }

  /** The reconnect loop has finished: what is queued is still delivered, then `error` (if any) is thrown. */
  #end(error: { reason: unknown } | undefined): void {
    if (this.#queue.closed) return;
    this.#queue.end(error);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  /** The user ended the subscription: stop everything now; `error` (the abort reason) is thrown once. */
  #close(error: { reason: unknown } | undefined): void {
    if (this.#queue.closed) return;
    this.#queue.close(error);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#controller?.abort();
    this.#reconnection.cancel();
  }

  /** Requests, reads, and reconnects as the policy says, until the stream ends for good. */
  async #run(): Promise<void> {
    const reconnection = this.#reconnection;
    for (;;) {
      const outcome = await this.#request();
      if (this.#queue.closed) return;
      if (outcome.opened) reconnection.opened();
      const { error } = outcome;
      if (!outcome.retry || !this.#mayRetry) {
        if (error !== undefined) throw error;
        return;
      }
      const retry = reconnection.next(outcome.retryAfterMs);
      if (retry === undefined) {
        const { maxRetries } = reconnection.policy;
        if (error === undefined) return;
        if (maxRetries === 0) throw error;
        throw new ClientError(
          'retries-exhausted',
          `Gave up after ${maxRetries} reconnection${maxRetries === 1 ? '' : 's'} in a row failed; the last: ${describeError(error)}`,
          { cause: error },
        );
      }
      if (error instanceof ClientError && this.#options.onError?.(error, retry) === false) throw error;
      this.#options.onRetry?.({ ...retry, lastEventId: reconnection.lastEventId });
      await reconnection.wait(retry.delayMs);
      if (this.#queue.closed) return;
    }
  }

  /** Makes one request and reads its events until the stream ends or breaks. Never throws. */
  async #request(): Promise<Outcome> {
    const controller = new AbortController();
    this.#controller = controller;
    let idle: ReturnType<typeof setTimeout> | undefined;
    let idleFired = false;
    if (this.#idleTimeoutMs > 0) {
      idle = setTimeout(() => {
        // Time spent waiting for a slow consumer is not the server's silence.
        if (this.#queue.waitingForRoom) {
          idle?.refresh();
          return;
        }
        idleFired = true;
        controller.abort();
      }, this.#idleTimeoutMs);
    }
    let opened = false;
    try {
      const response = await this.#fetch(this.#url, {
        method: this.#method,
        headers: this.#reconnection.headers(this.#headers, false),
        ...(this.#body === undefined ? {} : { body: this.#body }),
        redirect: 'follow',
        credentials: 'same-origin',
        signal: controller.signal,
      });
      idle?.refresh();
      if (this.#queue.closed) {
        discardBody(response.body);
        return { opened, retry: false };
      }
      const { status } = response;
      // "No Content": the standard's way for a server to say there is nothing more, so do not reconnect.
      if (status === 204) {
        discardBody(response.body);
        return { opened, retry: false };
      }
      if (status < 200 || status > 299) {
        const retry = this.#isRetryableStatus(status);
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        const error = await refusalError(
          'http-status',
          response,
          `${this.#method} ${this.#url} was refused: ${status} ${response.statusText}`,
        );
        return retryAfterMs === undefined ? { opened, error, retry } : { opened, error, retry, retryAfterMs };
      }
      const contentType = response.headers.get('content-type');
      if (!isEventStream(contentType)) {
        const error = await refusalError(
          'bad-content-type',
          response,
          `${this.#method} ${this.#url} answered ${status} with Content-Type ${contentType ?? '(none)'}, not text/event-stream`,
        );
        return { opened, error, retry: false };
      }
      opened = true;
      if (this.#options.onOpen) {
        try {
          await this.#options.onOpen(response);
        } catch (error) {
          discardBody(response.body);
          return { opened, error, retry: false };
        }
      }
      await this.#read(response, idle);
      return { opened, retry: true };
    } catch (error) {
      if (this.#queue.closed) return { opened, retry: false };
      if (idleFired) {
        return {
          opened,
          error: new ClientError(
            'idle-timeout',
            `Nothing arrived from ${this.#url} for ${this.#idleTimeoutMs} ms.`,
          ),
          retry: true,
        };
      }
      if (error instanceof ProtocolError) {
        return {
          opened,
          error: new ClientError('event-too-large', error.message, { cause: error }),
          retry: false,
        };
      }
      return {
        opened,
        error: new ClientError('network', `${this.#method} ${this.#url} failed: ${describeError(error)}.`, {
          cause: error,
        }),
        retry: true,
      };
    } finally {
      clearTimeout(idle);
      this.#controller = undefined;
      this.#reconnection.disconnected();
    }
  }

  /** Reads events into the queue, pausing while it is full. Resolves at the end of the stream. */
  async #read(response: FetchResponse, idle: ReturnType<typeof setTimeout> | undefined): Promise<void> {
    const reader = chunkReader(response.body);
    try {
      for (;;) {
        if (this.#queue.full) {
          // Not reading lets the transport's buffers fill, and flow control tells the server.
          await this.#queue.room();
          idle?.refresh();
        }
        if (this.#queue.closed) return;
        const chunk = await reader.read();
        if (chunk === undefined) return;
        idle?.refresh();
        this.#reconnection.feed(chunk);
      }
    } finally {
      reader.cancel();
    }
  }
}

/**
 * Subscribes to an event stream with `fetch`: any method, body and headers; reconnection with
 * backoff that honours the server's `retry:` and `Retry-After`; typed errors; and backpressure.
 *
 * ```ts
 * for await (const event of subscribe('https://example.com/events', { headers: { Authorization: 'Bearer …' } })) {
 *   console.log(event.type, event.data, event.lastEventId);
 * }
 * ```
 *
 * The iterator ends when the server answers 204, or ends the stream when no reconnection is allowed
 * (`reconnect: false`, or a POST without `retryNonIdempotent`). It throws a {@link ClientError} when the
 * server refuses for good (`http-status`, `bad-content-type`), when reconnection is not allowed after a
 * failure, or when `maxRetries` ran out (`retries-exhausted`); and `signal.reason` when the signal aborts.
 * Throws a `ClientError` at once for an invalid URL or option.
 */
export function subscribe(url: string | URL, options?: SubscribeOptions): Subscription {
  return new Subscription(url, options);
}
