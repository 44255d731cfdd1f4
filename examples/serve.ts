// What every example shares: a node:http server that starts on a port and stops with its streams, whether
// the file was run directly, and three small request helpers.
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface Running {
  /** The server's base URL, such as `http://localhost:3001` (no trailing slash). */
  url: string;
  server: Server;
  /** Stops listening and drops every connection, open event streams included. */
  close(): Promise<void>;
}

/** Starts `handler` on `port` (0: any free port) and `host`. */
export async function serve(port: number, host: string, handler: RequestListener): Promise<Running> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const name = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${name}:${address.port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // An event stream never ends by itself: without this, close() would wait for every client.
        server.closeAllConnections();
      }),
  };
}

/** True when this module is the program Node.js runs (`node --import tsx examples/<name>/server.ts`). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(entry).href;
}

/** A port from the environment (`PORT=0` picks a free one), else `fallback`. */
export function envPort(name: string, fallback: number): number {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : Number(value);
}

/** The path of a request, without its query string. */
export function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://localhost').pathname;
}

/** Answers with an HTML page. */
export function sendHtml(res: ServerResponse, html: string | Buffer): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
}

/** Reads a request's body as UTF-8 text; rejects past `maxBytes` (default 64 KiB). */
export async function readBody(req: IncomingMessage, maxBytes = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`The request body is over ${maxBytes} bytes.`);
    chunks.push(chunk);
  }
  // Decoded once whole: a character split between two chunks stays whole.
  return Buffer.concat(chunks).toString('utf8');
}
