import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from '../server/logger.js';
import { withResourceMetadata } from './bearer-challenge.js';
import { HubError } from './errors.js';

/**
 * A refused request's answer, on either transport: node:http (and its http2 compatibility API), or a
 * bare socket whose head the hub read itself. Its status, headers and text come from the `HubError`
 * alone, in one place; each transport only writes them.
 */
interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Every Bearer challenge names where the hub's metadata is (RFC 9728 §5.1), whatever the token's generation. */
function errorAnswer(error: HubError, resourceMetadata: string): ErrorAnswer {
  return {
    status: error.status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      ...withResourceMetadata(error.headers, resourceMetadata),
    },
    body: `${error.message}\n`,
  };
}

/** The error a request is answered with; unexpected ones are logged and become a 503. */
export function asHubError(error: unknown, logger: Logger): HubError {
  if (!(error instanceof HubError)) {
    logger.error({ error: String(error) }, 'Unexpected error in the hub.');
    return new HubError('store-failed', 'The hub failed to handle the request.');
  }
  if (error.status >= 500 && !error.logged) logger.warn({ code: error.code }, error.message);
  return error;
}

/**
 * Answers `error` on a node:http (or http2) response; a response already begun is cut off.
 * `resourceMetadata`: the URL of the hub's metadata, as the request reached the hub.
 */
export function answerError(
  req: IncomingMessage,
  res: ServerResponse,
  error: HubError,
  resourceMetadata: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = errorAnswer(error, resourceMetadata);
  // A body left unread would have to be drained before the connection could serve another request:
  // HTTP/1.1 closes the connection. HTTP/2 forbids that header; there, once the answer is out, a
  // RST_STREAM with NO_ERROR tells a client still sending to stop (RFC 9113 §8.1) — else a body
  // past the stream's window would hold the stream open for good. `destroy` then lets Node forget
  // the stream, which would wait for the body's end, which never comes. (No-ops on a finished stream.)
  if (req.httpVersionMajor >= 2) {
    const stream = (res as unknown as Http2ServerResponse).stream;
    stream.once('finish', () => {
      stream.close();
      stream.destroy();
    });
  } else if (!req.complete) headers.connection = 'close';
  res.writeHead(status, headers).end(body);
}

/**
 * Answers `error` on a bare socket (HTTP/1.x, the request head read by the hub's server) and ends
 * the connection; `extraHeaders` (CORS) go first.
 */
export function answerErrorOnSocket(
  socket: Socket,
  httpVersion: string,
  error: HubError,
  extraHeaders: Record<string, string>,
  resourceMetadata: string,
): void {
  if (socket.destroyed) return;
  const { status, headers, body } = errorAnswer(error, resourceMetadata);
  const all: Record<string, string> = {
    ...extraHeaders,
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  let head = `HTTP/${httpVersion} ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (const [name, value] of Object.entries(all)) head += `${name}: ${value}\r\n`;
  socket.end(`${head}\r\n${body}`);
  // Its descriptor is released once the answer is out, not when the client gets round to closing:
  // a hub at capacity refuses many, and each one held would be one a publisher cannot have.
  socket.destroySoon();
}
