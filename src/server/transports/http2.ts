import type { OutgoingHttpHeaders } from 'node:http';
import { constants, type Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';
import type { Frame } from '../frame.js';
import { closedTransport, onceFlushed } from './http1.js';
import type { CloseListener, Transport } from './transport.js';

/** Headers that are connection-specific, which HTTP/2 forbids (RFC 9113 §8.2.2). */
const CONNECTION_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

function withoutConnectionHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!CONNECTION_HEADERS.includes(name.toLowerCase())) result[name] = value;
  }
  return result;
}

function ignore(): void {}

/** An event stream over a raw node:http2 stream. Flow control is the stream's own: `write` returns false past its high-water mark. */
export function openHttp2Stream(
  stream: ServerHttp2Stream,
  headers: OutgoingHttpHeaders,
  onClose: CloseListener,
): Transport {
  if (stream.destroyed || stream.closed) {
    queueMicrotask(onClose);
    return closedTransport;
  }
  stream.respond({ ':status': 200, ...withoutConnectionHeaders(headers) });
  stream.on('close', onClose);
  // A client that resets its stream with an error code makes the stream emit 'error', which with no
  // listener would crash the server; 'close' follows and ends the event stream. (The compatibility
  // API listens for it itself.)
  stream.on('error', ignore);
  return new Http2Transport(stream);
}

/** An event stream over the node:http2 compatibility API (`Http2ServerResponse`). */
export function openHttp2Compat(
  res: Http2ServerResponse,
  headers: OutgoingHttpHeaders,
  onClose: CloseListener,
): Transport {
  const stream = res.stream;
  if (stream.destroyed || stream.closed) {
    queueMicrotask(onClose);
    return closedTransport;
  }
  // In the compatibility API writeHead sends the headers at once.
  res.writeHead(200, withoutConnectionHeaders(headers));
  stream.on('close', onClose);
  return new Http2Transport(stream);
}

class Http2Transport implements Transport {
  constructor(private readonly stream: ServerHttp2Stream) {}

  write(frame: Frame): boolean {
    return this.stream.write(frame.bytes);
  }

  get bufferedBytes(): number {
    return this.stream.writableLength;
  }

  end(): void {
    this.stream.end();
  }

  destroy(): void {
    this.stream.close(constants.NGHTTP2_CANCEL);
  }

  onceDrain(listener: () => void): void {
    onceFlushed(this.stream, listener);
  }
}
