import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createEventStream, createSocketEventStream } from '../server/create.js';
import type { EventStream, EventStreamOptions } from '../server/event-stream.js';
import type { RequestHead } from './http1-front.js';

/**
 * A subscription request, whatever carried it: a node:http (or http2) request and response, or a
 * bare socket whose head the hub's own server read (`Hub.takeSubscription`). Subscribing sees only
 * this; errors are answered by the caller, on its transport (`error-answer.ts`).
 */
export interface SubscribeExchange {
  method: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
  /** The client went away before its stream opened. */
  gone(): boolean;
  /** Answers a HEAD request: the headers a GET would get, no body. */
  answerHead(headers: Record<string, string>): void;
  /** Opens the event stream (status 200 and `options.headers`). */
  open(options: EventStreamOptions): EventStream;
}

/** A subscription request that came through node:http (or the http2 compatibility API). */
export function nodeExchange(req: IncomingMessage, res: ServerResponse): SubscribeExchange {
  return {
    method: req.method ?? 'GET',
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    gone: () => req.socket.destroyed || res.destroyed,
    answerHead: (headers) => res.writeHead(200, headers).end(),
    open: (options) => createEventStream(req, res, options),
  };
}

/**
 * A `GET` subscription on a bare socket: its stream is written straight to the socket, with
 * `extraHeaders` (CORS) before the stream's own.
 */
export function socketExchange(
  head: RequestHead,
  socket: Socket,
  extraHeaders: Record<string, string>,
): SubscribeExchange {
  return {
    method: 'GET',
    headers: head.headers,
    remoteAddress: socket.remoteAddress,
    gone: () => socket.destroyed,
    answerHead: () => {},
    open: (options) =>
      createSocketEventStream(socket, head, { ...options, headers: { ...extraHeaders, ...options.headers } }),
  };
}
