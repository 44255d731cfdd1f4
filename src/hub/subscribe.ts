import type { EventStream } from '../server/event-stream.js';
import type { Logger } from '../server/logger.js';
import type { Authorizer } from './authorization.js';
import { BurstLog } from './burst-log.js';
import type { DashboardFeed } from './dashboard.js';
import { HubError, storeFailed } from './errors.js';
import { headerValue } from './http1-front.js';
import type { HubSettings } from './hub-options.js';
import type { HubRequest } from './hub-request.js';
import type { HubLifecycle } from './lifecycle.js';
import type { HubCounters } from './metrics.js';
import { lastEventIdHeaders, requestedLastEventId } from './reconciliation.js';
import { compileSelectors, parseSelectorParams } from './selectors/selector-params.js';
import type { HubStore } from './stores/store.js';
import type { SubscribeExchange } from './subscribe-exchange.js';
import { LIVE, OVERFLOWED, replaying, Subscriber } from './subscriber.js';
import { SubscriberIndex } from './subscriber-index.js';
import type { SubscriptionEvents } from './subscriptions.js';
import type { SelectorCache } from './topic-selector.js';
import { newUpdateId, type StoredUpdate } from './update.js';

const SUBSCRIBE_HEADERS = {
  'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0',
  pragma: 'no-cache',
  expires: '0',
};

/** Longest delay `setTimeout` takes (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What subscribing needs of the hub. */
export interface SubscribeParts {
  readonly settings: HubSettings;
  readonly logger: Logger;
  readonly store: HubStore;
  readonly authorizer: Authorizer;
  readonly selectors: SelectorCache;
  readonly lifecycle: HubLifecycle;
  readonly counters: HubCounters;
  readonly dashboard: DashboardFeed | undefined;
  /** Set when the hub publishes subscription events. */
  readonly events: SubscriptionEvents | undefined;
}

/**
 * The hub's subscribers: how one joins (`subscribe`: admission, then its history replayed with no
 * gap and no duplicate, then live), how an update reaches them (`dispatch`), how one leaves.
 */
export class Subscribers {
  private readonly all = new Map<string, Subscriber>();
  private readonly index = new SubscriberIndex();
  private readonly perAddress = new Map<string, number>();
  private readonly deadlines = new Map<Subscriber, NodeJS.Timeout>();
  private readonly settings: HubSettings;
  private readonly counters: HubCounters;
  private readonly dashboard: DashboardFeed | undefined;
  private readonly refusedLog: BurstLog;

  constructor(private readonly parts: SubscribeParts) {
    this.settings = parts.settings;
    this.counters = parts.counters;
    this.dashboard = parts.dashboard;
    this.refusedLog = new BurstLog(
      parts.logger,
      'Refusing subscribers: the hub holds its most (503 with Retry-After).',
    );
  }

  /** Subscribers connected (or connecting) now. */
  get size(): number {
    return this.all.size;
  }

  /** The subscribers connected (or connecting) now. */
  values(): IterableIterator<Subscriber> {
    return this.all.values();
  }

  /** Distinct selectors in use, with how many subscribers use each. */
  selectorCounts(): Map<string, number> {
    return this.index.selectorCounts();
  }

  /**
   * Serves a subscription: checks its selectors, token and limits, registers it (before its history
   * is read, holding what arrives live meanwhile: no gap), replays its history from `Last-Event-ID`,
   * then writes what was held (minus what the replay sent: no duplicate) and goes live. Throws a
   * `HubError` for a request it refuses, before any byte of the stream.
   */
  async subscribe(req: SubscribeExchange, request: HubRequest): Promise<void> {
    const { settings, logger, store, authorizer } = this.parts;
    this.parts.lifecycle.refuseIfClosing();
    const { maxTopics, maxTopicLength } = settings.limits;
    // Before the token: a malformed selector is the request's fault, whatever the token.
    const requested = parseSelectorParams(request.rawQuery, {
      draft07: settings.draft07,
      maxSelectors: maxTopics,
      maxSelectorLength: maxTopicLength,
    });
    const selectors = compileSelectors(requested, this.parts.selectors, request.address.hubUrl);
    const auth = await authorizer.authorize(req, request, 'subscriber', 'Subscribing');
    if (auth === undefined && !settings.anonymous) throw authorizer.missingToken('Subscribing to this hub');
    if (req.method === 'HEAD') {
      // The headers only: a stream's bytes after a HEAD answer would be read as the next response.
      req.answerHead({ 'content-type': 'text/event-stream; charset=utf-8', ...SUBSCRIBE_HEADERS });
      return;
    }
    const address = this.clientAddress(req);
    const group = settings.group;
    // The whole hub's limits first (an await), then this process's with its registration (no await between).
    if (group !== undefined) await group.admit(address).catch((error: unknown) => this.refused(error));
    try {
      this.admit(address);
    } catch (error) {
      group?.leave(address);
      throw error;
    }
    const lastEventId = requestedLastEventId(req.headers, request.query, settings.draft07);
    const subscriber = new Subscriber(newUpdateId(), selectors, auth?.grants, address);
    if (lastEventId !== undefined) subscriber.phase = replaying();
    this.register(subscriber);
    let found = false;
    let requestedSeq: number | undefined;
    let lastSeen = 0;
    const replayed: StoredUpdate[] = [];
    if (lastEventId !== undefined) {
      try {
        ({ found, seq: requestedSeq } = await store.replay(lastEventId, (update) => {
          lastSeen = update.seq;
          if (subscriber.matches(update) && subscriber.mayReceive(update)) replayed.push(update);
        }));
      } catch (error) {
        this.unregister(subscriber);
        throw storeFailed(error, logger);
      }
    }
    if (requestedSeq !== undefined && requestedSeq > lastSeen) lastSeen = requestedSeq;
    subscriber.replayedUpTo = lastSeen;
    if (req.gone()) {
      this.unregister(subscriber);
      return;
    }
    const headers: Record<string, string> = { ...SUBSCRIBE_HEADERS };
    if (group !== undefined) headers['x-siar-worker'] = group.member;
    if (lastEventId !== undefined)
      Object.assign(headers, lastEventIdHeaders(found ? lastEventId : 'earliest'));
    const stream = req.open({
      headers,
      heartbeatMs: settings.heartbeatMs,
      maxBufferedBytes: settings.maxBufferedBytes,
      lastEventIdParam: false,
      logger,
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
    this.parts.events?.started(subscriber);
  }

  /** Delivers an update from the store to the subscribers that match it and may see it. */
  dispatch(update: StoredUpdate): void {
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

  /** Tells every subscriber when to come back (`retry:`) and ends its stream; the hub is closing. */
  closeAll(retryMs: number): void {
    for (const subscriber of [...this.all.values()]) {
      const stream = subscriber.stream;
      if (stream === undefined) continue;
      stream.send({ retry: retryMs });
      stream.close();
    }
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.deadlines.clear();
  }

  private clientAddress(exchange: SubscribeExchange): string {
    if (this.settings.trustProxy) {
      const forwarded = headerValue(exchange.headers['x-forwarded-for'])?.split(',')[0]?.trim();
      if (forwarded) return forwarded;
    }
    return exchange.remoteAddress ?? 'unknown';
  }

  /** Refuses a subscriber past the hub's limit (503) or its address's (429). */
  private admit(address: string): void {
    const { maxSubscribers, maxSubscribersPerAddress } = this.settings;
    if (this.all.size >= maxSubscribers) {
      this.refused(
        new HubError(
          'unavailable',
          `The hub holds its maximum of ${maxSubscribers} subscribers. Try again later.`,
          {
            'retry-after': '10',
          },
        ),
      );
    }
    if ((this.perAddress.get(address) ?? 0) >= maxSubscribersPerAddress) {
      throw new HubError(
        'too-many-requests',
        `Too many subscriptions from ${address} (the limit is ${maxSubscribersPerAddress}).`,
        { 'retry-after': '10' },
      );
    }
  }

  /** Throws `error`; one saying the hub (or its group) is full is counted and logged once per burst. */
  private refused(error: unknown): never {
    if (error instanceof HubError && error.status === 503) {
      this.counters.subscribersRefusedCapacity++;
      this.refusedLog.note({ maxSubscribers: this.settings.maxSubscribers });
      error.logged = true;
    }
    throw error;
  }

  /** In its own function, so the listener's scope holds the subscriber alone for the stream's life. */
  private unregisterOnClose(stream: EventStream, subscriber: Subscriber): void {
    stream.on('close', () => this.unregister(subscriber));
  }

  private register(subscriber: Subscriber): void {
    this.all.set(subscriber.id, subscriber);
    this.index.add(subscriber);
    this.dashboard?.add(subscriber);
    this.perAddress.set(subscriber.address, (this.perAddress.get(subscriber.address) ?? 0) + 1);
    this.counters.subscribersConnected++;
    this.counters.subscribersTotal++;
  }

  private unregister(subscriber: Subscriber): void {
    if (!this.all.delete(subscriber.id)) return;
    this.index.remove(subscriber);
    this.dashboard?.remove(subscriber);
    const count = (this.perAddress.get(subscriber.address) ?? 1) - 1;
    if (count === 0) this.perAddress.delete(subscriber.address);
    else this.perAddress.set(subscriber.address, count);
    this.counters.subscribersConnected--;
    this.settings.group?.leave(subscriber.address);
    const timer = this.deadlines.get(subscriber);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.deadlines.delete(subscriber);
    }
    // Only a subscriber whose stream opened was announced; none is announced gone while closing.
    if (subscriber.stream !== undefined) this.parts.events?.ended(subscriber, !this.parts.lifecycle.closing);
  }

  /** Closes the stream when the token expires (the spec's MUST) or the write timeout passes. */
  private setDeadline(subscriber: Subscriber, expiresAt: number | undefined): void {
    const limits: number[] = [];
    if (expiresAt !== undefined) limits.push(expiresAt - Date.now());
    if (this.settings.writeTimeoutMs > 0) limits.push(this.settings.writeTimeoutMs);
    if (limits.length === 0) return;
    const delay = Math.max(0, Math.min(...limits));
    const timer = setTimeout(() => subscriber.stream?.close(), Math.min(delay, MAX_TIMER_MS));
    timer.unref();
    this.deadlines.set(subscriber, timer);
  }
}
