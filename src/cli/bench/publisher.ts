/**
 * A keep-alive HTTP/1.1 publisher on a raw socket: one request at a time, the next one once the
 * server has answered (2xx). A connection idle for a second is replaced before it is used (Node
 * servers close idle connections after 5 s, and one closing just as a request goes out would lose
 * it); should a connection close before any byte of the answer came, the request is sent again
 * once, on a new one.
 */
import { connect, type Socket } from 'node:net';
import type { Endpoints } from './endpoints.js';
import { ChunkedDecoder, parseHead, type ResponseHead } from './http-response.js';
import { clockNs, payload } from './payload.js';

/** A connection unused for longer is replaced before the next request. */
const IDLE_MS = 1000;

interface Pending {
  request: Buffer;
  resolve: () => void;
  reject: (error: Error) => void;
  retried: boolean;
}

export class Publisher {
  private socket: Socket | undefined;
  private received: Buffer | undefined;
  private head: ResponseHead | undefined;
  private decoder: ChunkedDecoder | undefined;
  private bodyBytes = 0;
  private body: Buffer[] = [];
  private pending: Pending | undefined;
  private lastAnswer = 0;
  private readonly requestHead: string;

  constructor(
    private readonly endpoints: Endpoints,
    private readonly dataBytes: number,
  ) {
    let headers = '';
    for (const [name, value] of Object.entries(endpoints.publishHeaders)) headers += `${name}: ${value}\r\n`;
    this.requestHead = `POST ${endpoints.publishPath} HTTP/1.1\r\nHost: ${endpoints.host}:${endpoints.port}\r\n${headers}`;
  }

  /** Publishes update `seq`, stamped with the time now; resolves once the server accepted it. */
  publish(seq: number): Promise<void> {
    if (this.pending !== undefined) return Promise.reject(new Error('one publish at a time'));
    const data = payload(seq, clockNs(), this.dataBytes);
    const shape = this.endpoints.publishBody;
    const body =
      shape === 'raw'
        ? data
        : `topic=${encodeURIComponent(shape.mercureTopic)}&data=${data.replaceAll(' ', '+')}`;
    const request = Buffer.from(
      `${this.requestHead}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    return new Promise((resolve, reject) => {
      this.pending = { request, resolve, reject, retried: false };
      this.send();
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private send(): void {
    const pending = this.pending as Pending;
    this.received = undefined;
    this.head = undefined;
    this.decoder = undefined;
    this.bodyBytes = 0;
    this.body = [];
    if (this.socket !== undefined && Date.now() - this.lastAnswer > IDLE_MS) this.close();
    if (this.socket === undefined || this.socket.destroyed) this.socket = this.open();
    this.socket.write(pending.request);
  }

  private open(): Socket {
    const socket = connect({ host: this.endpoints.host, port: this.endpoints.port, noDelay: true });
    socket.on('data', (buffer: Buffer) => this.onData(buffer));
    socket.on('error', () => {});
    socket.once('close', () => {
      // A connection replaced since (idle, or closed by `close`) has no request of ours.
      if (this.socket !== socket) return;
      this.socket = undefined;
      const pending = this.pending;
      if (pending === undefined) return;
      if (this.received === undefined && this.head === undefined && !pending.retried) {
        pending.retried = true;
        this.send();
        return;
      }
      if (this.head?.framing === 'close') return this.finish();
      this.pending = undefined;
      const got =
        this.head === undefined
          ? `${this.received?.length ?? 0} bytes of a head`
          : `HTTP ${this.head.status}`;
      pending.reject(
        new Error(
          `the server closed the connection before answering the publish (${got}${pending.retried ? ', sent twice' : ''})`,
        ),
      );
    });
    return socket;
  }

  private onData(buffer: Buffer): void {
    if (this.pending === undefined) return;
    let start = 0;
    if (this.head === undefined) {
      const bytes = this.received === undefined ? buffer : Buffer.concat([this.received, buffer]);
      const head = parseHead(bytes);
      if (head === undefined) {
        this.received = bytes;
        return;
      }
      this.head = head;
      this.received = bytes;
      if (head.framing === 'chunked') {
        this.decoder = new ChunkedDecoder((chunk, from, to) => this.body.push(chunk.subarray(from, to)));
      }
      buffer = bytes;
      start = head.size;
    }
    const head = this.head;
    if (head.framing === 'chunked') {
      const decoder = this.decoder as ChunkedDecoder;
      decoder.feed(buffer, start);
      if (decoder.done) this.finish();
    } else if (head.framing === 'length') {
      this.bodyBytes += buffer.length - start;
      this.body.push(buffer.subarray(start));
      if (this.bodyBytes >= head.contentLength) this.finish();
    } else {
      this.body.push(buffer.subarray(start));
    }
  }

  private finish(): void {
    const pending = this.pending;
    const head = this.head;
    if (pending === undefined || head === undefined) return;
    this.pending = undefined;
    this.lastAnswer = Date.now();
    if (head.status >= 200 && head.status < 300) pending.resolve();
    else {
      const text = Buffer.concat(this.body).toString('utf8').trim().slice(0, 200);
      pending.reject(new Error(`publish answered HTTP ${head.status}: ${text}`));
    }
  }
}
