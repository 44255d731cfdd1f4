import { createParser, type ParsedEvent, type Parser } from '../protocol/index.js';
import { backoffDelay, type ReconnectPolicy } from './backoff.js';
import { eventStreamHeaders } from './request-headers.js';

/** Where a reconnection stands, as the `onError` and `onRetry` hooks see it. */
export interface RetryInfo {
  /** 1 for the first reconnection since the last successful connection, 2 for the next, and so on. */
  attempt: number;
  /** How long the client waits before it reconnects (milliseconds). */
  delayMs: number;
}

/** What a {@link Reconnection} reads from the stream. */
export interface ReconnectionStream {
  onEvent: (event: ParsedEvent) => void;
  /** The last event ID to start from. Default `""` (none). */
  lastEventId?: string;
  /** The parser's `maxEventSize`. */
  maxEventSize?: number;
}

/**
 * What carries one event stream across its connections, for EventSource and subscribe() alike: the
 * parser, whose last event ID goes out as `Last-Event-ID` on every request and whose `retry:` becomes
 * the base of the delay; the reconnections in a row since a connection last opened; the delay before
 * the next one, by the policy (see {@link backoffDelay}); and the wait itself, which `cancel()` ends.
 */
export class Reconnection {
  readonly policy: Required<ReconnectPolicy>;
  readonly #parser: Parser;
  /** The server's latest `retry:`, which replaces `initialDelayMs`. */
  #serverRetryMs: number | undefined;
  #attempt = 0;
  #wake: ((elapsed: boolean) => void) | undefined;

  constructor(policy: Required<ReconnectPolicy>, stream: ReconnectionStream) {
    this.policy = policy;
    this.#parser = createParser({
      onEvent: stream.onEvent,
      lastEventId: stream.lastEventId ?? '',
      ...(stream.maxEventSize === undefined ? {} : { maxEventSize: stream.maxEventSize }),
      onRetry: (ms) => {
        this.#serverRetryMs = ms;
      },
    });
  }

  /** The last event ID received (or started from): where the next connection resumes. */
  get lastEventId(): string {
    return this.#parser.lastEventId;
  }

  /** The headers of the next request: `user`'s and the event-stream ones, with `Last-Event-ID` (see {@link eventStreamHeaders}). */
  headers(user: Record<string, string>, force: boolean): Record<string, string> {
    return eventStreamHeaders(user, this.#parser.lastEventId, force);
  }

  /** Parses the next chunk of the connection; throws the parser's `ProtocolError` for an event too large. */
  feed(chunk: string | Uint8Array): void {
    this.#parser.feed(chunk);
  }

  /** The connection is over: an unfinished event is dropped (the last event ID and `retry:` stay). */
  disconnected(): void {
    this.#parser.reset();
  }

  /** A connection opened: the next reconnection is the first in a row again. */
  opened(): void {
    this.#attempt = 0;
  }

  /**
   * The next reconnection: its number in a row and its delay (`retryAfterMs`, a server's `Retry-After`,
   * replaces the policy's); `undefined` once `maxRetries` in a row have failed.
   */
  next(retryAfterMs?: number): RetryInfo | undefined {
    const attempt = ++this.#attempt;
    if (attempt > this.policy.maxRetries) return undefined;
    const delayMs =
      retryAfterMs ?? backoffDelay(this.policy, this.#serverRetryMs ?? this.policy.initialDelayMs, attempt);
    return { attempt, delayMs };
  }

  /** Resolves to `true` after `ms`, or to `false` at once on {@link cancel} (or another wait). */
  wait(ms: number): Promise<boolean> {
    this.cancel();
    return new Promise<boolean>((resolve) => {
      const wake = (elapsed: boolean) => {
        clearTimeout(timer);
        if (this.#wake === wake) this.#wake = undefined;
        resolve(elapsed);
      };
      const timer = setTimeout(wake, ms, true);
      this.#wake = wake;
    });
  }

  /** Ends the wait now. */
  cancel(): void {
    this.#wake?.(false);
  }
}
