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
import { type HubRequest, hubRequest } from './hub-request.js';
import type { HubMetrics } from './metrics.js';
import { HUB_PATH, SUBSCRIPTIONS_PATH } from './paths.js';
import type { Publisher } from './publish.js';
import { RESOURCE_METADATA_PATH, serveResourceMetadata } from './resource-metadata.js';
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

/** True for a request that came over TLS (HTTPS, or HTTP/2 over TLS through the compatibility API). */
function encrypted(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

/**
 * Which part of the hub answers a request, on either transport: the protocol's endpoint (subscribe,
 * publish, the subscriptions API) and its metadata (RFC 9728) behind CORS, then `/healthz`,
 * `/metrics`, the dashboard and the demo page, else the host app's `next` or a 404. A refusal is
 * answered by `error-answer.ts`.
 */
export class HubRoutes {
  constructor(private readonly targets: RouteTargets) {}

  /** A request from node:http (or the http2 compatibility API). */
  handle(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void {
    const request = hubRequest(req.url ?? '/', req.headers, encrypted(req), this.targets.settings);
    this.route(req, res, request, next).catch((error: unknown) => {
      const hubError = asHubError(error, this.targets.logger);
      if (req.method === 'POST' && request.path === HUB_PATH) this.targets.counters.publishRefused++;
      answerError(req, res, hubError, request.address.resourceMetadata);
    });
  }

  /**
   * A request head read off a bare socket: a `GET /.well-known/mercure` is served on the socket
   * (true); anything else is left alone (false).
   */
  takeSubscription(head: RequestHead, socket: Socket): boolean {
    if (head.method !== 'GET') return false;
    const { cors, opened, subscribers, logger, settings } = this.targets;
    // Only cleartext HTTP/1.1 connections come this way.
    const request = hubRequest(head.url, head.headers, false, settings);
    if (request.path !== HUB_PATH) return false;
    let corsHeaders: Record<string, string> = {};
    const serve = async () => {
      corsHeaders = cors.decide('GET', head.headers).headers;
      await opened;
      await subscribers.subscribe(socketExchange(head, socket, corsHeaders), request);
    };
    serve().catch((error: unknown) =>
      answerErrorOnSocket(
        socket,
        head.httpVersion,
        asHubError(error, logger),
        corsHeaders,
        request.address.resourceMetadata,
      ),
    );
    return true;
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    request: HubRequest,
    next?: (error?: unknown) => void,
  ): Promise<void> {
    const targets = this.targets;
    const { settings } = targets;
    const { path } = request;
    if (
      path === HUB_PATH ||
      ((path === SUBSCRIPTIONS_PATH || path.startsWith(`${SUBSCRIPTIONS_PATH}/`)) && settings.subscriptions)
    ) {
      if (!targets.cors.apply(req, res)) return;
      await targets.opened;
      if (path !== HUB_PATH) return serveSubscriptionsApi(targets, req, res, request);
      if (req.method === 'GET' || req.method === 'HEAD') {
        return targets.subscribers.subscribe(nodeExchange(req, res), request);
      }
      if (req.method === 'POST') return targets.publisher.publishHttp(req, res, request);
      throw new HubError(
        'method-not-allowed',
        `${req.method} is not allowed here: GET subscribes, POST publishes.`,
        { allow: 'GET, POST, OPTIONS' },
      );
    }
    if (path === RESOURCE_METADATA_PATH) {
      if (!targets.cors.apply(req, res)) return;
      return serveResourceMetadata(req.method, res, request, settings);
    }
    if (settings.metrics && path === '/healthz') return answerHealth(res, targets);
    if (settings.metrics && path === '/metrics' && targets.metrics) {
      res.writeHead(200, { 'content-type': targets.metrics.registry.contentType });
      res.end(await targets.metrics.text());
      return;
    }
    if (settings.dashboard && (await serveDashboard(req, res, path))) return;
    if (settings.demo && (await serveDemo(req, res, path, settings.demo, settings))) return;
    if (next) return next();
    throw new HubError('not-found', `Nothing at ${path}. The hub is at ${HUB_PATH}.`);
  }
}
