import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../server/logger.js';
import type { HubCors } from './cors.js';
import { serveDashboard } from './dashboard-page.js';
import { serveDemo } from './demo.js';
import { answerError, answerErrorOnSocket, asHubError } from './error-answer.js';
import { HubError } from './errors.js';
import { answerHealth, type HealthParts } from './health.js';
import type { RequestHead } from './http1-front.js';
import type { HubSettings } from './hub-options.js';
import type { HubMetrics } from './metrics.js';
import { HUB_PATH, SUBSCRIPTIONS_PATH } from './paths.js';
import type { Publisher } from './publish.js';
import type { Subscribers } from './subscribe.js';
import { nodeExchange, socketExchange } from './subscribe-exchange.js';
import { type SubscriptionsApiParts, serveSubscriptionsApi } from './subscriptions-api.js';

/** Everything a request can reach. */
export interface RouteTargets extends HealthParts, SubscriptionsApiParts {
  readonly settings: HubSettings;
  readonly logger: Logger;
  /** Resolves once the store is open and the keys are read: the protocol's endpoints wait for it. */
  readonly opened: Promise<void>;
  readonly cors: HubCors;
  readonly subscribers: Subscribers;
  readonly publisher: Publisher;
  readonly metrics: HubMetrics | undefined;
}

/** A request target's path. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** A request target's query. */
function queryOf(url: string): URLSearchParams {
  const q = url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
}

/**
 * Which part of the hub answers a request, on either transport: the protocol's endpoint (subscribe,
 * publish, the subscriptions API) behind CORS, then `/healthz`, `/metrics`, the dashboard and the demo
 * page, else the host app's `next` or a 404. A refusal is answered by `error-answer.ts`.
 */
export class HubRoutes {
  constructor(private readonly targets: RouteTargets) {}

  /** A request from node:http (or the http2 compatibility API). */
  handle(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void {
    this.route(req, res, next).catch((error: unknown) => {
      const hubError = asHubError(error, this.targets.logger);
      if (req.method === 'POST' && req.url?.startsWith(HUB_PATH)) this.targets.counters.publishRefused++;
      answerError(req, res, hubError);
    });
  }

  /**
   * A request head read off a bare socket: a `GET /.well-known/mercure` is served on the socket
   * (true); anything else is left alone (false).
   */
  takeSubscription(head: RequestHead, socket: Socket): boolean {
    if (head.method !== 'GET' || pathOf(head.url) !== HUB_PATH) return false;
    const { cors, opened, subscribers, logger } = this.targets;
    let corsHeaders: Record<string, string> = {};
    const serve = async () => {
      corsHeaders = cors.decide('GET', head.headers).headers;
      await opened;
      await subscribers.subscribe(socketExchange(head, socket, corsHeaders), queryOf(head.url));
    };
    serve().catch((error: unknown) =>
      answerErrorOnSocket(socket, head.httpVersion, asHubError(error, logger), corsHeaders),
    );
    return true;
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    next?: (error?: unknown) => void,
  ): Promise<void> {
    const targets = this.targets;
    const { settings } = targets;
    const url = req.url ?? '/';
    const path = pathOf(url);
    const query = queryOf(url);
    if (
      path === HUB_PATH ||
      ((path === SUBSCRIPTIONS_PATH || path.startsWith(`${SUBSCRIPTIONS_PATH}/`)) && settings.subscriptions)
    ) {
      if (!targets.cors.apply(req, res)) return;
      await targets.opened;
      if (path !== HUB_PATH) return serveSubscriptionsApi(targets, req, res, path, query);
      if (req.method === 'GET' || req.method === 'HEAD') {
        return targets.subscribers.subscribe(nodeExchange(req, res), query);
      }
      if (req.method === 'POST') return targets.publisher.publishHttp(req, res, query);
      throw new HubError(
        'method-not-allowed',
        `${req.method} is not allowed here: GET subscribes, POST publishes.`,
        { allow: 'GET, POST, OPTIONS' },
      );
    }
    if (settings.metrics && path === '/healthz') return answerHealth(res, targets);
    if (settings.metrics && path === '/metrics' && targets.metrics) {
      res.writeHead(200, { 'content-type': targets.metrics.registry.contentType });
      res.end(await targets.metrics.text());
      return;
    }
    if (settings.dashboard && (await serveDashboard(req, res, path))) return;
    if (settings.demo && (await serveDemo(req, res, path, settings.demo, settings.anonymous))) return;
    if (next) return next();
    throw new HubError('not-found', `Nothing at ${path}. The hub is at ${HUB_PATH}.`);
  }
}
