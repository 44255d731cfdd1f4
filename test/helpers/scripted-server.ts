import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listen, sleep, waitFor } from './net.js';

/** One request the scripted server received. */
export interface RecordedRequest {
  index: number;
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `Last-Event-ID`, decoded from its UTF-8 bytes; `undefined` when absent. */
  lastEventId: string | undefined;
  /** When it arrived (`performance.now()`). */
  at: number;
  /** Resolves when the connection of its response closes, whether the server or the client ended it. */
  closed: Promise<void>;
  /** Whether the connection closed before the server ended the response (the client went away). */
  abortedByClient(): boolean;
}

/** Answers one request; `request.index` counts from 0 across the server's life. */
export type Script = (
  request: RecordedRequest,
  res: ServerResponse,
  req: IncomingMessage,
) => void | Promise<void>;

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  origin: string;
  requests: RecordedRequest[];
  /** Waits until `count` requests have arrived; returns the last of them. */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 (port 0) that answers each request with a script: raw bytes written
 * exactly as given, so tests control every status, header and chunk boundary a client sees.
 */
export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const header = req.headers['last-event-id'];
    let closedEarly = false;
    const closed = new Promise<void>((resolve) =>
      res.once('close', () => {
        closedEarly = !res.writableFinished;
        resolve();
      }),
    );
    const request: RecordedRequest = {
      index: requests.length,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      // Node.js reads header bytes as Latin-1; the client sent UTF-8.
      lastEventId: typeof header === 'string' ? Buffer.from(header, 'latin1').toString('utf8') : undefined,
      at: performance.now(),
      closed,
      abortedByClient: () => closedEarly,
    };
    requests.push(request);
    try {
      await script(request, res, req);
    } catch (error) {
      res.destroy(error as Error);
    }
  });
  const origin = await listen(server);
  return {
    origin,
    requests,
    async waitForRequests(count, timeoutMs = 5000) {
      await waitFor(() => requests.length >= count, timeoutMs, `${count} requests`);
      return requests[count - 1] as RecordedRequest;
    },
    close: () => closeServer(server),
  };
}

/** Starts a `200 text/event-stream` response (or with `headers` replacing those) and sends the head now. */
export function eventStream(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  res.flushHeaders();
}

/**
 * Writes each chunk on its own, with a pause between, so the client reads them as separate chunks
 * (a split between chunks is what these tests are about).
 */
export async function writeChunks(
  res: ServerResponse,
  chunks: Array<string | Uint8Array>,
  gapMs = 15,
): Promise<void> {
  for (const chunk of chunks) {
    if (res.destroyed) return;
    res.write(chunk);
    await sleep(gapMs);
  }
}

/** Splits `bytes` at the given offsets. */
export function splitAt(bytes: Uint8Array, ...offsets: number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const offset of offsets) {
    parts.push(bytes.subarray(from, offset));
    from = offset;
  }
  parts.push(bytes.subarray(from));
  return parts;
}
