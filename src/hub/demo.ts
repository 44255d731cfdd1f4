import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The demo page's files, next to the package's `dist/` and `src/` (so it works from either). */
const WEB_ROOT = new URL('../../web/demo/', import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/demo/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/demo/base.css': { file: '../shared/base.css', type: 'text/css; charset=utf-8' },
  '/demo/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const cache = new Map<string, Buffer>();

async function load(file: string): Promise<Buffer> {
  let content = cache.get(file);
  if (content === undefined) {
    content = await readFile(new URL(file, WEB_ROOT));
    cache.set(file, content);
  }
  return content;
}

/**
 * Serves the demo page and its configuration (whether the hub lets anonymous subscribers in and
 * reads draft-07 selectors); returns false for paths that are not the demo's. Tokens are handed to
 * the page only when the operator passed them (the development setup).
 */
export async function serveDemo(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  demo: true | { publisherToken?: string; subscriberToken?: string },
  hub: { anonymous: boolean; draft07: boolean },
): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/demo/config.json') {
    const tokens = demo === true ? {} : demo;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    const { anonymous, draft07 } = hub;
    res.end(JSON.stringify({ hub: '/.well-known/mercure', anonymous, draft07, ...tokens }));
    return true;
  }
  const entry = FILES[path];
  if (entry === undefined) return false;
  const content = await load(entry.file);
  res.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : content);
  return true;
}
