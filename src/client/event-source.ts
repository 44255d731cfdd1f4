import { type ParsedEvent, ProtocolError } from '../protocol/index.js';
import { resolvePolicy } from './backoff.js';
import { isEventStream } from './content-type.js';
import { describeError } from './errors.js';
import { resolveFetch } from './http2/resolve-fetch.js';
import type { TlsOptions } from './http2/tls.js';
import { Reconnection, type RetryInfo } from './reconnection.js';
import { normalizeHeaders } from './request-headers.js';
import { type ChunkReader, chunkReader, discardBody } from './response-body.js';
import type { Fetch, FetchResponse, HeadersLike } from './types.js';

/** What `new EventSource(url, init)` takes: the standard `withCredentials`, and two Node.js extensions. */
export interface EventSourceInit {
  /**
   * Stored and exposed as `withCredentials`, as the standard says. Node.js has no cookie jar, so to
   * send cookies pass them yourself: `headers: { Cookie: 'mercureAuthorization=…' }`. Default `false`.
   */
  withCredentials?: boolean;
  /**
   * Non-standard: headers sent with every request, such as `Authorization` or `Cookie`.
   * `Accept`, `Cache-Control` and `Last-Event-ID` are always the EventSource's own.
   */
  headers?: HeadersLike;
  /**
   * Non-standard: the `fetch` to use (a proxy, say). Default: HTTP/2 for an `https:` server that
   * offers it by ALPN (one connection for every stream to it), else HTTP/1.1; `http:` URLs through
   * the global `fetch`. When given, `http2` and `tls` do not apply.
   */
  fetch?: Fetch;
  /**
   * Non-standard: `false` always uses the global `fetch` (HTTP/1.1); `true` always HTTP/2, cleartext
   * (h2c) for `http:` URLs. Default: HTTP/2 when an `https:` server offers it.
   */
  http2?: boolean;
  /** Non-standard: TLS options for `https:` URLs, such as `ca` to trust a self-signed certificate. */
  tls?: TlsOptions;
}

/**
 * The `error` event: a plain `Event` named `"error"` (it neither bubbles nor can be cancelled), with
 * two non-standard properties that say why, since a Node.js program has no devtools to look in.
 */
export class EventSourceErrorEvent extends Event {
  /** What happened, for a person to read. */
  readonly message: string;
  /** The HTTP status when the server answered with something other than an event stream. */
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super('error');
    this.message = message;
    this.status = status;
  }
}

/** The events an EventSource dispatches, besides the named events of the stream (also `MessageEvent`s). */
export interface EventSourceEventMap {
  open: Event;
  message: MessageEvent<string>;
  error: EventSourceErrorEvent;
}

type Handler<E extends Event> = ((this: EventSource, event: E) => unknown) | null;
interface HandlerSlot {
  handler: (this: EventSource, event: Event) => unknown;
  listener: (event: Event) => void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** The reconnection time until the server sets one with `retry:` (milliseconds), as browsers default to. */
const DEFAULT_RECONNECTION_TIME_MS = 3000;

/** The standard's reconnection: the reconnection time each time (no backoff, no jitter, no cap), for ever. */
const RECONNECTION_POLICY = resolvePolicy({
  initialDelayMs: DEFAULT_RECONNECTION_TIME_MS,
  maxDelayMs: Number.POSITIVE_INFINITY,
  factor: 1,
  jitter: 0,
  maxRetries: Number.POSITIVE_INFINITY,
});

/**
 * An `EventSource` for Node.js with the semantics of the HTML standard: it sends
 * `Accept: text/event-stream` and `Cache-Control: no-cache`, follows redirects, fails for good
 * (`readyState` `CLOSED`, one `error`) on a status other than 200 or a `Content-Type` other than
 * `text/event-stream`, and when the stream ends or the network fails it fires `error`, waits the
 * reconnection time (3000 ms until the server sends `retry:`) and reconnects to the original URL
 * with `Last-Event-ID`. No event is dispatched after `close()`.
 */
export class EventSource extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSED: 2;

  readonly #url: URL;
  readonly #withCredentials: boolean;
  readonly #fetch: Fetch;
  readonly #headers: Record<string, string>;
  readonly #reconnection: Reconnection;
  readonly #handlers = new Map<string, HandlerSlot>();
  #readyState: number = CONNECTING;
  /** The request in flight; replaced on each connection, so a late answer to an old one is ignored. */
  #controller: AbortController | undefined;
  #origin = '';

  /**
   * Starts connecting at once. Throws a `SyntaxError` `DOMException` if `url` cannot be parsed, and a
   * `TypeError` if a header in `init.headers` is invalid.
   */
  constructor(url: string | URL, init: EventSourceInit = {}) {
    super();
    try {
      this.#url = new URL(String(url), globalThis.location?.href);
    } catch {
      throw new DOMException(`Cannot parse the EventSource URL "${String(url)}".`, 'SyntaxError');
    }
    this.#withCredentials = Boolean(init.withCredentials);
    this.#headers = normalizeHeaders(init.headers);
    this.#fetch = resolveFetch(init);
    this.#reconnection = new Reconnection(RECONNECTION_POLICY, {
      onEvent: (event) => this.#dispatchMessage(event),
    });
    this.#connect();
  }

  /** The URL, absolute; reconnections always go back to it, whatever redirects the server made. */
  get url(): string {
    return this.#url.href;
  }

  get withCredentials(): boolean {
    return this.#withCredentials;
  }

  /** `CONNECTING` (0), `OPEN` (1) or `CLOSED` (2). */
  get readyState(): number {
    return this.#readyState;
  }

  get onopen(): Handler<Event> {
    return this.#getHandler('open');
  }
  set onopen(handler: Handler<Event>) {
    this.#setHandler('open', handler);
  }

  get onmessage(): Handler<MessageEvent<string>> {
    return this.#getHandler('message');
  }
  set onmessage(handler: Handler<MessageEvent<string>>) {
    this.#setHandler('message', handler);
  }

  get onerror(): Handler<EventSourceErrorEvent> {
    return this.#getHandler('error');
  }
  set onerror(handler: Handler<EventSourceErrorEvent>) {
    this.#setHandler('error', handler);
  }

  override addEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, event: EventSourceEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Named events (`event: price` in the stream) are `MessageEvent`s dispatched under their name. */
  override addEventListener(
    type: string,
    listener: (this: EventSource, event: MessageEvent<string>) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null | ((this: EventSource, event: never) => unknown),
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  override removeEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, event: EventSourceEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: (this: EventSource, event: MessageEvent<string>) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null | ((this: EventSource, event: never) => unknown),
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /** Stops everything at once: the request in flight, a pending reconnection, and every later event. */
  close(): void {
    this.#reconnection.cancel();
    this.#readyState = CLOSED;
    const controller = this.#controller;
    this.#controller = undefined;
    controller?.abort();
  }

  #getHandler<E extends Event>(type: string): Handler<E> {
    return (this.#handlers.get(type)?.handler as Handler<E> | undefined) ?? null;
  }

  #setHandler<E extends Event>(type: string, value: Handler<E>): void {
    const slot = this.#handlers.get(type);
    if (typeof value !== 'function') {
      if (slot) {
        this.removeEventListener(type, slot.listener);
        this.#handlers.delete(type);
      }
      return;
    }
    const handler = value as HandlerSlot['handler'];
    if (slot) {
      // A handler replaced keeps its place among the listeners, as the standard says.
      slot.handler = handler;
      return;
    }
    const created: HandlerSlot = {
      handler,
      listener: (event) => {
        created.handler.call(this, event);
      },
    };
    this.#handlers.set(type, created);
    super.addEventListener(type, created.listener);
  }

  #connect(): void {
    const url = this.#url;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      // Browsers fail such URLs as a network error, after the constructor has returned (after a close() too: no event).
      setTimeout(() => this.#fail(`EventSource cannot fetch ${url.protocol} URLs.`), 0);
      return;
    }
    const controller = new AbortController();
    this.#controller = controller;
    const init = {
      method: 'GET',
      headers: this.#reconnection.headers(this.#headers, true),
      redirect: 'follow' as const,
      credentials: this.#withCredentials ? ('include' as const) : ('same-origin' as const),
      signal: controller.signal,
    };
    Promise.resolve()
      .then(() => this.#fetch(url.href, init))
      .then(
        (response) => this.#onResponse(response, controller),
        (error: unknown) => {
          if (this.#controller !== controller) return;
          this.#reestablish(`The request to ${url.href} failed: ${describeError(error)}`);
        },
      );
  }

  #onResponse(response: FetchResponse, controller: AbortController): void {
    if (this.#controller !== controller) {
      discardBody(response.body);
      return;
    }
    const { status } = response;
    if (status !== 200) {
      discardBody(response.body);
      this.#fail(`The server answered ${status} ${response.statusText}, not 200: not reconnecting.`, status);
      return;
    }
    const contentType = response.headers.get('content-type');
    if (!isEventStream(contentType)) {
      discardBody(response.body);
      this.#fail(
        `The server answered with Content-Type ${contentType ?? '(none)'}, not text/event-stream: not reconnecting.`,
        status,
      );
      return;
    }
    this.#origin = new URL(response.url || this.#url.href).origin;
    this.#readyState = OPEN;
    this.#reconnection.opened();
    this.dispatchEvent(new Event('open'));
    const reader = chunkReader(response.body);
    if (this.#controller !== controller) {
      reader.cancel();
      return;
    }
    void this.#read(reader, controller);
  }

  async #read(reader: ChunkReader, controller: AbortController): Promise<void> {
    let message = 'The server ended the stream';
    try {
      for (;;) {
        const chunk = await reader.read();
        if (this.#controller !== controller) {
          reader.cancel();
          return;
        }
        if (chunk === undefined) break;
        this.#reconnection.feed(chunk);
      }
    } catch (error) {
      if (this.#controller !== controller) return;
      reader.cancel();
      if (error instanceof ProtocolError) {
        // Reconnecting would only bring the same event again.
        this.#fail(`${error.message} Not reconnecting.`);
        return;
      }
      message = `The stream broke: ${describeError(error)}`;
    }
    this.#reestablish(message);
  }

  #dispatchMessage(event: ParsedEvent): void {
    // Also checked for each event left in a chunk after a listener called close().
    if (this.#readyState !== OPEN) return;
    this.dispatchEvent(
      new MessageEvent(event.type, {
        data: event.data,
        origin: this.#origin,
        lastEventId: event.lastEventId,
      }),
    );
  }

  /** The standard's "reestablish the connection": `error` with `CONNECTING`, wait, reconnect. */
  #reestablish(reason: string): void {
    this.#controller = undefined;
    this.#reconnection.disconnected();
    this.#readyState = CONNECTING;
    // Never undefined: the policy retries for ever.
    const { delayMs } = this.#reconnection.next() as RetryInfo;
    this.dispatchEvent(new EventSourceErrorEvent(`${reason}; reconnecting in ${delayMs} ms.`));
    if (this.#readyState !== CONNECTING) return;
    void this.#reconnection.wait(delayMs).then((elapsed) => {
      if (elapsed && this.#readyState === CONNECTING) this.#connect();
    });
  }

  /** The standard's "fail the connection": `CLOSED`, one `error`, no reconnection. */
  #fail(message: string, status?: number): void {
    const controller = this.#controller;
    this.#controller = undefined;
    controller?.abort();
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.dispatchEvent(new EventSourceErrorEvent(message, status));
  }
}

Object.defineProperties(EventSource.prototype, {
  CONNECTING: { value: CONNECTING, enumerable: true },
  OPEN: { value: OPEN, enumerable: true },
  CLOSED: { value: CLOSED, enumerable: true },
});
