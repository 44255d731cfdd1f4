// Cookie auth: the page on one origin, the SSE backend on another, as in the seed (a Go backend and a
// React frontend, each on its own host), with the backend checking an `auth` cookie.
//
//   npm run example:cookie-auth      then open http://localhost:3002 (the password is "siar")
//
// The flow:
//   1. The page (http://localhost:3002) posts the password to the backend (http://localhost:3003/login)
//      with `fetch(url, { method: 'POST', credentials: 'include', ... })`. The backend answers
//      `Set-Cookie: auth=<token>; HttpOnly; SameSite=Strict`: a session the page's script cannot read.
//   2. The page opens `new EventSource('http://localhost:3003/events', { withCredentials: true })`.
//      The browser sends the cookie; right cookie: the stream; wrong cookie or none: 401, and the
//      EventSource closes for good. Without `withCredentials` the browser sends no cookie: 401.
//
// Why the browser sends the cookie at all: a cookie belongs to a host, not to a port, so the cookie
// localhost:3003 set goes back to localhost:3003 even from a page on localhost:3002; the two are
// different origins (CORS applies) but the same site (SameSite allows it). Two different hosts of
// one site (app.example.com and api.example.com) work the same way. The backend's CORS allows the
// page's origin only, with credentials, and never `*`: browsers refuse credentials with `*`.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cors, createEventStream, refuse } from '../../src/server/index.js';
import { envPort, isMain, pathOf, readBody, sendHtml, serve } from '../serve.js';

export interface CookieAuthOptions {
  /** The page's port. Default 3002. */
  pagePort?: number;
  /** The SSE backend's port. Default 3003. */
  apiPort?: number;
  /** The host of both; they must share it for the cookie to go from one to the other. Default localhost. */
  host?: string;
  /** Time between two numbers on the stream, in ms. Default 2000. */
  intervalMs?: number;
  /** The password /login accepts. Default "siar". */
  password?: string;
  log?: (line: string) => void;
}

export async function startCookieAuth(options: CookieAuthOptions = {}) {
  const { pagePort = 3002, apiPort = 3003, host = 'localhost', intervalMs = 2000 } = options;
  const { password = 'siar', log = console.log } = options;
  const sessions = new Set<string>();

  const html = await readFile(new URL('./index.html', import.meta.url), 'utf8');
  let apiUrl = '';
  const page = await serve(pagePort, host, (req, res) => {
    if (pathOf(req) !== '/') return refuse(res, 404, 'Not found: the page is at /.');
    sendHtml(res, html.replace('__API_URL__', apiUrl));
  });

  const allowPage = cors({ origins: [page.url], credentials: true });

  async function login(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('password') !== password) return refuse(res, 401, 'Wrong password.');
    const token = randomUUID();
    sessions.add(token);
    res.writeHead(204, { 'set-cookie': `auth=${token}; HttpOnly; SameSite=Strict; Path=/` }).end();
  }

  function events(req: IncomingMessage, res: ServerResponse) {
    const token = readCookie(req.headers.cookie, 'auth');
    const from = `GET /events from ${req.headers.origin ?? 'no origin'}`;
    if (token === undefined) {
      log(`${from}: no auth cookie -> 401`);
      return refuse(res, 401, 'No auth cookie: log in first.');
    }
    if (!sessions.has(token)) {
      log(`${from}: wrong auth cookie -> 401`);
      return refuse(res, 401, 'This auth cookie is not valid: log in again.');
    }
    log(`${from}: auth cookie ok -> stream`);
    const stream = createEventStream(req, res);
    let n = 0;
    const timer = setInterval(() => stream.send({ data: String(++n) }), intervalMs);
    stream.on('close', () => clearInterval(timer));
  }

  const api = await serve(apiPort, host, (req, res) => {
    // Sets the CORS headers; answers a preflight, or refuses another origin with 403, by itself.
    if (!allowPage(req, res)) return;
    const path = pathOf(req);
    if (path === '/login' && req.method === 'POST') return void login(req, res).catch(() => res.destroy());
    if (path === '/events') return events(req, res);
    refuse(res, 404, 'Not found: POST /login, GET /events.');
  });
  apiUrl = api.url;

  return {
    pageUrl: page.url,
    apiUrl: api.url,
    close: async () => {
      await Promise.all([page.close(), api.close()]);
    },
  };
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const at = pair.indexOf('=');
    if (at !== -1 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

if (isMain(import.meta.url)) {
  const { pageUrl, apiUrl } = await startCookieAuth({
    pagePort: envPort('PORT', 3002),
    apiPort: envPort('API_PORT', 3003),
  });
  console.log(`Cookie auth: open ${pageUrl} (the SSE backend is ${apiUrl}; the password is "siar")`);
}
