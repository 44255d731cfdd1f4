import type { ClientHttp2Stream, IncomingHttpHeaders, IncomingHttpStatusHeader } from 'node:http2';
import { type Attempt, fetchFailed } from './attempt.js';
import { bodyStream, hasNoBody, toResponse } from './bodies.js';
import type { NodeModules } from './node-modules.js';
import type { Http2SessionPool, SessionEntry } from './session-pool.js';

/** RST_STREAM codes (RFC 9113 §7). */
const NO_ERROR = 0;
const CANCEL = 8;

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2), and Host, which is `:authority` there. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
  'host',
]);

/** One request as a stream on a pooled session; the stream holds the session busy until it closes. */
export function requestH2(
  node: NodeModules,
  pool: Http2SessionPool,
  entry: SessionEntry,
  attempt: Attempt,
): Promise<Response> {
  const { url, method, body, signal } = attempt;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attempt.headers)) {
    if (!CONNECTION_HEADERS.has(name) || (name === 'te' && value === 'trailers')) headers[name] = value;
  }
  if (body !== undefined) headers['content-length'] = String(body.length);
  let stream: ClientHttp2Stream;
  try {
    stream = entry.session.request(
      { ':method': method, ':path': `${url.pathname}${url.search}`, ...headers },
      { endStream: body === undefined },
    );
  } catch (error) {
    // The session closed or got GOAWAY between the pool's check and now.
    return Promise.reject(fetchFailed(`cannot start a stream to ${url.origin}`, error));
  }
  pool.acquire(entry);
  return new Promise<Response>((resolve, reject) => {
    let responded = false;
    const onAbort = () => {
      if (!responded) reject(signal?.reason);
      stream.close(CANCEL);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => {
      signal?.removeEventListener('abort', onAbort);
      pool.release(entry);
      if (!responded)
        reject(fetchFailed(`the stream to ${url.origin} closed before a response (code ${stream.rstCode})`));
    });
    // Every error of the stream is handled: before the response it rejects, after it the body has it.
    stream.on('error', (error) => {
      if (!responded) reject(fetchFailed(`the stream to ${url.origin} failed`, error));
    });
    stream.once('response', (raw: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
      responded = true;
      const status = Number(raw[':status']);
      const empty = hasNoBody(status, method);
      if (empty) stream.close(NO_ERROR);
      const responseBody = empty ? null : bodyStream(stream, signal, () => stream.close(CANCEL));
      try {
        resolve(toResponse(attempt, status, node.http.STATUS_CODES[status] ?? '', raw, responseBody));
      } catch (error) {
        stream.close(CANCEL);
        reject(fetchFailed(`unusable response status ${status}`, error));
      }
    });
    if (body !== undefined) stream.end(body);
  });
}
