import { type OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Frame } from '../frame.js';
import type { CloseListener, Transport } from './transport.js';

/**
 * An event stream over a node:http 1.x `ServerResponse`.
 *
 * Headers go out through the response, so Node frames the body (chunked on HTTP/1.1). Frames are
 * then written to the socket directly, already framed as chunks: `res.write` corks the socket
 * until the next tick, so in a loop over thousands of subscribers the first one would only get its
 * bytes once the whole loop ended; a socket write goes out at once, and costs less. When a
 * middleware has replaced `res.write` (compression, say), frames go through it instead.
 */
export function openHttp1(
  res: ServerResponse,
  headers: OutgoingHttpHeaders,
  onClose: CloseListener,
): Transport {
  res.writeHead(200, headers);
  res.flushHeaders();
  const socket = res.socket;
  if (socket === null || res.destroyed) {
    queueMicrotask(onClose);
    return closedTransport;
  }
  // 'close' fires once: `on` spares the wrapper `once` would keep for the stream's whole life.
  res.on('close', onClose);
  const patched = res.write !== ServerResponse.prototype.write;
  // `chunkedEncoding` is false for HTTP/1.0 clients, whose body simply ends when the socket closes.
  const chunked = (res as ServerResponse & { chunkedEncoding?: boolean }).chunkedEncoding === true;
  return patched ? new MiddlewareTransport(res) : new SocketTransport(socket, chunked, res);
}

/** Shared by every socket stream, so that it keeps nothing of a closure alive. */
function destroyAtEnd(this: Socket): void {
  this.destroy();
}

const STATUS_LINE = { '1.0': 'HTTP/1.0 200 OK\r\n', '1.1': 'HTTP/1.1 200 OK\r\n' } as const;
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/**
 * An event stream over a bare socket whose request head was read by the caller (no node:http
 * objects at all): the status line and headers are written here. HTTP/1.1 gets a chunked body;
 * HTTP/1.0 a body that ends with the connection. The connection is not reused afterwards.
 */
export function openSocket(
  socket: Socket,
  httpVersion: '1.0' | '1.1',
  headers: OutgoingHttpHeaders,
  onClose: CloseListener,
): Transport {
  if (socket.destroyed) {
    queueMicrotask(onClose);
    return closedTransport;
  }
  const chunked = httpVersion === '1.1';
  let head = STATUS_LINE[httpVersion];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'connection' || name === 'transfer-encoding') continue;
    for (const item of Array.isArray(value) ? value : [value]) head += `${name}: ${item}\r\n`;
  }
  head += chunked
    ? 'transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n'
    : 'connection: close\r\n\r\n';
  socket.on('close', onClose);
  // The stream owns the connection: a client that leaves sends its FIN, seen only while the socket
  // is read. A server made with allowHalfOpen (node:http's are) would otherwise keep the socket open
  // (CLOSE-WAIT, its descriptor held) until a heartbeat's write failed, 15 s or more later.
  socket.on('end', destroyAtEnd);
  socket.resume();
  socket.write(head, 'latin1');
  return new SocketTransport(socket, chunked, undefined);
}

class SocketTransport implements Transport {
  constructor(
    private readonly socket: Socket,
    private readonly chunked: boolean,
    /** The response that ends the body, or none when the stream owns the whole connection. */
    private readonly res: ServerResponse | undefined,
  ) {}

  write(frame: Frame): boolean {
    return this.socket.write(this.chunked ? frame.chunked : frame.bytes);
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  end(): void {
    if (this.res !== undefined) {
      this.res.end();
      return;
    }
    if (this.chunked) this.socket.write(LAST_CHUNK);
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  onceDrain(listener: () => void): void {
    onceDrainOrClose(this.socket, listener);
  }
}

class MiddlewareTransport implements Transport {
  constructor(private readonly res: ServerResponse & { flush?: () => void }) {}

  write(frame: Frame): boolean {
    const ok = this.res.write(frame.bytes);
    // Compression middlewares buffer until flushed; an event that waits in a buffer is not live.
    this.res.flush?.();
    return ok;
  }

  get bufferedBytes(): number {
    return this.res.writableLength + (this.res.socket?.writableLength ?? 0);
  }

  end(): void {
    this.res.end();
  }

  destroy(): void {
    this.res.destroy();
  }

  onceDrain(listener: () => void): void {
    onceDrainOrClose(this.res, listener);
  }
}

/** Calls `listener` once, on 'drain' or 'close', whichever comes first. */
export function onceDrainOrClose(
  emitter: { once(event: string, fn: () => void): unknown; off(event: string, fn: () => void): unknown },
  listener: () => void,
): void {
  const done = () => {
    emitter.off('drain', done);
    emitter.off('close', done);
    listener();
  };
  emitter.once('drain', done);
  emitter.once('close', done);
}

/** The transport of a response whose client left before the stream opened. */
export const closedTransport: Transport = {
  write: () => false,
  bufferedBytes: 0,
  end: () => {},
  destroy: () => {},
  onceDrain: (listener) => queueMicrotask(listener),
};
