import type { IncomingMessage } from 'node:http';
import { type Attempt, fetchFailed } from './attempt.js';
import { bodyStream, hasNoBody, toResponse } from './bodies.js';
import type { Http1Connections } from './http1-connections.js';

/** One HTTP/1.1 request, on one of the connections of an origin that chose HTTP/1.1 by ALPN. */
export function requestHttp1(connections: Http1Connections, attempt: Attempt): Promise<Response> {
  const { url, method, body, signal } = attempt;
  const headers = { ...attempt.headers };
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    const request = connections.request(url, method, headers);
    let responded = false;
    const onAbort = () => {
      if (!responded) reject(signal?.reason);
      request.destroy(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    request.once('close', () => signal?.removeEventListener('abort', onAbort));
    request.on('error', (error) => {
      if (!responded) reject(fetchFailed(`the request to ${url.origin} failed`, error));
    });
    request.once('response', (response: IncomingMessage) => {
      responded = true;
      const status = response.statusCode ?? 0;
      const empty = hasNoBody(status, method);
      if (empty) response.resume();
      const responseBody = empty ? null : bodyStream(response, signal, () => request.destroy());
      resolve(toResponse(attempt, status, response.statusMessage ?? '', response.headers, responseBody));
    });
    request.end(body);
  });
}
