import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/dashboard';

/**
 * The built dashboard (`npm run build` puts it in dist/web/dashboard): beside the running code when
 * it runs from dist/, in dist/ when it runs from src/ (tsx).
 */
const CANDIDATES = [
  new URL('../web/dashboard/', import.meta.url),
  new URL('../../dist/web/dashboard/', import.meta.url),
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

interface Asset {
  content: Buffer;
  type: string;
  /** Vite names built assets by their hash: they never change under one name. */
  immutable: boolean;
}

/** URL path → asset, read once: only the files of the build can be served, so no path can escape it. */
let assets: Promise<Map<string, Asset> | undefined> | undefined;

async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

async function loadAssets(): Promise<Map<string, Asset> | undefined> {
  const root = CANDIDATES.map((url) => fileURLToPath(url)).find((dir) => existsSync(join(dir, 'index.html')));
  if (root === undefined) return undefined;
  const map = new Map<string, Asset>();
  for (const file of await walk(root)) {
    const name = relative(root, file).split(sep).join('/');
    map.set(`${DASHBOARD_PATH}/${name}`, {
      content: await readFile(file),
      type: TYPES[extname(file)] ?? 'application/octet-stream',
      immutable: name.startsWith('assets/'),
    });
  }
  return map;
}

/**
 * Serves the dashboard's page and assets (public: its data needs a token, the page does not);
 * returns false for other paths. Answers 503 when the dashboard has not been built.
 */
export async function serveDashboard(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  assets ??= loadAssets();
  const files = await assets;
  if (files === undefined) {
    assets = undefined;
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end('The dashboard is not built: run "npm run build" in the siar package, then reload.\n');
    return true;
  }
  const asset = files.get(
    path === DASHBOARD_PATH || path === `${DASHBOARD_PATH}/` ? `${DASHBOARD_PATH}/index.html` : path,
  );
  if (asset === undefined) return false;
  res.writeHead(200, {
    'content-type': asset.type,
    'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.content);
  return true;
}
