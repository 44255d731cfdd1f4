import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { serverStats } from '../server/stats.js';
import { connectionStats } from './connection-limit.js';
import type { StoreFaults } from './stores/store.js';

/** Counters the hub keeps as plain numbers on its hot paths; Prometheus reads them when scraped. */
export interface HubCounters {
  subscribersConnected: number;
  subscribersTotal: number;
  updatesPublished: number;
  updatesDispatched: number;
  deliveries: number;
  publishRefused: number;
  /** The most subscribers the hub holds (maxSubscribers, within the descriptor limit). */
  subscriberCapacity: number;
  /** Subscribers refused (503) because the hub held its most. */
  subscribersRefusedCapacity: number;
  /** Store calls that did not answer within storeTimeoutMs. */
  storeTimeouts: number;
  /** What the store counts of the faults it rode through, when it counts them. */
  storeFaults: StoreFaults | undefined;
  historySize: () => number;
  storeUp: () => boolean;
}

/** The hub's Prometheus registry (its own, so several hubs in one process do not collide). */
export class HubMetrics {
  readonly registry = new Registry();
  readonly storeAppendSeconds: Histogram;

  constructor(counters: HubCounters, storeKind: string) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    // Counters whose value lives elsewhere: `collect` copies it in, `inc` keeps Prometheus' rules.
    const counter = (name: string, help: string, read: () => number) => {
      let seen = 0;
      return new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          const now = read();
          if (now > seen) this.inc(now - seen);
          seen = now;
        },
      });
    };
    gauge('siar_subscribers_connected', 'Subscribers connected now.', () => counters.subscribersConnected);
    counter(
      'siar_subscribers_total',
      'Subscribers that connected since the hub started.',
      () => counters.subscribersTotal,
    );
    counter('siar_updates_published_total', 'Updates accepted by this hub.', () => counters.updatesPublished);
    counter(
      'siar_updates_dispatched_total',
      'Updates dispatched by this hub (from any node).',
      () => counters.updatesDispatched,
    );
    counter('siar_deliveries_total', 'Update frames written to subscribers.', () => counters.deliveries);
    counter(
      'siar_publish_refused_total',
      'Publish requests refused (4xx or 5xx).',
      () => counters.publishRefused,
    );
    counter(
      'siar_slow_consumers_closed_total',
      'Streams closed because their client did not read.',
      () => serverStats.slowConsumersClosed,
    );
    gauge(
      'siar_subscriber_capacity',
      'Most subscribers the hub holds: maxSubscribers, within what the descriptor limit allows.',
      () => counters.subscriberCapacity,
    );
    counter(
      'siar_subscribers_refused_capacity_total',
      'Subscribers refused (503) because the hub held its most.',
      () => counters.subscribersRefusedCapacity,
    );
    counter(
      'siar_connections_refused_total',
      'Connections refused at once (503) because the server held as many as its descriptor limit allows.',
      () => connectionStats.refused,
    );
    counter(
      'siar_accept_errors_total',
      'Connections the server could not accept (EMFILE, ENFILE: out of descriptors).',
      () => connectionStats.acceptErrors,
    );
    counter(
      'siar_store_timeouts_total',
      'Store calls that did not answer within storeTimeoutMs (answered 503).',
      () => counters.storeTimeouts,
    );
    counter(
      'siar_store_appends_ridden_through_total',
      'Publishes that waited for the connection to the store to come back, and were stored.',
      () => counters.storeFaults?.appendsRiddenThrough ?? 0,
    );
    counter(
      'siar_store_links_replaced_total',
      'Connections to the store dropped and made again because nothing came on them in time.',
      () => counters.storeFaults?.linksReplaced ?? 0,
    );
    gauge('siar_history_size', 'Updates kept in the history.', counters.historySize);
    gauge(`siar_store_up`, `1 when the ${storeKind} store is healthy.`, () => (counters.storeUp() ? 1 : 0));
    // The names of the reference hub's metrics, so existing dashboards work as they are.
    gauge(
      'mercure_subscribers_connected',
      'Subscribers connected now (reference hub name).',
      () => counters.subscribersConnected,
    );
    counter(
      'mercure_subscribers_total',
      'Subscribers since start (reference hub name).',
      () => counters.subscribersTotal,
    );
    counter(
      'mercure_updates_total',
      'Updates published (reference hub name).',
      () => counters.updatesPublished,
    );
    this.storeAppendSeconds = new Histogram({
      name: 'siar_store_append_seconds',
      help: 'Time the store took to accept an update.',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
