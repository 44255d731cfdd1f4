import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http';
import { createParser, type ParsedEvent } from '../../src/protocol/index.js';
import { waitFor } from './net.js';

/** A raw SSE connection for tests: node:http, the protocol's parser, everything recorded. */
export interface SseConnection {
  status: number;
  headers: IncomingHttpHeaders;
  events: ParsedEvent[];
  comments: string[];
  retries: number[];
  /** Every byte received, as text. */
  text: string;
  /** Resolves when the response ends or the connection closes. */
  ended: Promise<void>;
  isEnded(): boolean;
  /** Waits until at least `count` events have arrived; returns them all. */
  waitForEvents(count: number, timeoutMs?: number): Promise<ParsedEvent[]>;
  close(): void;
  request: ClientRequest;
}

export interface OpenOptions {
  headers?: Record<string, string>;
  method?: string;
  body?: string;
}

/** Opens `url` and resolves once the response head has arrived. */
export function openSse(url: string, options: OpenOptions = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      agent: false,
      headers: { accept: 'text/event-stream', ...options.headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let ended = false;
      const connection: SseConnection = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        retries: [],
        text: '',
        ended: new Promise<void>((done) => {
          res.on('close', () => {
            ended = true;
            done();
          });
        }),
        isEnded: () => ended,
        async waitForEvents(count, timeoutMs = 5000) {
          await waitFor(
            () => connection.events.length >= count,
            timeoutMs,
            `${count} events (have ${connection.events.length})`,
          );
          return connection.events;
        },
        close() {
          req.destroy();
        },
        request: req,
      };
      const parser = createParser({
        onEvent: (event) => connection.events.push(event),
        onComment: (text) => connection.comments.push(text),
        onRetry: (ms) => connection.retries.push(ms),
      });
      res.on('data', (chunk: Buffer) => {
        connection.text += chunk.toString('utf8');
        parser.feed(chunk);
      });
      res.on('error', () => {});
      resolve(connection);
    });
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}
