/**
 * The dashboard's data, shared by the hub (which sends it) and the page (which draws it). No imports:
 * the page's bundle takes this file as it is.
 */

/** The reserved topic on which a hub sends its own figures, once a second, to subscribers allowed to see them. */
export const DASHBOARD_TOPIC = '/.well-known/mercure/dashboard';

/** Publish-to-dispatch latency of the updates of one interval, in milliseconds. */
export interface LatencyFigures {
  /** Updates measured in the interval (the percentiles are over the last 1,000 of them). */
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** One node of a hub on Redis, as the dashboard lists it. */
export interface DashboardNode {
  id: string;
  /** Subscriptions the node lists. */
  subscriptions: number;
  /** True for the node that sent these figures. */
  self: boolean;
}

/** What a hub sends on {@link DASHBOARD_TOPIC}: one JSON object per interval. Counters count since the hub started. */
export interface DashboardFigures {
  /** When the figures were taken (ms since the epoch, the hub's clock). */
  time: number;
  /** The interval between two figures, in ms. */
  intervalMs: number;
  /** When this hub started (ms since the epoch). */
  startedAt: number;
  subscribers: number;
  subscribersTotal: number;
  /** Updates this node accepted. */
  updatesPublished: number;
  /** Updates this node dispatched to its subscribers (from any node). */
  updatesDispatched: number;
  /** Update frames written to subscribers. */
  deliveries: number;
  /** Streams closed because their client did not read. */
  slowConsumersClosed: number;
  historySize: number;
  store: { kind: string; ok: boolean; detail?: string };
  /** Selectors in use and how many subscribers use each, most used first. */
  topSelectors: Array<{ selector: string; subscribers: number }>;
  /** Latency of the updates published on this node during the last interval; null when none was. */
  latency: LatencyFigures | null;
  /** The hub's nodes when its store is shared (Redis); null for a hub of one process. */
  nodes: DashboardNode[] | null;
}
