import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type CorsDecision, createCorsPolicy } from '../server/cors.js';
import { HubError } from './errors.js';
import { headerValue } from './http1-front.js';

/** What the hub's CORS policy says of a request: `none` when it needs no CORS at all. */
export interface HubCorsDecision {
  action: 'none' | Exclude<CorsDecision['action'], 'refuse'>;
  headers: Record<string, string>;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The hub's CORS, in front of its endpoints on either transport: siar/server's policy with the hub's
 * methods and headers (credentials, the cookie, unless any origin `*` is allowed), and same-origin
 * requests (the hub's own pages) let through.
 */
export class HubCors {
  private readonly policy: ReturnType<typeof createCorsPolicy> | undefined;

  /** `origins` undefined: no cross-origin request is allowed (no CORS headers are sent). */
  constructor(origins: readonly string[] | '*' | undefined) {
    if (origins === undefined) return;
    this.policy = createCorsPolicy({
      origins,
      credentials: origins !== '*',
      methods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'Cache-Control'],
      // The replay cursor of both generations, and the subscriptions API's Link (its cursor, draft-08).
      exposeHeaders: ['Last-Event-ID', 'Mercure-Last-Event-ID', 'Link'],
    });
  }

  /**
   * The decision for a request: `none` when it needs no CORS (no policy, no Origin, or the hub's own
   * origin), else the policy's, with the headers to send. Throws a 403 for an origin not allowed.
   */
  decide(method: string, headers: IncomingHttpHeaders): HubCorsDecision {
    const origin = headers.origin;
    // Same-origin requests (the hub's own pages) carry an Origin too; they need no CORS.
    if (
      this.policy === undefined ||
      origin === undefined ||
      sameOrigin(origin, headers.host ?? headerValue(headers[':authority']))
    ) {
      return { action: 'none', headers: {} };
    }
    const decision = this.policy(origin, method, headerValue(headers['access-control-request-method']));
    if (decision.action === 'refuse') {
      throw new HubError('forbidden', `Origin ${origin} is not allowed to use this hub (CORS).`);
    }
    return { action: decision.action, headers: decision.headers };
  }

  /** Applies the decision to a node:http response; returns false when it answered (a preflight, OPTIONS). */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const decision = this.decide(req.method ?? 'GET', req.headers);
    for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    if (decision.action === 'preflight') {
      res.writeHead(204).end();
      return false;
    }
    if (decision.action === 'none' && req.method === 'OPTIONS') {
      res.writeHead(204, { allow: 'GET, POST, OPTIONS' }).end();
      return false;
    }
    return true;
  }
}
