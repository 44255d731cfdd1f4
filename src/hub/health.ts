import type { ServerResponse } from 'node:http';
import type { HealthAnswer, HubGroup } from './cluster/hub-group.js';
import type { DashboardFigures } from './dashboard-figures.js';
import type { HubCounters } from './metrics.js';
import type { HubStore } from './stores/store.js';

/**
 * Live figures of a hub, for health checks and the dashboard: the dashboard's figures
 * (`dashboard-figures.ts`, which documents each) without those of its feed. `topSelectors` lists at
 * most 20.
 */
export type HubStats = Omit<
  DashboardFigures,
  'time' | 'intervalMs' | 'startedAt' | 'slowConsumersClosed' | 'latency' | 'nodes'
>;

/** Selectors listed in `topSelectors`. */
export const TOP_SELECTORS = 20;

/** What the hub's figures are read from. */
export interface HealthParts {
  readonly store: HubStore;
  readonly counters: HubCounters;
  readonly subscribers: { readonly size: number; selectorCounts(): Map<string, number> };
  readonly lifecycle: { readonly closing: boolean };
  /** Set when this process is one of several serving as the hub: `/healthz` then speaks for them all. */
  readonly group?: HubGroup;
}

/** The hub's figures now. */
export function hubStats({ store, counters, subscribers }: HealthParts): HubStats {
  const topSelectors = [...subscribers.selectorCounts()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_SELECTORS)
    .map(([selector, count]) => ({ selector, subscribers: count }));
  return {
    subscribers: subscribers.size,
    subscribersTotal: counters.subscribersTotal,
    updatesPublished: counters.updatesPublished,
    updatesDispatched: counters.updatesDispatched,
    deliveries: counters.deliveries,
    historySize: store.historySize(),
    store: { kind: store.kind, ...store.health() },
    topSelectors,
  };
}

/** `GET /healthz`: 200 while the store is up and the hub open, else 503; the state in JSON. */
export function answerHealth(
  res: ServerResponse,
  { store, subscribers, lifecycle, counters, group }: HealthParts,
): void {
  const health = store.health();
  const closing = lifecycle.closing;
  res.writeHead(health.ok && !closing ? 200 : 503, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  });
  const answer: HealthAnswer = {
    status: closing ? 'closing' : health.ok ? 'ok' : 'degraded',
    store: { kind: store.kind, ...health },
    subscribers: subscribers.size,
  };
  // The most it holds (maxSubscribers, within the descriptor limit: capacity.ts); a group's are its processes'.
  res.end(
    JSON.stringify(group ? group.health(answer) : { ...answer, capacity: counters.subscriberCapacity }),
  );
}
