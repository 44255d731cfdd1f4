import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { ServerError } from './errors.js';
import { EventStream, type EventStreamOptions } from './event-stream.js';
import { openHttp1, openSocket } from './transports/http1.js';
import { openHttp2Compat, openHttp2Stream } from './transports/http2.js';
import { openWebStream } from './transports/web.js';

/** The response headers every event stream starts with; `options.headers` adds to or overrides them. */
export function eventStreamHeaders(extra?: Record<string, string | string[]>): OutgoingHttpHeaders {
  return {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    // Tells nginx (and proxies that follow it) not to buffer the stream.
    'x-accel-buffering': 'no',
    ...lowerCaseKeys(extra),
  };
}

function lowerCaseKeys(headers: Record<string, string | string[]> | undefined): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  if (headers) for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The last event ID a reconnecting client sends: the `Last-Event-ID` header, else (for clients
 * that cannot set headers) the query parameter `param` of the request path.
 */
export function readLastEventId(
  headers: IncomingHttpHeaders,
  path: string | undefined,
  param: string | false = 'lastEventId',
): string {
  const header = headerValue(headers['last-event-id']);
  if (header !== undefined) return header;
  if (param === false || path === undefined) return '';
  const query = path.indexOf('?');
  if (query === -1) return '';
  return new URLSearchParams(path.slice(query + 1)).get(param) ?? '';
}

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

function isHttp2Stream(value: unknown): value is ServerHttp2Stream {
  return typeof (value as ServerHttp2Stream | undefined)?.respond === 'function';
}

function isHttp2Response(value: NodeResponse): value is Http2ServerResponse {
  return 'stream' in value && isHttp2Stream((value as Http2ServerResponse).stream);
}

/**
 * Opens an event stream on a node:http request: status 200 and the headers go out at once, then
 * events as you send them.
 *
 * Works with node:http and node:https (`IncomingMessage`/`ServerResponse`, so Express and Fastify's
 * `reply.raw` too), the node:http2 compatibility API, and a raw `ServerHttp2Stream` with its headers.
 */
export function createEventStream<State = undefined>(
  req: NodeRequest,
  res: NodeResponse,
  options?: EventStreamOptions<State>,
): EventStream<State>;
export function createEventStream<State = undefined>(
  stream: ServerHttp2Stream,
  requestHeaders: IncomingHttpHeaders,
  options?: EventStreamOptions<State>,
): EventStream<State>;
export function createEventStream<State = undefined>(
  first: NodeRequest | ServerHttp2Stream,
  second: NodeResponse | IncomingHttpHeaders,
  options: EventStreamOptions<State> = {},
): EventStream<State> {
  const headers = eventStreamHeaders(options.headers);
  const param = options.lastEventIdParam ?? 'lastEventId';
  if (isHttp2Stream(first)) {
    const requestHeaders = second as IncomingHttpHeaders;
    const path = headerValue(requestHeaders[':path']);
    const lastEventId = readLastEventId(requestHeaders, path, param);
    return new EventStream((onClose) => openHttp2Stream(first, headers, onClose), lastEventId, options);
  }
  const req = first;
  const res = second as NodeResponse;
  if (typeof (res as ServerResponse).writeHead !== 'function' || typeof req?.headers !== 'object') {
    throw new ServerError('not-a-request', 'createEventStream needs a node:http request and response.');
  }
  if (res.headersSent) {
    throw new ServerError(
      'headers-sent',
      'The response headers were already sent; an event stream must start the response.',
    );
  }
  const lastEventId = readLastEventId(req.headers, req.url, param);
  if (isHttp2Response(res)) {
    return new EventStream((onClose) => openHttp2Compat(res, headers, onClose), lastEventId, options);
  }
  return new EventStream(
    (onClose) => openHttp1(res as ServerResponse, headers, onClose),
    lastEventId,
    options,
  );
}

/** A request head read off a socket by your own code (see {@link createSocketEventStream}). */
export interface SocketRequestHead {
  httpVersion: '1.0' | '1.1';
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * Opens an event stream on a bare socket whose request head you read yourself, for servers that
 * take connections before node:http does (the hub's standalone server does, to keep idle
 * subscribers small). The status line and headers are written here; the connection ends with the stream.
 */
export function createSocketEventStream<State = undefined>(
  socket: Socket,
  head: SocketRequestHead,
  options: EventStreamOptions<State> = {},
): EventStream<State> {
  const lastEventId = readLastEventId(head.headers, head.url, options.lastEventIdParam ?? 'lastEventId');
  const headers = eventStreamHeaders(options.headers);
  return new EventStream(
    (onClose) => openSocket(socket, head.httpVersion, headers, onClose),
    lastEventId,
    options,
  );
}

/** Options of `createEventStreamResponse`: the stream's options plus the Web stream's queue size. */
export interface EventStreamResponseOptions<State = undefined> extends EventStreamOptions<State> {
  /** Bytes the response body may queue before `send` returns false. Default 64 KiB. */
  highWaterMark?: number;
  /**
   * Settles once the runtime has finished with the response, sent or abandoned: Deno.serve's
   * `info.completed`. The stream closes then. Default: the request's `signal` (except on Deno).
   */
  completed?: PromiseLike<unknown>;
}

/**
 * Deno's request signal also aborts once a response is sent (its legacy behaviour), and merely
 * reading `request.signal` turns that on, with a warning. There the runtime's `completed` says when a
 * response is over, and a client that leaves cancels the body anyway: the signal is never read.
 */
const signalIsLegacy = 'Deno' in globalThis;

/** An event stream over a Web `Response`: return `stream.response` from your handler. */
export interface ResponseEventStream<State = undefined> extends EventStream<State> {
  readonly response: Response;
}

/**
 * Opens an event stream for the Web `Request`/`Response` world (Hono, Bun, Deno, Next.js route
 * handlers): returns the stream, whose `response` your handler returns. The stream closes when the
 * client goes away (the body is cancelled, the request's signal aborts, or `completed` settles).
 */
export function createEventStreamResponse<State = undefined>(
  request: Request,
  options: EventStreamResponseOptions<State> = {},
): ResponseEventStream<State> {
  const requestHeaders: IncomingHttpHeaders = {};
  const lastEventIdHeader = request.headers.get('last-event-id');
  if (lastEventIdHeader !== null) requestHeaders['last-event-id'] = lastEventIdHeader;
  const url = new URL(request.url);
  const lastEventId = readLastEventId(
    requestHeaders,
    `${url.pathname}${url.search}`,
    options.lastEventIdParam,
  );
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  let body: ReadableStream<Uint8Array> | undefined;
  const stream = new EventStream(
    (onClose) => {
      const signal = options.completed !== undefined || signalIsLegacy ? undefined : request.signal;
      const opened = openWebStream(highWaterMark, signal, options.completed, onClose);
      body = opened.body;
      return opened.transport;
    },
    lastEventId,
    options,
  ) as EventStream<State> & { response: Response };
  const headers = new Headers();
  for (const [name, value] of Object.entries(eventStreamHeaders(options.headers))) {
    // `Connection` is hop-by-hop: Web runtimes set it (or forbid it) themselves.
    if (name === 'connection' || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [String(value)]) headers.append(name, item);
  }
  Object.defineProperty(stream, 'response', { value: new Response(body ?? null, { status: 200, headers }) });
  return stream;
}
