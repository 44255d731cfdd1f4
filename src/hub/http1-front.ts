import type { Server as HttpServer, IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

/** The head of an HTTP/1.x request, read straight from the socket. */
export interface RequestHead {
  method: string;
  /** The request target as sent: path and query. */
  url: string;
  /** `1.0` or `1.1`. */
  httpVersion: '1.0' | '1.1';
  /** Header names in lower case; repeated headers joined as node:http joins them. */
  headers: IncomingHttpHeaders;
}

/** The first value of a header as node:http gives it: a string, or an array for a repeated one. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Takes the connection when it is one the caller serves itself (returns true: the socket is then
 * the caller's), or leaves it to node:http (returns false).
 */
export type FastPath = (head: RequestHead, socket: Socket) => boolean;

export interface Http1FrontOptions {
  /** Largest request head read before answering 431. Default 16 KiB, as node:http. */
  maxHeaderBytes?: number;
  /** Time a client has to send its request head. Default 10 s (slow clients hold no socket longer). */
  headersTimeoutMs?: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Shared by every socket: a reset client must never become an unhandled 'error'. */
function ignoreError(): void {}

/**
 * Shared by every socket taken by the fast path: the client's FIN ends the connection at once. The
 * server allows half-open connections (node:http's do), so without it a subscriber that left would
 * stay counted, its socket in CLOSE-WAIT, until a write failed.
 */
function destroyAtEnd(this: Socket): void {
  this.destroy();
}
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const TARGET_FORBIDDEN = /[\x00-\x20\x7f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const VALUE_FORBIDDEN = /[\x00\r\n]/;

function refuse(socket: Socket, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  socket.destroySoon();
}

/** Parses a request head (without its final blank line); undefined when it is not valid HTTP/1.x. */
export function parseRequestHead(text: string): RequestHead | undefined {
  const lines = text.split('\r\n');
  const requestLine = (lines[0] ?? '').split(' ');
  if (requestLine.length !== 3) return undefined;
  const [method, url, version] = requestLine as [string, string, string];
  if (!TOKEN.test(method) || url === '' || TARGET_FORBIDDEN.test(url)) return undefined;
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return undefined;
  const headers: IncomingHttpHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    // No obsolete line folding, no header without a name: node:http refuses both too.
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    if (VALUE_FORBIDDEN.test(value)) return undefined;
    const key = name.toLowerCase();
    const previous = headers[key];
    if (previous === undefined) headers[key] = value;
    else if (key === 'cookie') headers[key] = `${previous}; ${value}`;
    else headers[key] = `${previous}, ${value}`;
  }
  return { method, url, httpVersion: version === 'HTTP/1.1' ? '1.1' : '1.0', headers };
}

/**
 * Puts a fast path in front of a (cleartext) node:http server: each connection's first request head
 * is read here, `fastPath` takes the connections it serves (the hub's subscriptions: a long stream
 * needs none of node:http's per-request machinery, which is most of the memory an idle connection
 * costs), and every other connection goes on to node:http, head included, as if nothing happened.
 */
export function installFastPath(
  server: HttpServer,
  fastPath: FastPath,
  options: Http1FrontOptions = {},
): void {
  const maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  // node:http's own connection handling, called for the connections handed on.
  const httpListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    let buffered: Buffer | undefined;
    const timer = setTimeout(() => socket.destroy(), headersTimeoutMs);
    timer.unref();
    // Stays for the socket's life, whoever takes it; shared, so it keeps nothing of this closure alive.
    socket.on('error', ignoreError);
    const handOff = (bytes: Buffer) => {
      socket.off('data', onData);
      socket.pause();
      socket.unshift(bytes);
      for (const listener of httpListeners) listener.call(server, socket);
      // node:http reads the unshifted head first (on the next tick), before any new bytes; the
      // socket was paused, and a paused stream stays paused when a listener is added.
      socket.resume();
    };
    const onData = (chunk: Buffer) => {
      const bytes = buffered === undefined ? chunk : Buffer.concat([buffered, chunk]);
      const end = bytes.indexOf(HEAD_END);
      if (end === -1) {
        if (bytes.length > maxHeaderBytes) {
          clearTimeout(timer);
          socket.off('data', onData);
          refuse(socket, '431 Request Header Fields Too Large');
          return;
        }
        buffered = bytes;
        return;
      }
      clearTimeout(timer);
      const head =
        end <= maxHeaderBytes ? parseRequestHead(bytes.subarray(0, end).toString('latin1')) : undefined;
      // Anything unusual (a body, an upgrade, a second request already sent) goes to node:http,
      // which knows every corner of HTTP/1.1.
      if (head === undefined || end + HEAD_END.length !== bytes.length) return handOff(bytes);
      socket.off('data', onData);
      if (!fastPath(head, socket)) return handOff(bytes);
      // Still read (and what comes is dropped: the connection serves one stream), so that the FIN
      // of a client that leaves, even before its stream opened, is seen when it comes.
      socket.on('end', destroyAtEnd);
      socket.resume();
    };
    socket.on('data', onData);
  });
}
