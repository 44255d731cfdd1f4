/**
 * The load generator over cleartext HTTP/2 (h2c): many subscriber streams share each session, as a
 * browser's tabs share one connection, and the publisher posts on a session of its own. Same
 * interface as the HTTP/1.1 subscriber and publisher, so every scenario runs unchanged.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from 'node:http2';
import type { Endpoints } from '../../src/cli/bench/endpoints.js';
import { clockNs, payload } from '../../src/cli/bench/payload.js';
import { type Recorder, Tally } from '../../src/cli/bench/recorder.js';
import { SseReader } from '../../src/cli/bench/sse-reader.js';

/** Streams per session: what a browser opens on one connection, well under the hub's 1,000. */
const STREAMS_PER_SESSION = 100;
/** A window large enough that flow control never holds a stream back during a run. */
const WINDOW = 4 * 1024 * 1024;

/** Sessions shared by the subscribers of one load generator, each until it holds STREAMS_PER_SESSION. */
class SessionPool {
  private current: ClientHttp2Session | undefined;
  private inCurrent = 0;
  private readonly all = new Set<ClientHttp2Session>();

  take(endpoints: Endpoints): ClientHttp2Session {
    if (this.current === undefined || this.current.destroyed || this.inCurrent >= STREAMS_PER_SESSION) {
      const session = connect(`http://${endpoints.host}:${endpoints.port}`, {
        settings: { initialWindowSize: WINDOW },
      });
      session.on('error', () => {});
      session.once('connect', () => session.setLocalWindowSize(WINDOW));
      session.once('close', () => this.all.delete(session));
      this.all.add(session);
      this.current = session;
      this.inCurrent = 0;
    }
    this.inCurrent++;
    return this.current;
  }

  closeAll(): void {
    for (const session of this.all) session.destroy();
    this.all.clear();
    this.current = undefined;
  }
}

export const sessions = new SessionPool();

/** One subscriber: a stream on a shared session. */
export class H2Subscriber {
  readonly tally = new Tally();
  private readonly reader: SseReader;
  private stream: ClientHttp2Stream | undefined;
  private streaming = false;
  private closing = false;
  onServerClose: ((subscriber: H2Subscriber) => void) | undefined;

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

  open(endpoints: Endpoints, lastEventId?: string): Promise<void> {
    this.closing = false;
    this.streaming = false;
    this.reader.resetLine();
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {
        ':path': endpoints.subscribePath,
        accept: 'text/event-stream',
        'cache-control': 'no-cache',
      };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      let stream: ClientHttp2Stream;
      try {
        stream = sessions.take(endpoints).request(headers);
      } catch (error) {
        reject(error as Error);
        return;
      }
      this.stream = stream;
      let settled = false;
      stream.on('response', (response) => {
        settled = true;
        if (response[':status'] !== 200) {
          reject(new Error(`HTTP ${response[':status']}`));
          stream.close(constants.NGHTTP2_CANCEL);
          return;
        }
        this.streaming = true;
        resolve();
      });
      stream.on('data', (buffer: Buffer) => {
        this.recorder.now = clockNs();
        this.reader.feed(buffer, 0, buffer.length);
      });
      stream.on('error', (error: Error) => {
        if (!settled) {
          settled = true;
          reject(error);
        }
      });
      stream.once('close', () => {
        if (!settled) {
          settled = true;
          reject(new Error('closed before the response head'));
        }
        if (this.stream !== stream) return;
        const wasStreaming = this.streaming;
        this.streaming = false;
        this.stream = undefined;
        if (wasStreaming && !this.closing) this.onServerClose?.(this);
      });
    });
  }

  close(): void {
    this.closing = true;
    this.streaming = false;
    const stream = this.stream;
    this.stream = undefined;
    stream?.close(constants.NGHTTP2_CANCEL);
  }
}

/** One update at a time, each once the previous one was accepted, on a session of its own. */
export class H2Publisher {
  private session: ClientHttp2Session | undefined;

  constructor(
    private readonly endpoints: Endpoints,
    private readonly dataBytes: number,
  ) {}

  publish(seq: number): Promise<void> {
    if (this.session === undefined || this.session.destroyed) {
      this.session = connect(`http://${this.endpoints.host}:${this.endpoints.port}`);
      this.session.on('error', () => {});
    }
    const data = payload(seq, clockNs(), this.dataBytes);
    const shape = this.endpoints.publishBody;
    const body =
      shape === 'raw'
        ? data
        : `topic=${encodeURIComponent(shape.mercureTopic)}&data=${encodeURIComponent(data)}`;
    const stream = this.session.request({
      ':method': 'POST',
      ':path': this.endpoints.publishPath,
      ...this.endpoints.publishHeaders,
    });
    return new Promise((resolve, reject) => {
      let status = 0;
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
      });
      stream.on('data', () => {});
      stream.on('error', reject);
      stream.once('close', () => {
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`publish answered ${status || 'nothing'}`));
      });
      stream.end(body);
    });
  }

  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }
}
