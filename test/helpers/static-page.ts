import { createServer } from 'node:http';
import { closeServer, listen } from './net.js';

export interface StaticPage {
  /** The page's origin, e.g. http://127.0.0.1:1234 (the page itself is at `${url}/`). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves one HTML page at `/` from its own node:http server on 127.0.0.1 (an origin of its own),
 * with extra response headers (a `Set-Cookie`, say); 404 for every other path, favicon included.
 */
export async function serveStaticPage(
  html: string,
  headers: Record<string, string> = {},
): Promise<StaticPage> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/') !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found.\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(html);
  });
  const url = await listen(server);
  return { url, close: () => closeServer(server) };
}
