import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { type Attempt, fetchFailed } from './attempt.js';
import { bodyStream, hasNoBody, toResponse } from './bodies.js';
import type { NodeModules } from './node-modules.js';

/** One HTTP/1.1 request on the TLS connection on which ALPN chose HTTP/1.1. */
export function requestHttp1(node: NodeModules, socket: TLSSocket, attempt: Attempt): Promise<Response> {
  const { url, method, body, signal } = attempt;
  const headers = { ...attempt.headers };
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    // No agent: with `createConnection` and no agent, node:https sends the request on that socket.
    const request = node.https.request(url, { method, headers, createConnection: () => socket });
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
