import { performance } from 'node:perf_hooks';
import { Frame } from '../server/frame.js';
import {
  DASHBOARD_TOPIC,
  type DashboardFigures,
  type DashboardNode,
  type LatencyFigures,
} from './dashboard-figures.js';
import type { HubNode } from './stores/store.js';
import type { Subscriber } from './subscriber.js';
import { anyTopicMatches } from './topic-selector.js';

/** How often the hub sends its figures, in ms. */
export const DASHBOARD_INTERVAL_MS = 1000;
/** Latencies kept per interval: the percentiles are over the last this many publishes. */
const LATENCY_SAMPLE_SIZE = 1000;
/** Publishes waiting for their dispatch at most; past it new ones are not measured. */
const MAX_AWAITED = 10_000;
/** A publish not dispatched within this time (stored once under an ID already kept) stops being awaited. */
const AWAITED_TTL_MS = 60_000;

/** The figures the hub has at hand; the feed adds the time, the latency and the nodes. */
export type HubFigures = Omit<DashboardFigures, 'time' | 'intervalMs' | 'startedAt' | 'latency' | 'nodes'>;

/**
 * The hub's own figures for its dashboard, sent once a second on {@link DASHBOARD_TOPIC} as an
 * ephemeral private update: written straight to this node's watchers, never stored, never given an
 * ID (so a browser's Last-Event-ID stays that of the last real update), never counted as a delivery.
 * Watchers are subscribers naming the topic exactly whose `mercure.subscribe` claim matches it; a
 * `*` or template subscriber does not get it. The timer runs only while there is a watcher, and
 * publish-to-dispatch latency is measured only then.
 */
export class DashboardFeed {
  private readonly watchers = new Set<Subscriber>();
  /** Update ID → when its publish arrived (performance.now()), in arrival order. */
  private readonly awaited = new Map<string, number>();
  private readonly latencies = new Float64Array(LATENCY_SAMPLE_SIZE);
  /** Latencies measured since the last figures (only the last LATENCY_SAMPLE_SIZE are kept). */
  private measured = 0;
  private timer: NodeJS.Timeout | undefined;
  private nodes: DashboardNode[] | null = null;
  private readingNodes = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly figures: () => HubFigures,
    private readonly listNodes: (() => Promise<HubNode[]>) | undefined,
  ) {}

  /** Takes a new subscriber in when it watches the dashboard; starts the timer for the first one. */
  add(subscriber: Subscriber): void {
    if (!subscriber.selectors.some(({ selector }) => selector === DASHBOARD_TOPIC)) return;
    const allowed = subscriber.grants?.subscribe;
    if (allowed === undefined || !anyTopicMatches(allowed, [DASHBOARD_TOPIC])) return;
    this.watchers.add(subscriber);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.send(), DASHBOARD_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Lets a subscriber go; stops the timer after the last watcher. */
  remove(subscriber: Subscriber): void {
    if (this.watchers.delete(subscriber) && this.watchers.size === 0) this.stop();
  }

  /** A publish arrived at `arrivedAt` (performance.now()) for the update `id`: its dispatch will be timed. */
  published(id: string, arrivedAt: number): void {
    if (this.timer === undefined || this.awaited.size >= MAX_AWAITED) return;
    this.awaited.set(id, arrivedAt);
  }

  /** The update `id` is being dispatched on this node. Called for every update: a map lookup at most. */
  dispatched(id: string): void {
    if (this.awaited.size === 0) return;
    const arrivedAt = this.awaited.get(id);
    if (arrivedAt === undefined) return;
    this.awaited.delete(id);
    this.latencies[this.measured % LATENCY_SAMPLE_SIZE] = performance.now() - arrivedAt;
    this.measured++;
  }

  /** Stops the timer and forgets the watchers (the hub closes their streams). */
  close(): void {
    this.stop();
    this.watchers.clear();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.awaited.clear();
    this.measured = 0;
    this.nodes = null;
  }

  private send(): void {
    this.refreshNodes();
    const payload: DashboardFigures = {
      time: Date.now(),
      intervalMs: DASHBOARD_INTERVAL_MS,
      startedAt: this.startedAt,
      ...this.figures(),
      latency: this.takeLatency(),
      nodes: this.nodes,
    };
    this.forgetStale();
    const frame = Frame.of({ data: JSON.stringify(payload) });
    for (const watcher of this.watchers) {
      // A watcher still replaying its history gets the next figures instead.
      if (watcher.phase.name === 'live' && watcher.stream?.isOpen) watcher.stream.sendFrame(frame);
    }
  }

  /** The latency figures of the interval that ends, and a new interval. */
  private takeLatency(): LatencyFigures | null {
    const count = this.measured;
    if (count === 0) return null;
    this.measured = 0;
    const sample = this.latencies.slice(0, Math.min(count, LATENCY_SAMPLE_SIZE)).sort();
    const at = (q: number) => round(sample[Math.min(sample.length - 1, Math.floor(q * sample.length))] ?? 0);
    return { count, p50: at(0.5), p99: at(0.99), max: round(sample[sample.length - 1] ?? 0) };
  }

  /** Drops publishes that never came back (an ID stored once already): the map holds arrival order. */
  private forgetStale(): void {
    const oldest = performance.now() - AWAITED_TTL_MS;
    for (const [id, arrivedAt] of this.awaited) {
      if (arrivedAt >= oldest) break;
      this.awaited.delete(id);
    }
  }

  /** The node list is read from the store in the background; each figure carries the last one read. */
  private refreshNodes(): void {
    if (this.listNodes === undefined || this.readingNodes) return;
    this.readingNodes = true;
    this.listNodes()
      .then(
        (nodes) => {
          if (this.timer !== undefined)
            this.nodes = nodes.map(({ id, subscriptions, self }) => ({ id, subscriptions, self }));
        },
        () => {
          // The store's health says what is wrong; the last list read stays.
        },
      )
      .finally(() => {
        this.readingNodes = false;
      });
  }
}

/** Milliseconds to the microsecond. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
