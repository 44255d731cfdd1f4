import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { serverStats } from '../server/stats.js';
import { Authorizer } from './authorization.js';
import type { ProcessFigures } from './cluster/hub-group.js';
import { HubCors } from './cors.js';
import { DashboardFeed, type HubFigures } from './dashboard.js';
import { type HubStats, hubStats } from './health.js';
import type { RequestHead } from './http1-front.js';
import { DEFAULT_CLOSE_GRACE_MS, type HubOptions, resolveHubOptions } from './hub-options.js';
import { HubLifecycle } from './lifecycle.js';
import { type HubCounters, HubMetrics } from './metrics.js';
import { Publisher } from './publish.js';
import { HubRoutes, type RouteTargets } from './routes.js';
import { boundStoreCalls } from './store-calls.js';
import { MemoryStore } from './stores/memory.js';
import type { HubStore } from './stores/store.js';
import { Subscribers } from './subscribe.js';
import { SubscriptionEvents } from './subscriptions.js';
import { SelectorCache } from './topic-selector.js';
import type { Update, UpdateInit } from './update.js';

export interface Hub {
  /**
   * The request handler: mount it in node:http, node:https, node:http2 (its compatibility API),
   * Express, Fastify… Calls `next` for paths it does not serve.
   */
  handler(
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    next?: (error?: unknown) => void,
  ): void;
  /**
   * For servers that read request heads themselves (`createHubServer` does, on cleartext HTTP/1.1):
   * takes a `GET /.well-known/mercure` connection off a bare socket and serves the subscription on
   * it, without node:http's per-request objects. Returns false, leaving the socket alone, for any
   * other request.
   */
  takeSubscription(head: RequestHead, socket: Socket): boolean;
  /** Publishes an update from the hosting app, without HTTP and without a token. */
  publish(update: UpdateInit): Promise<Update>;
  /** Resolves once the store is open and the keys are read; rejects with a configuration error. */
  ready(): Promise<void>;
  stats(): HubStats;
  /** The Prometheus text of `/metrics`. */
  metrics(): Promise<string>;
  /**
   * Shuts down: refuses new requests, waits up to `graceMs` for publishes in flight, tells every
   * subscriber when to come back (`retry:`), closes the streams, closes the store.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * Creates a Mercure hub: Mercure 1.0 (draft-dunglas-mercure-08) and draft-07 (as the reference hub
 * v0.24 speaks it) on one endpoint, unless `draft07: false` leaves the first alone.
 */
export function createHub(options: HubOptions = {}): Hub {
  return new MercureHub(options);
}

/**
 * The hub put together: each part is a file of its own (`routes.ts` → `subscribe.ts`, `publish.ts`,
 * `subscriptions-api.ts`, `health.ts`), sharing the store, the keys, the counters and the lifecycle
 * made here.
 */
class MercureHub implements Hub {
  private readonly parts: RouteTargets;
  private readonly routes: HubRoutes;
  private readonly lifecycle = new HubLifecycle();
  private readonly dashboard: DashboardFeed | undefined;
  private readonly opened: Promise<void>;

  constructor(options: HubOptions) {
    const settings = resolveHubOptions(options);
    const { logger } = settings;
    const selectors = new SelectorCache();
    const authorizer = new Authorizer(options, settings, selectors);
    const given: HubStore = options.store ?? new MemoryStore({ historySize: options.historySize });
    const counters: HubCounters = {
      subscribersConnected: 0,
      subscribersTotal: 0,
      updatesPublished: 0,
      updatesDispatched: 0,
      deliveries: 0,
      publishRefused: 0,
      subscriberCapacity: settings.maxSubscribers,
      subscribersRefusedCapacity: 0,
      storeTimeouts: 0,
      storeFaults: given.faults,
      historySize: () => given.historySize(),
      storeUp: () => given.health().ok,
    };
    const store = boundStoreCalls(given, settings.storeTimeoutMs, counters, logger);
    const group = settings.group;
    // With a group, /metrics reads the whole hub's counters; the hot paths count this process's.
    const metrics = settings.metrics
      ? new HubMetrics(group ? group.counters(counters) : counters, store.kind)
      : undefined;
    if (metrics && group) group.registerMetrics(metrics.registry);
    const presence = store.presence;
    this.dashboard = settings.dashboard
      ? new DashboardFeed(() => this.figures(), presence && (() => presence.nodes()))
      : undefined;
    const { lifecycle, dashboard } = this;
    const publisher = new Publisher({
      settings,
      logger,
      store,
      authorizer,
      lifecycle,
      counters,
      metrics,
      dashboard,
    });
    const events = settings.subscriptions
      ? new SubscriptionEvents(store, (update) => publisher.append(update), logger)
      : undefined;
    const subscribers = new Subscribers({
      settings,
      logger,
      store,
      authorizer,
      selectors,
      lifecycle,
      counters,
      dashboard,
      events,
    });
    this.opened = Promise.all([
      store.open((update) => subscribers.dispatch(update)),
      authorizer.ready(),
    ]).then(() => undefined);
    // Requests wait on `opened` and answer its error; a caller learns of it from `ready()`.
    this.opened.catch(() => {});
    this.parts = {
      settings,
      logger,
      opened: this.opened,
      cors: new HubCors(settings.corsOrigins),
      store,
      authorizer,
      counters,
      lifecycle,
      metrics,
      subscribers,
      publisher,
      group,
    };
    this.routes = new HubRoutes(this.parts);
    group?.attach(() => this.localFigures());
  }

  ready(): Promise<void> {
    return this.opened;
  }

  readonly handler = (
    request: IncomingMessage | Http2ServerRequest,
    response: ServerResponse | Http2ServerResponse,
    next?: (error?: unknown) => void,
  ): void => {
    // The http2 compatibility API has every member the hub uses (test/http2 runs the hub on it);
    // where HTTP/2 differs (no Host, no Connection header) the hub checks the version.
    this.routes.handle(request as IncomingMessage, response as ServerResponse, next);
  };

  readonly takeSubscription = (head: RequestHead, socket: Socket): boolean =>
    this.routes.takeSubscription(head, socket);

  async publish(init: UpdateInit): Promise<Update> {
    const arrivedAt = performance.now();
    await this.opened;
    return this.parts.publisher.publish(init, arrivedAt);
  }

  stats(): HubStats {
    const { slowConsumersClosed: _slow, ...stats } = this.figures();
    return stats;
  }

  metrics(): Promise<string> {
    return this.parts.metrics?.text() ?? Promise.resolve('');
  }

  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (!(await this.lifecycle.close(options.graceMs ?? DEFAULT_CLOSE_GRACE_MS))) return;
    const { subscribers, settings, store, metrics } = this.parts;
    // Every process's publishes in flight end before any stream: each subscriber gets them, then retry:.
    if (settings.group !== undefined) await settings.group.drained().catch(() => {});
    subscribers.closeAll(settings.shutdownRetryMs);
    this.dashboard?.close();
    settings.group?.close();
    await store.close();
    metrics?.registry.clear();
  }

  /** This process's figures. */
  private localFigures(): ProcessFigures {
    return {
      ...hubStats(this.parts),
      slowConsumersClosed: serverStats.slowConsumersClosed,
      publishRefused: this.parts.counters.publishRefused,
    };
  }

  /** The hub's figures (of every process, with a group): the dashboard reads them once a second while someone watches. */
  private figures(): HubFigures {
    const local = this.localFigures();
    const { publishRefused: _refused, ...figures } = this.parts.group?.figures(local) ?? local;
    return figures;
  }
}
