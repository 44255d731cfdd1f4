import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerError } from './errors.js';

export interface CorsOptions {
  /** The origins allowed, exactly as browsers send them (`https://app.example.com`); or `*` for any (not with credentials). */
  origins: readonly string[] | '*';
  /** Allow cookies and HTTP authentication: the allowed origin is echoed, never `*`. Default false. */
  credentials?: boolean;
  /** Methods a preflight may allow. Default GET, POST, OPTIONS. */
  methods?: readonly string[];
  /** Request headers a preflight may allow. Default Authorization, Content-Type, Last-Event-ID, Cache-Control. */
  allowHeaders?: readonly string[];
  /** Response headers the page may read. Default none. */
  exposeHeaders?: readonly string[];
  /** How long a browser may cache a preflight answer, in seconds. Default 600. */
  maxAgeSeconds?: number;
}

/** What a CORS policy says of one request. */
export interface CorsDecision {
  /** `continue`: serve the request (with `headers`); `preflight`: answer 204 with `headers`; `refuse`: answer 403. */
  action: 'continue' | 'preflight' | 'refuse';
  headers: Record<string, string>;
}

/** A CORS policy with an explicit origin allowlist; pure, so any server can use it. */
export function createCorsPolicy(
  options: CorsOptions,
): (origin: string | undefined, method: string, requestMethod?: string) => CorsDecision {
  const credentials = options.credentials ?? false;
  if (credentials && options.origins === '*') {
    throw new ServerError(
      'invalid-option',
      'CORS with credentials needs an explicit list of origins: browsers refuse credentials with "*".',
    );
  }
  const any = options.origins === '*';
  const allowed = new Set(any ? [] : options.origins);
  const methods = (options.methods ?? ['GET', 'POST', 'OPTIONS']).join(', ');
  const allowHeaders = (
    options.allowHeaders ?? ['Authorization', 'Content-Type', 'Last-Event-ID', 'Cache-Control']
  ).join(', ');
  const expose = options.exposeHeaders?.join(', ');
  const maxAge = String(options.maxAgeSeconds ?? 600);

  return (origin, method, requestMethod) => {
    const headers: Record<string, string> = { vary: 'Origin' };
    const preflight = method === 'OPTIONS' && requestMethod !== undefined;
    if (origin === undefined) {
      // Not a cross-origin browser request: nothing to allow or refuse.
      return { action: preflight ? 'refuse' : 'continue', headers };
    }
    if (!any && !allowed.has(origin)) return { action: 'refuse', headers };
    headers['access-control-allow-origin'] = any && !credentials ? '*' : origin;
    if (credentials) headers['access-control-allow-credentials'] = 'true';
    if (expose) headers['access-control-expose-headers'] = expose;
    if (!preflight) return { action: 'continue', headers };
    headers['access-control-allow-methods'] = methods;
    headers['access-control-allow-headers'] = allowHeaders;
    headers['access-control-max-age'] = maxAge;
    return { action: 'preflight', headers };
  };
}

/**
 * CORS for node:http. Returns a function to call first in a handler: it sets the CORS headers and
 * returns true when the request should be served; it answers a preflight (204) or refuses a
 * disallowed origin (403, before any stream starts) itself and returns false.
 */
export function cors(options: CorsOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const decide = createCorsPolicy(options);
  return (req, res) => {
    const requestMethod = req.headers['access-control-request-method'];
    const decision = decide(req.headers.origin, req.method ?? 'GET', requestMethod);
    for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    if (decision.action === 'continue') return true;
    if (decision.action === 'preflight') {
      res.writeHead(204).end();
    } else {
      res
        .writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
        .end('This origin is not allowed.\n');
    }
    return false;
  };
}
