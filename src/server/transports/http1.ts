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
    onceFlushed(this.socket, listener);
  }
}

class MiddlewareTransport implements Transport {
  /** The middleware's write returned false: its own 'drain' tells when to go on (Node's flags may not). */
  private full = false;

  constructor(private readonly res: ServerResponse & { flush?: () => void }) {}

  write(frame: Frame): boolean {
    const ok = this.res.write(frame.bytes);
    // Compression middlewares buffer until flushed; an event that waits in a buffer is not live.
    this.res.flush?.();
    this.full = !ok;
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
    // A middleware's write may drop a callback, so a write of nothing goes to the socket under it.
    const socket = this.res.socket;
    if (socket === null) queueMicrotask(listener);
    else if (this.full) onceFlushed(this.res, listener, true);
    else onceFlushed(socket, listener);
  }
}

const NOTHING = Buffer.alloc(0);

/** What {@link onceFlushed} needs of a socket, an HTTP/2 stream or a response. */
export interface FlushableWritable {
  readonly writableNeedDrain: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean;
  once(event: 'drain' | 'close', fn: () => void): unknown;
  off(event: 'drain' | 'close', fn: () => void): unknown;
}

/**
 * Calls `listener` once, when `writable` has handed on all it buffered, or closed. 'drain' comes only
 * after a write that returned false (`full`); an event stream asks its writer to wait sooner when its own
 * limit is below the writable's high-water mark, so then a write of nothing tells instead: its
 * callback runs once every earlier write is done, and it puts no byte on the wire.
 */
export function onceFlushed(
  writable: FlushableWritable,
  listener: () => void,
  full = writable.writableNeedDrain,
): void {
  if (writable.destroyed || writable.writableEnded) {
    queueMicrotask(listener);
    return;
  }
  let waiting = true;
  const done = () => {
    if (!waiting) return;
    waiting = false;
    writable.off('drain', done);
    writable.off('close', done);
    listener();
  };
  writable.once('close', done);
  if (full) writable.once('drain', done);
  else writable.write(NOTHING, done);
}

/** The transport of a response whose client left before the stream opened. */
export const closedTransport: Transport = {
  write: () => false,
  bufferedBytes: 0,
  end: () => {},
  destroy: () => {},
  onceDrain: (listener) => queueMicrotask(listener),
};
