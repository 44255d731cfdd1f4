import type { SseEvent } from '../protocol/index.js';
import { integerOption } from './errors.js';
import { Frame, HEARTBEAT } from './frame.js';
import { type HeartbeatGroup, joinHeartbeat } from './heartbeat.js';
import { type Logger, stderrLogger } from './logger.js';
import { serverStats } from './stats.js';
import type { CloseListener, Transport } from './transports/transport.js';

/** Default interval between heartbeats: 15 s, well under the 60 s idle limit of common proxies. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Default bound on bytes buffered for one slow client before its stream is closed: 1 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

export interface EventStreamOptions<State = undefined> {
  /** A `retry:` hint sent first: how long the client waits before reconnecting, in ms. Default: none. */
  retry?: number;
  /** Interval of heartbeat comments in ms; 0 turns them off. Default 15000. */
  heartbeatMs?: number;
  /** Bytes buffered for a client that does not read, past which its stream is closed. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** More response headers (they win over the defaults). */
  headers?: Record<string, string | string[]>;
  /** Query parameter read as the last event ID when the `Last-Event-ID` header is absent; false: none. Default `lastEventId`. */
  lastEventIdParam?: string | false;
  /** Where log lines go. Default: warnings on stderr. */
  logger?: Logger;
  /** Your own data about this client, kept on `stream.state`. */
  state?: State;
}

/** Something that can hold streams and must forget them when they close (a channel). */
export interface StreamGroup {
  remove(stream: EventStream<unknown>): boolean;
}

export type TransportOpener = (onClose: CloseListener) => Transport;

type CloseEvent = 'close';

/**
 * One open `text/event-stream` response. Create it with `createEventStream` (node:http, node:http2)
 * or `createEventStreamResponse` (Web `Response`).
 *
 * Events: `close` once, when either side ends the stream (`stream.on('close', fn)`; `once`, `off`).
 * A stream emits nothing else, so it keeps a plain list of close listeners rather than a whole
 * EventEmitter: with tens of thousands of idle subscribers, every byte of a stream counts.
 */
export class EventStream<State = undefined> {
  /** The ID the client last saw, from `Last-Event-ID` (or the query parameter); `""` when none. */
  readonly lastEventId: string;
  /** Your own data about this client. */
  state: State;

  private readonly transport: Transport;
  private readonly maxBufferedBytes: number;
  /**
   * Unread bytes past which `send` tells its writer to wait: half of `maxBufferedBytes`, so a writer
   * that waits is never dropped. The transport's own high-water mark cannot be trusted for this: a
   * socket's is 64 KiB since Node.js 22 (16 KiB before), and a server can set any.
   */
  private readonly paceBytes: number;
  private readonly logger: Logger;
  private open = true;
  /** Written since the last heartbeat tick: an active stream needs no heartbeat. */
  private wrote = false;
  private heartbeat: HeartbeatGroup | undefined;
  private groups: StreamGroup[] | undefined;
  private closedPromise: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private closeListeners: Array<() => void> | undefined;

  /** @internal Use `createEventStream` or `createEventStreamResponse`. */
  constructor(openTransport: TransportOpener, lastEventId: string, options: EventStreamOptions<State>) {
    const retry = options.retry === undefined ? undefined : integerOption('retry', options.retry, 0);
    const heartbeatMs = integerOption('heartbeatMs', options.heartbeatMs, DEFAULT_HEARTBEAT_MS);
    this.maxBufferedBytes = integerOption(
      'maxBufferedBytes',
      options.maxBufferedBytes,
      DEFAULT_MAX_BUFFERED_BYTES,
    );
    this.paceBytes = this.maxBufferedBytes / 2;
    this.logger = options.logger ?? stderrLogger;
    this.lastEventId = lastEventId;
    this.state = options.state as State;
    serverStats.streamsOpened++;
    serverStats.streamsOpen++;
    this.transport = openTransport(() => this.finish());
    if (!this.open) return;
    if (retry !== undefined) this.sendFrame(Frame.of({ retry }));
    if (heartbeatMs > 0 && this.open) this.heartbeat = joinHeartbeat(this, heartbeatMs);
  }

  /** Calls `listener` when the stream closes (at once, on the next tick, if it already has). */
  on(event: CloseEvent, listener: () => void): this {
    if (event !== 'close') throw new TypeError(`An event stream emits "close" only, not "${String(event)}".`);
    if (!this.open) queueMicrotask(listener);
    else if (this.closeListeners === undefined) this.closeListeners = [listener];
    else this.closeListeners.push(listener);
    return this;
  }

  /** The same as {@link on}: a stream closes once. */
  once(event: CloseEvent, listener: () => void): this {
    return this.on(event, listener);
  }

  off(event: CloseEvent, listener: () => void): this {
    const listeners = this.closeListeners;
    const at = event === 'close' && listeners ? listeners.indexOf(listener) : -1;
    if (at !== -1) listeners?.splice(at, 1);
    return this;
  }

  /** The same as {@link off}. */
  removeListener(event: CloseEvent, listener: () => void): this {
    return this.off(event, listener);
  }

  /** True until the stream closes. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Settles when the stream has closed, whichever side closed it. Never rejects. */
  get closed(): Promise<void> {
    if (this.closedPromise === undefined) {
      this.closedPromise = this.open
        ? new Promise((resolve) => {
            this.resolveClosed = resolve;
          })
        : Promise.resolve();
    }
    return this.closedPromise;
  }

  /** Bytes written to this stream that its client has not taken yet. */
  get bufferedBytes(): number {
    return this.transport.bufferedBytes;
  }

  /**
   * Sends one event. Throws the protocol's `ProtocolError` for a field that would break the frame.
   * Returns false when the stream is closed or the client is not keeping up (past the transport's
   * high-water mark, or half of `maxBufferedBytes` unread): slow down, or wait for `drained()`.
   */
  send(event: SseEvent): boolean {
    if (!this.open) return false;
    return this.sendFrame(Frame.of(event));
  }

  /** Sends a comment line, which clients ignore: `: text`. */
  comment(text = ''): boolean {
    if (!this.open) return false;
    return this.sendFrame(Frame.of({ comment: text }));
  }

  /**
   * Writes an already encoded frame; a channel writes the same frame to all its streams this way.
   * A client whose unread bytes pass `maxBufferedBytes` is dropped, with a log line and a count.
   */
  sendFrame(frame: Frame): boolean {
    if (!this.open) return false;
    this.wrote = true;
    serverStats.framesWritten++;
    const ok = this.transport.write(frame);
    const buffered = this.transport.bufferedBytes;
    if (ok && buffered <= this.paceBytes) return true;
    if (buffered > this.maxBufferedBytes) {
      serverStats.slowConsumersClosed++;
      this.logger.warn(
        { bufferedBytes: buffered, maxBufferedBytes: this.maxBufferedBytes },
        'Closed an event stream whose client is not reading (slow consumer).',
      );
      this.transport.destroy();
      this.finish();
    }
    return false;
  }

  /** Resolves when the client has taken what was buffered, or the stream closed. */
  drained(): Promise<void> {
    if (!this.open || this.transport.bufferedBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.transport.onceDrain(resolve));
  }

  /** Ends the stream. The client will reconnect unless told otherwise (answer its next request with 204). */
  close(): void {
    if (!this.open) return;
    this.transport.end();
    this.finish();
  }

  /** @internal Called by the shared heartbeat timer. */
  beat(): void {
    if (this.wrote) this.wrote = false;
    else this.sendFrame(HEARTBEAT);
  }

  /** @internal Called by a channel when the stream joins it, so that closing leaves it at once. */
  joined(group: StreamGroup): void {
    if (this.groups === undefined) this.groups = [group];
    else if (!this.groups.includes(group)) this.groups.push(group);
  }

  /** @internal Called by a channel when the stream leaves it. */
  left(group: StreamGroup): void {
    if (this.groups === undefined) return;
    const at = this.groups.indexOf(group);
    if (at !== -1) this.groups.splice(at, 1);
  }

  private finish(): void {
    if (!this.open) return;
    this.open = false;
    serverStats.streamsOpen--;
    this.heartbeat?.remove(this);
    this.heartbeat = undefined;
    const groups = this.groups;
    this.groups = undefined;
    if (groups) for (const group of groups) group.remove(this);
    this.resolveClosed?.();
    const listeners = this.closeListeners;
    this.closeListeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }
}
