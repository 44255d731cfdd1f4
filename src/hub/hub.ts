import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { createCorsPolicy } from '../server/cors.js';
import { createEventStream, createSocketEventStream } from '../server/create.js';
import type { EventStream, EventStreamOptions } from '../server/event-stream.js';
import type { Logger } from '../server/logger.js';
import { serverStats } from '../server/stats.js';
import { Authorizer, checkPublishOrigin, missingToken } from './authorization.js';
import { DashboardFeed } from './dashboard.js';
import { serveDashboard } from './dashboard-page.js';
import { serveDemo } from './demo.js';
import { HubError } from './errors.js';
import type { RequestHead } from './http1-front.js';
import {
  DEFAULT_CLOSE_GRACE_MS,
  type HubOptions,
  type HubSettings,
  resolveHubOptions,
} from './hub-options.js';
import { HubMetrics } from './metrics.js';
import { parseUpdate, readBody, type UpdateLimits, validateUpdate } from './publish.js';
import { MemoryStore } from './stores/memory.js';
import type { HubStore } from './stores/store.js';
import { LIVE, OVERFLOWED, replaying, Subscriber } from './subscriber.js';
import { SubscriberIndex } from './subscriber-index.js';
import {
  parseSubscriptionsPath,
  SUBSCRIPTIONS_PATH,
  type SubscriptionDocument,
  subscriptionDocument,
  subscriptionsResponse,
  subscriptionTopic,
  subscriptionUpdates,
} from './subscriptions.js';
import { anyTopicMatches, matchesAny, SelectorCache } from './topic-selector.js';
import { newUpdateId, type StoredUpdate, type Update, type UpdateInit } from './update.js';

/** The hub's URL path, fixed by the protocol. */
export const HUB_PATH = '/.well-known/mercure';

/**
 * A subscription request, whatever carried it: a node:http (or http2) request and response, or a
 * bare socket whose head the hub's own server read (see `takeSubscription`).
 */
interface SubscribeExchange {
  method: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
  /** The client went away before its stream opened. */
  gone(): boolean;
  /** Answers a HEAD request: the headers a GET would get, no body. */
  answerHead(headers: Record<string, string>): void;
  /** Opens the event stream (status 200 and `options.headers`). */
  open(options: EventStreamOptions): EventStream;
}

/** Live figures of a hub, for health checks and the dashboard. */
export interface HubStats {
  subscribers: number;
  subscribersTotal: number;
  updatesPublished: number;
  updatesDispatched: number;
  deliveries: number;
  historySize: number;
  store: { kind: string; ok: boolean; detail?: string };
  /** Selectors in use and how many subscribers use each, most used first (at most 20). */
  topSelectors: Array<{ selector: string; subscribers: number }>;
}

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

/** Limits of the updates the hub makes itself (subscription events): one topic, sizes bounded by the token's. */
const HUB_UPDATE_LIMITS: UpdateLimits = {
  maxUpdateBytes: Number.MAX_SAFE_INTEGER,
  maxTopics: 1,
  maxTopicLength: Number.MAX_SAFE_INTEGER,
};

const SUBSCRIBE_HEADERS = {
  'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0',
  pragma: 'no-cache',
  expires: '0',
};

/** Creates a Mercure hub (draft-dunglas-mercure-07, as the reference hub v0.24 speaks it). */
export function createHub(options: HubOptions = {}): Hub {
  return new MercureHub(options);
}

class MercureHub implements Hub {
  private readonly logger: Logger;
  private readonly store: HubStore;
  private readonly selectors = new SelectorCache();
  private readonly authorizer: Authorizer;
  private readonly cors: ReturnType<typeof createCorsPolicy> | undefined;
  private readonly index = new SubscriberIndex();
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly perAddress = new Map<string, number>();
  private readonly deadlines = new Map<Subscriber, NodeJS.Timeout>();
  private readonly metricsRegistry: HubMetrics | undefined;
  private readonly dashboard: DashboardFeed | undefined;
  private readonly opened: Promise<void>;
  private closing = false;
  private inFlight = 0;
  private inFlightDone: (() => void) | undefined;
  private readonly counters = {
    subscribersConnected: 0,
    subscribersTotal: 0,
    updatesPublished: 0,
    updatesDispatched: 0,
    deliveries: 0,
    publishRefused: 0,
    historySize: () => this.store.historySize(),
    storeUp: () => this.store.health().ok,
  };
  private readonly settings: HubSettings;

  constructor(options: HubOptions) {
    this.settings = resolveHubOptions(options);
    this.logger = this.settings.logger;
    this.authorizer = new Authorizer(options, this.settings, this.selectors);
    const { corsOrigins } = this.settings;
    if (corsOrigins !== undefined) {
      this.cors = createCorsPolicy({
        origins: corsOrigins,
        credentials: corsOrigins !== '*',
        methods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'Cache-Control'],
        exposeHeaders: ['Last-Event-ID'],
      });
    }
    this.store = options.store ?? new MemoryStore({ historySize: options.historySize });
    this.metricsRegistry = this.settings.metrics ? new HubMetrics(this.counters, this.store.kind) : undefined;
    if (this.settings.dashboard) {
      const presence = this.store.presence;
      this.dashboard = new DashboardFeed(
        () => {
          const { store, topSelectors, subscribers, subscribersTotal, historySize } = this.stats();
          const { updatesPublished, updatesDispatched, deliveries } = this.counters;
          const slowConsumersClosed = serverStats.slowConsumersClosed;
          return {
            subscribers,
            subscribersTotal,
            updatesPublished,
            updatesDispatched,
            deliveries,
            slowConsumersClosed,
            historySize,
            store,
            topSelectors,
          };
        },
        presence && (() => presence.nodes()),
      );
    }
    this.opened = Promise.all([
      this.store.open((update) => this.dispatch(update)),
      this.authorizer.ready(),
    ]).then(() => undefined);
    // Requests wait on `opened` and answer its error; a caller learns of it from `ready()`.
    this.opened.catch(() => {});
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
    const req = request as IncomingMessage;
    const res = response as ServerResponse;
    this.route(req, res, next).catch((error: unknown) => this.fail(req, res, error));
  };

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    next?: (error?: unknown) => void,
  ): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    if (
      path === HUB_PATH ||
      ((path === SUBSCRIPTIONS_PATH || path.startsWith(`${SUBSCRIPTIONS_PATH}/`)) &&
        this.settings.subscriptions)
    ) {
      if (!this.applyCors(req, res)) return;
      await this.opened;
      if (path !== HUB_PATH) return this.subscriptionsApi(req, res, path, query);
      if (req.method === 'GET' || req.method === 'HEAD') return this.subscribe(nodeExchange(req, res), query);
      if (req.method === 'POST') return this.publishHttp(req, res, query);
      throw new HubError(
        'method-not-allowed',
        `${req.method} is not allowed here: GET subscribes, POST publishes.`,
        {
          allow: 'GET, POST, OPTIONS',
        },
      );
    }
    if (this.settings.metrics && path === '/healthz') return this.health(res);
    if (this.settings.metrics && path === '/metrics' && this.metricsRegistry) {
      res.writeHead(200, { 'content-type': this.metricsRegistry.registry.contentType });
      res.end(await this.metricsRegistry.text());
      return;
    }
    if (this.dashboard !== undefined && (await serveDashboard(req, res, path))) return;
    if (this.settings.demo && (await serveDemo(req, res, path, this.settings.demo, this.settings.anonymous)))
      return;
    if (next) return next();
    throw new HubError('not-found', `Nothing at ${path}. The hub is at ${HUB_PATH}.`);
  }

  /**
   * What the CORS policy says of a request: `none` when it needs no CORS (no policy, no Origin, or
   * the hub's own origin), else the policy's decision and the headers to send.
   */
  private corsDecision(
    method: string,
    headers: IncomingHttpHeaders,
  ): { action: 'none' | 'continue' | 'preflight' | 'refuse'; headers: Record<string, string> } {
    const origin = headers.origin;
    // Same-origin requests (the hub's own pages) carry an Origin too; they need no CORS.
    if (
      this.cors === undefined ||
      origin === undefined ||
      sameOrigin(origin, headers.host ?? headerValue(headers[':authority']))
    ) {
      return { action: 'none', headers: {} };
    }
    const decision = this.cors(origin, method, headerValue(headers['access-control-request-method']));
    if (decision.action === 'refuse') {
      throw new HubError('forbidden', `Origin ${origin} is not allowed to use this hub (CORS).`);
    }
    return decision;
  }

  /** Applies the CORS policy; returns false when the request was answered (a preflight). */
  private applyCors(req: IncomingMessage, res: ServerResponse): boolean {
    const decision = this.corsDecision(req.method ?? 'GET', req.headers);
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

  readonly takeSubscription = (head: RequestHead, socket: Socket): boolean => {
    const q = head.url.indexOf('?');
    if (head.method !== 'GET' || (q === -1 ? head.url : head.url.slice(0, q)) !== HUB_PATH) return false;
    let corsHeaders: Record<string, string> = {};
    const exchange: SubscribeExchange = {
      method: 'GET',
      headers: head.headers,
      remoteAddress: socket.remoteAddress,
      gone: () => socket.destroyed,
      answerHead: () => {},
      open: (options) =>
        createSocketEventStream(socket, head, {
          ...options,
          headers: { ...corsHeaders, ...options.headers },
        }),
    };
    const serve = async () => {
      corsHeaders = this.corsDecision('GET', head.headers).headers;
      await this.opened;
      await this.subscribe(exchange, new URLSearchParams(q === -1 ? '' : head.url.slice(q + 1)));
    };
    serve().catch((error: unknown) => {
      const hubError = this.asHubError(error);
      if (socket.destroyed) return;
      const body = `${hubError.message}\n`;
      let response = `HTTP/${head.httpVersion} ${hubError.status} ${STATUS_CODES[hubError.status] ?? 'Error'}\r\n`;
      const headers: Record<string, string> = {
        ...corsHeaders,
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
        connection: 'close',
        ...hubError.headers,
      };
      for (const [name, value] of Object.entries(headers)) response += `${name}: ${value}\r\n`;
      socket.end(`${response}\r\n${body}`);
    });
    return true;
  };

  private clientAddress(exchange: SubscribeExchange): string {
    if (this.settings.trustProxy) {
      const forwarded = headerValue(exchange.headers['x-forwarded-for'])?.split(',')[0]?.trim();
      if (forwarded) return forwarded;
    }
    return exchange.remoteAddress ?? 'unknown';
  }

  private async subscribe(req: SubscribeExchange, query: URLSearchParams): Promise<void> {
    if (this.closing) throw shuttingDown();
    const topics = query.getAll('topic');
    if (topics.length === 0) throw new HubError('bad-request', 'Missing "topic" parameter.');
    if (topics.length > this.settings.limits.maxTopics) {
      throw new HubError(
        'bad-request',
        `Too many "topic" parameters (the limit is ${this.settings.limits.maxTopics}).`,
      );
    }
    for (const topic of topics) {
      if (topic.length > this.settings.limits.maxTopicLength) {
        throw new HubError(
          'bad-request',
          `A topic selector is longer than ${this.settings.limits.maxTopicLength} characters.`,
        );
      }
    }
    const auth = await this.authorizer.authorize(req, query, 'subscriber', 'Subscribing');
    if (auth === undefined && !this.settings.anonymous) throw missingToken('Subscribing to this hub');
    if (req.method === 'HEAD') {
      // The headers only: a stream's bytes after a HEAD answer would be read as the next response.
      req.answerHead({ 'content-type': 'text/event-stream; charset=utf-8', ...SUBSCRIBE_HEADERS });
      return;
    }
    const address = this.clientAddress(req);
    if (this.subscribers.size >= this.settings.maxSubscribers) {
      throw new HubError(
        'unavailable',
        `The hub holds its maximum of ${this.settings.maxSubscribers} subscribers. Try again later.`,
        {
          'retry-after': '10',
        },
      );
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.settings.maxSubscribersPerAddress) {
      throw new HubError(
        'too-many-requests',
        `Too many subscriptions from ${address} (the limit is ${this.settings.maxSubscribersPerAddress}).`,
        { 'retry-after': '10' },
      );
    }
    // An empty ID is no ID (as in the reference hub), not a request for the whole history.
    const lastEventId = headerValue(req.headers['last-event-id']) || query.get('lastEventID') || undefined;
    const subscriber = new Subscriber(
      newUpdateId(),
      // A selector given twice is one subscription (one subscription event, one API entry).
      [...new Set(topics)].map((topic) => this.selectors.get(topic)),
      auth?.grants,
      address,
    );
    // Registered before the history is read, holding what arrives live meanwhile: no gap.
    if (lastEventId !== undefined) subscriber.phase = replaying();
    this.register(subscriber);
    let found = false;
    let requestedSeq: number | undefined;
    let lastSeen = 0;
    const replayed: StoredUpdate[] = [];
    if (lastEventId !== undefined) {
      try {
        ({ found, seq: requestedSeq } = await this.store.replay(lastEventId, (update) => {
          lastSeen = update.seq;
          if (subscriber.matches(update) && subscriber.mayReceive(update)) replayed.push(update);
        }));
      } catch (error) {
        this.unregister(subscriber);
        throw storeFailed(error, this.logger);
      }
    }
    if (requestedSeq !== undefined && requestedSeq > lastSeen) lastSeen = requestedSeq;
    subscriber.replayedUpTo = lastSeen;
    if (req.gone()) {
      this.unregister(subscriber);
      return;
    }
    const headers: Record<string, string> = { ...SUBSCRIBE_HEADERS };
    if (lastEventId !== undefined) headers['last-event-id'] = found ? lastEventId : 'earliest';
    const stream = req.open({
      headers,
      heartbeatMs: this.settings.heartbeatMs,
      maxBufferedBytes: this.settings.maxBufferedBytes,
      lastEventIdParam: false,
      logger: this.logger,
    });
    subscriber.stream = stream;
    this.unregisterOnClose(stream, subscriber);
    this.setDeadline(subscriber, auth?.expiresAt);
    // The history goes out as fast as the client takes it: written all at once, a long one would pass
    // maxBufferedBytes and drop a client that reads well. Live updates are held meanwhile.
    let backlog = replayed;
    for (;;) {
      for (const update of backlog) {
        if (!stream.sendFrame(update.frame)) await stream.drained();
        if (!stream.isOpen) return;
      }
      const phase = subscriber.phase;
      if (phase.name === 'overflowed') {
        stream.close();
        return;
      }
      if (phase.name === 'live' || phase.held.length === 0) break;
      subscriber.phase = replaying();
      backlog = phase.held.filter((update) => update.seq > lastSeen);
    }
    subscriber.phase = LIVE;
    this.counters.deliveries += replayed.length;
    if (this.settings.subscriptions) {
      this.announce(subscriber, true);
      this.store.presence?.add(
        subscriber.selectors.map(({ selector }) => subscriptionDocument(selector, subscriber, true)),
      );
    }
  }

  /** In its own function, so the listener's scope holds the subscriber alone for the stream's life. */
  private unregisterOnClose(stream: EventStream, subscriber: Subscriber): void {
    stream.on('close', () => this.unregister(subscriber));
  }

  private register(subscriber: Subscriber): void {
    this.subscribers.set(subscriber.id, subscriber);
    this.index.add(subscriber);
    this.dashboard?.add(subscriber);
    this.perAddress.set(subscriber.address, (this.perAddress.get(subscriber.address) ?? 0) + 1);
    this.counters.subscribersConnected++;
    this.counters.subscribersTotal++;
  }

  private unregister(subscriber: Subscriber): void {
    if (!this.subscribers.delete(subscriber.id)) return;
    this.index.remove(subscriber);
    this.dashboard?.remove(subscriber);
    const count = (this.perAddress.get(subscriber.address) ?? 1) - 1;
    if (count === 0) this.perAddress.delete(subscriber.address);
    else this.perAddress.set(subscriber.address, count);
    this.counters.subscribersConnected--;
    const timer = this.deadlines.get(subscriber);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.deadlines.delete(subscriber);
    }
    if (this.settings.subscriptions && subscriber.stream !== undefined) {
      this.store.presence?.remove(
        subscriber.selectors.map(({ selector }) => subscriptionTopic(selector, subscriber.id)),
      );
      if (!this.closing) this.announce(subscriber, false);
    }
  }

  /** Closes the stream when the token expires (the spec's MUST) or the write timeout passes. */
  private setDeadline(subscriber: Subscriber, expiresAt: number | undefined): void {
    const limits: number[] = [];
    if (expiresAt !== undefined) limits.push(expiresAt - Date.now());
    if (this.settings.writeTimeoutMs > 0) limits.push(this.settings.writeTimeoutMs);
    if (limits.length === 0) return;
    const delay = Math.max(0, Math.min(...limits));
    const timer = setTimeout(() => subscriber.stream?.close(), Math.min(delay, 2 ** 31 - 1));
    timer.unref();
    this.deadlines.set(subscriber, timer);
  }

  private announce(subscriber: Subscriber, active: boolean): void {
    for (const update of subscriptionUpdates(subscriber, active)) {
      // The publishers' limits are not for the hub's own updates: a token's payload larger than
      // maxUpdateBytes must neither drop its subscriber nor throw out of a stream's close listener.
      this.append(validateUpdate(update, HUB_UPDATE_LIMITS)).catch((error: unknown) =>
        this.logger.warn({ error: String(error) }, 'Could not publish a subscription event.'),
      );
    }
  }

  /** Delivers an update from the store to the subscribers that match it and may see it. */
  private dispatch(update: StoredUpdate): void {
    this.counters.updatesDispatched++;
    this.dashboard?.dispatched(update.id);
    const maxPending = this.settings.maxPendingUpdates;
    const { frame, seq } = update;
    const isPrivate = update.private;
    let delivered = 0;
    this.index.forEachMatch(update, (subscriber) => {
      if ((isPrivate && !subscriber.mayReceive(update)) || seq <= subscriber.replayedUpTo) return;
      const phase = subscriber.phase;
      // The live phase is one shared object: one comparison on the hot path.
      if (phase === LIVE) {
        subscriber.stream?.sendFrame(frame);
        delivered++;
      } else if (phase.name === 'replaying') {
        if (phase.held.length < maxPending) phase.held.push(update);
        else subscriber.phase = OVERFLOWED;
      }
    });
    this.counters.deliveries += delivered;
  }

  /** Stores an update; `arrivedAt` (performance.now() when its publish arrived) times it for the dashboard. */
  private async append(update: Update, arrivedAt?: number): Promise<StoredUpdate> {
    this.inFlight++;
    if (arrivedAt !== undefined) this.dashboard?.published(update.id, arrivedAt);
    const started = process.hrtime.bigint();
    try {
      const result = await this.store.append(update);
      this.counters.updatesPublished++;
      this.metricsRegistry?.storeAppendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      return result;
    } catch (error) {
      throw storeFailed(error, this.logger);
    } finally {
      this.landed();
    }
  }

  /** Ends one of the publishes `close()` waits for. */
  private landed(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.inFlightDone?.();
  }

  private async publishHttp(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
  ): Promise<void> {
    if (this.closing) throw shuttingDown();
    const arrivedAt = performance.now();
    // In flight from the request on, not from its append: close() waits for a body still arriving.
    this.inFlight++;
    try {
      const auth = await this.authorizer.authorize(req, query, 'publisher', 'Publishing');
      if (auth === undefined) throw missingToken('Publishing');
      if (auth.carrier === 'cookie') checkPublishOrigin(req, this.settings.publishOrigins);
      const allowed = auth.grants.publish;
      if (allowed === undefined || allowed.length === 0) {
        throw new HubError(
          'forbidden',
          'The token does not allow publishing: its "mercure.publish" claim is missing or empty.',
        );
      }
      const body = await readBody(req, this.settings.limits.maxUpdateBytes, this.settings.bodyTimeoutMs);
      const update = validateUpdate(parseUpdate(body, req.headers['content-type']), this.settings.limits);
      for (const topic of update.topics) {
        if (!matchesAny(allowed, topic)) {
          throw new HubError('forbidden', `The token does not allow publishing to the topic "${topic}".`);
        }
      }
      const stored = await this.append(update, arrivedAt);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(stored.id);
    } finally {
      this.landed();
    }
  }

  async publish(init: UpdateInit): Promise<Update> {
    const arrivedAt = performance.now();
    await this.opened;
    if (this.closing) throw shuttingDown();
    const {
      seq: _seq,
      frame: _frame,
      ...update
    } = await this.append(validateUpdate(init, this.settings.limits), arrivedAt);
    return update;
  }

  private async subscriptionsApi(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<void> {
    if (req.method !== 'GET')
      throw new HubError('method-not-allowed', 'The subscriptions API answers GET only.', { allow: 'GET' });
    const wanted = parseSubscriptionsPath(path.slice(SUBSCRIPTIONS_PATH.length));
    if (wanted === undefined) throw new HubError('not-found', 'Not a subscriptions API path.');
    const auth = await this.authorizer.authorize(req, query, 'subscriber', 'Reading subscriptions');
    if (auth === undefined) throw missingToken('The subscriptions API');
    const claim = auth.grants.subscribe;
    if (claim === undefined || !anyTopicMatches(claim, [path])) {
      throw new HubError('forbidden', `The token's "mercure.subscribe" claim does not match ${path}.`);
    }
    const documents = (await this.activeSubscriptions()).filter(
      (document) =>
        wanted.kind === 'all' ||
        (document.topic === wanted.topic &&
          (wanted.kind === 'topic' || document.subscriber === wanted.subscriber)),
    );
    const lastEventId = this.store.lastEventId() ?? 'earliest';
    const body = subscriptionsResponse(path, wanted, documents, lastEventId);
    if (body === undefined) {
      throw new HubError(
        'not-found',
        `No active subscription at ${wanted.kind === 'one' ? subscriptionTopic(wanted.topic, wanted.subscriber) : path}.`,
      );
    }
    res.writeHead(200, {
      'content-type': 'application/ld+json',
      'cache-control': 'must-revalidate',
      etag: `"${lastEventId}"`,
      link: `<${HUB_PATH}>; rel="mercure"`,
    });
    res.end(JSON.stringify(body));
  }

  /** Every active subscription: of all nodes when the store shares them, else of this one. */
  private async activeSubscriptions(): Promise<SubscriptionDocument[]> {
    if (this.store.presence) return this.store.presence.list();
    const documents: SubscriptionDocument[] = [];
    for (const subscriber of this.subscribers.values()) {
      if (subscriber.stream === undefined) continue;
      for (const { selector } of subscriber.selectors)
        documents.push(subscriptionDocument(selector, subscriber, true));
    }
    return documents;
  }

  private health(res: ServerResponse): void {
    const store = this.store.health();
    res.writeHead(store.ok && !this.closing ? 200 : 503, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    res.end(
      JSON.stringify({
        status: this.closing ? 'closing' : store.ok ? 'ok' : 'degraded',
        store: { kind: this.store.kind, ...store },
        subscribers: this.subscribers.size,
      }),
    );
  }

  stats(): HubStats {
    const store = this.store.health();
    const topSelectors = [...this.index.selectorCounts()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([selector, subscribers]) => ({ selector, subscribers }));
    return {
      subscribers: this.subscribers.size,
      subscribersTotal: this.counters.subscribersTotal,
      updatesPublished: this.counters.updatesPublished,
      updatesDispatched: this.counters.updatesDispatched,
      deliveries: this.counters.deliveries,
      historySize: this.store.historySize(),
      store: { kind: this.store.kind, ...store },
      topSelectors,
    };
  }

  metrics(): Promise<string> {
    if (this.metricsRegistry === undefined) return Promise.resolve('');
    return this.metricsRegistry.text();
  }

  /** The error a request is answered with; unexpected ones are logged and become a 503. */
  private asHubError(error: unknown): HubError {
    if (!(error instanceof HubError)) {
      this.logger.error({ error: String(error) }, 'Unexpected error in the hub.');
      return new HubError('store-failed', 'The hub failed to handle the request.');
    }
    if (error.status >= 500) this.logger.warn({ code: error.code }, error.message);
    return error;
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const hubError = this.asHubError(error);
    if (req.method === 'POST' && req.url?.startsWith(HUB_PATH)) this.counters.publishRefused++;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      ...hubError.headers,
    };
    // A body left unread would have to be drained before the connection could serve another request:
    // HTTP/1.1 closes the connection. HTTP/2 forbids that header; there, once the answer is out, a
    // RST_STREAM with NO_ERROR tells a client still sending to stop (RFC 9113 §8.1) — else a body
    // past the stream's window would hold the stream open for good. `destroy` then lets Node forget
    // the stream, which would wait for the body's end, which never comes. (No-ops on a finished stream.)
    if (req.httpVersionMajor >= 2) {
      const stream = (res as unknown as Http2ServerResponse).stream;
      stream.once('finish', () => {
        stream.close();
        stream.destroy();
      });
    } else if (!req.complete) headers.connection = 'close';
    res.writeHead(hubError.status, headers).end(`${hubError.message}\n`);
  }

  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const graceMs = options.graceMs ?? DEFAULT_CLOSE_GRACE_MS;
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.inFlightDone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const subscriber of [...this.subscribers.values()]) {
      const stream = subscriber.stream;
      if (stream === undefined) continue;
      stream.send({ retry: this.settings.shutdownRetryMs });
      stream.close();
    }
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.deadlines.clear();
    this.dashboard?.close();
    await this.store.close();
    this.metricsRegistry?.registry.clear();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function shuttingDown(): HubError {
  return new HubError('unavailable', 'The hub is shutting down. Try again in a moment.', {
    'retry-after': '2',
  });
}

function storeFailed(error: unknown, logger: Logger): HubError {
  if (error instanceof HubError) return error;
  logger.error({ error: String(error) }, 'The store failed.');
  return new HubError(
    'store-failed',
    'The hub could not store the update: its store is unavailable. Try again.',
    {
      'retry-after': '1',
    },
  );
}

/** A subscription request that came through node:http (or the http2 compatibility API). */
function nodeExchange(req: IncomingMessage, res: ServerResponse): SubscribeExchange {
  return {
    method: req.method ?? 'GET',
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    gone: () => req.socket.destroyed || res.destroyed,
    answerHead: (headers) => res.writeHead(200, headers).end(),
    open: (options) => createEventStream(req, res, options),
  };
}
