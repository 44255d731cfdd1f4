import type { IncomingHttpHeaders } from 'node:http';
import type { ClientHttp2Stream, IncomingHttpHeaders as Http2Headers } from 'node:http2';
import type { Readable } from 'node:stream';
import type { RequestBody } from '../types.js';
import { type Attempt, fetchFailed } from './attempt.js';

// Bodies between fetch and Node.js streams: a request body as bytes, a response body as a
// pull-based ReadableStream, and the standard Response around it.

/** Statuses whose response has no body (the Fetch standard's "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Whether the response to `method` with `status` has no body. */
export function hasNoBody(status: number, method: string): boolean {
  return NULL_BODY_STATUSES.has(status) || method === 'HEAD';
}

function ignore(): void {}

/** The bytes of a request body and the Content-Type it implies, as the Fetch standard encodes each kind. */
export async function bodyBytes(
  body: RequestBody | null | undefined,
): Promise<{ bytes: Uint8Array<ArrayBuffer>; type: string | null } | undefined> {
  if (body === undefined || body === null) return undefined;
  // The Fetch standard's own encoding of each body kind, with its Content-Type (a form's boundary…).
  const request = new Request('http://body.invalid/', { method: 'POST', body });
  return { bytes: new Uint8Array(await request.arrayBuffer()), type: request.headers.get('content-type') };
}

/**
 * A pull-based body over a Node.js stream: it reads only when the consumer asks, so a consumer
 * that stops reading stops the stream, and flow control (HTTP/2's window, TCP's) tells the server.
 * Once the body is done (ended, broken, aborted or cancelled) it lets go of the source: no listener
 * of its own is left on it, and nothing is enqueued after the controller has closed.
 */
export function bodyStream(
  source: Readable,
  signal: AbortSignal | undefined,
  cancel: (reason: unknown) => void,
): ReadableStream<Uint8Array> {
  let done = false;
  let detach = ignore;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const onData = (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) source.pause();
      };
      const finish = (error?: unknown) => {
        if (done) return;
        detach();
        if (error === undefined) controller.close();
        else controller.error(error);
      };
      const onEnd = () => finish();
      const onError = (error: Error) =>
        finish(fetchFailed(`the response body broke: ${error.message}`, error));
      const onClose = () => {
        const code = (source as Partial<ClientHttp2Stream>).rstCode;
        finish(
          fetchFailed(
            code === undefined
              ? 'the connection closed mid-response'
              : `the server reset the stream (code ${code})`,
          ),
        );
      };
      // As fetch does: once the signal aborts, reading the body throws its reason.
      const onAbort = () => finish(signal?.reason);
      detach = () => {
        done = true;
        source.off('data', onData);
        source.off('end', onEnd);
        source.off('error', onError);
        source.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
        // A late error (the session failing after the body was let go) must not go unhandled, and
        // what is still buffered drains to nowhere, so the source can end and close (and free its slot).
        source.on('error', ignore);
        source.resume();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      source.on('data', onData);
      source.once('end', onEnd);
      source.once('error', onError);
      source.once('close', onClose);
      source.pause();
    },
    pull() {
      source.resume();
    },
    cancel(reason) {
      if (done) return;
      detach();
      cancel(reason);
    },
  });
}

/** The standard `Response` to `attempt`: its headers (no pseudo-headers), its URL, whether redirected. */
export function toResponse(
  attempt: Attempt,
  status: number,
  statusText: string,
  raw: IncomingHttpHeaders | Http2Headers,
  body: ReadableStream<Uint8Array> | null,
): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, String(item));
  }
  const response = new Response(body, { status, statusText, headers });
  Object.defineProperty(response, 'url', { value: attempt.url.href });
  if (attempt.redirected) Object.defineProperty(response, 'redirected', { value: true });
  return response;
}
