/**
 * Subscribers on raw `net` sockets: one GET per socket, the response head parsed by hand, the
 * body de-chunked and read as an event stream, each event counted by the recorder. Connections
 * come from 127.0.0.2–127.0.0.5 in turn: a server may bound the subscribers of one address (the
 * hub allows 10,000 by default), real subscribers do not all share one, and other programs on the
 * machine use 127.0.0.1 (their connections in TIME_WAIT there would slow the bench's connects).
 */
import { connect, type Socket } from 'node:net';
import type { Endpoints } from './endpoints.js';
import { ChunkedDecoder, parseHead } from './http-response.js';
import { clockNs } from './payload.js';
import { type Recorder, Tally } from './recorder.js';
import { SseReader } from './sse-reader.js';

export const SOURCE_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
/** Longest wait for one response head. */
const HEAD_TIMEOUT_MS = 30_000;

export class Subscriber {
  readonly tally = new Tally();
  private readonly reader: SseReader;
  private socket: Socket | undefined;
  private headBytes: Buffer | undefined;
  private decoder: ChunkedDecoder | undefined;
  private streaming = false;
  private closing = false;
  /** Called when the server ends a stream the client did not close. */
  onServerClose: ((subscriber: Subscriber) => void) | undefined;

  constructor(
    readonly index: number,
    private readonly recorder: Recorder,
  ) {
    this.reader = new SseReader((seq, timeNs) => recorder.receive(this.tally, seq, timeNs));
  }

  get lastEventId(): string | undefined {
    return this.reader.lastId;
  }

  get isOpen(): boolean {
    return this.streaming;
  }

  /** Connects and sends the GET; resolves once a 200 head arrived, rejects with the reason otherwise. */
  open(endpoints: Endpoints, lastEventId?: string): Promise<void> {
    this.closing = false;
    this.streaming = false;
    this.headBytes = undefined;
    this.decoder = undefined;
    this.reader.resetLine();
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: endpoints.host,
        port: endpoints.port,
        localAddress: SOURCE_ADDRESSES[this.index % SOURCE_ADDRESSES.length],
      });
      this.socket = socket;
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          socket.destroy();
          reject(error);
        } else {
          resolve();
        }
      };
      const timer = setTimeout(() => settle(new Error('timeout')), HEAD_TIMEOUT_MS);
      socket.once('connect', () => {
        socket.write(
          `GET ${endpoints.subscribePath} HTTP/1.1\r\nHost: ${endpoints.host}:${endpoints.port}\r\n` +
            'Accept: text/event-stream\r\nCache-Control: no-cache\r\n' +
            (lastEventId === undefined ? '' : `Last-Event-ID: ${lastEventId}\r\n`) +
            '\r\n',
        );
      });
      socket.on('data', (buffer: Buffer) => {
        this.recorder.now = clockNs();
        if (this.streaming) {
          this.body(buffer, 0);
          return;
        }
        try {
          const bytes = this.headBytes === undefined ? buffer : Buffer.concat([this.headBytes, buffer]);
          const head = parseHead(bytes);
          if (head === undefined) {
            this.headBytes = bytes;
            return;
          }
          this.headBytes = undefined;
          if (head.status !== 200) throw new Error(`HTTP ${head.status}`);
          if (head.framing === 'chunked') this.decoder = new ChunkedDecoder(this.reader.feedBody);
          this.streaming = true;
          settle();
          if (head.size < bytes.length) this.body(bytes, head.size);
        } catch (error) {
          settle(error as Error);
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => settle(new Error(error.code ?? error.message)));
      socket.once('close', () => {
        settle(new Error('closed before the response head'));
        // A connection replaced since (closed by the client, then opened again) has no say any more.
        if (this.socket !== socket) return;
        const wasStreaming = this.streaming;
        this.streaming = false;
        this.socket = undefined;
        if (wasStreaming && !this.closing) this.onServerClose?.(this);
      });
    });
  }

  private body(buffer: Buffer, start: number): void {
    if (this.decoder !== undefined) this.decoder.feed(buffer, start);
    else this.reader.feed(buffer, start, buffer.length);
  }

  /**
   * Drops the connection from the client's side, with a reset (as a client that vanishes does): a
   * reset leaves no TIME_WAIT, which would hold an ephemeral port for a minute and slow every
   * later connect (see bench/lib/time-wait.ts).
   */
  close(): void {
    this.closing = true;
    this.streaming = false;
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    // A reset needs a connection not shut down yet: on one the server ended (and Node answered
    // with its own FIN), libuv refuses it and the socket would never close; a plain destroy then.
    if (socket.destroyed || socket.pending || socket.readableEnded || socket.writableEnded) socket.destroy();
    else socket.resetAndDestroy();
  }
}

export interface ConnectOutcome {
  /** Subscribers whose stream opened. */
  connected: number;
  failed: number;
  /** Reasons of failures and how many had each. */
  errors: Record<string, number>;
  /** From the first connect to the last response head. */
  ms: number;
}

/**
 * Opens the streams of `subscribers`, at most `window` at a time (connecting, or waiting for
 * their head): under every server's listen backlog (Node's and nginx's default is 511), so the
 * measure is the server's, not the kernel's SYN retransmission timer.
 */
/** What `openAll` needs of a subscriber, whatever its protocol. */
export interface Openable {
  readonly lastEventId: string | undefined;
  open(endpoints: Endpoints, lastEventId?: string): Promise<void>;
}

export async function openAll(
  subscribers: readonly Openable[],
  endpoints: Endpoints,
  window: number,
  withLastEventId = false,
): Promise<ConnectOutcome> {
  const outcome: ConnectOutcome = { connected: 0, failed: 0, errors: {}, ms: 0 };
  const started = clockNs();
  let next = 0;
  const worker = async () => {
    while (next < subscribers.length) {
      const subscriber = subscribers[next++] as Openable;
      try {
        await subscriber.open(endpoints, withLastEventId ? subscriber.lastEventId : undefined);
        outcome.connected++;
      } catch (error) {
        outcome.failed++;
        const reason = (error as Error).message;
        outcome.errors[reason] = (outcome.errors[reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, subscribers.length) }, worker));
  outcome.ms = (clockNs() - started) / 1e6;
  return outcome;
}
