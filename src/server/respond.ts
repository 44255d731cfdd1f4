import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

/** A node:http or node:http2 (compatibility API) response. */
type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * Answers 204 No Content: a browser's `EventSource` stops for good and does not reconnect.
 * Use it for a client that must not come back (the stream it followed has ended for good).
 */
export function endForGood(res: NodeResponse): void {
  res.writeHead(204, { 'cache-control': 'no-cache' }).end();
}

/**
 * Refuses a request before any stream starts: `status` (401, 403, 429, 503…) and a plain-text
 * message the user can act on. An `EventSource` fails for good on any status other than 200.
 */
export function refuse(
  res: NodeResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-cache',
      ...headers,
    })
    .end(`${message}\n`);
}

/** The Web `Response` form of {@link endForGood}. */
export function endForGoodResponse(): Response {
  return new Response(null, { status: 204, headers: { 'cache-control': 'no-cache' } });
}

/** The Web `Response` form of {@link refuse}. */
export function refusalResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', ...headers },
  });
}
