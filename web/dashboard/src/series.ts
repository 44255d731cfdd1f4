// The dashboard's memory: the figures of the last few minutes, and rates computed from successive counters.
import type { DashboardFigures, LatencyFigures } from '../../../src/hub/dashboard-figures.js';

/** How much the charts show. */
export const WINDOW_MS = 5 * 60_000;

/** One moment of the charts. A rate is null for the first figures and after the hub restarted. */
export interface Point {
  time: number;
  subscribers: number;
  publishedPerSecond: number | null;
  dispatchedPerSecond: number | null;
  deliveriesPerSecond: number | null;
  latencyP50: number | null;
  latencyP99: number | null;
}

export interface History {
  points: Point[];
  /** The latest figures. */
  last: DashboardFigures | null;
  /** Figures received since the page opened. */
  received: number;
  /** The latest second with a publish: when, and its latency. */
  lastLatency: { time: number; latency: LatencyFigures } | null;
}

export const EMPTY_HISTORY: History = { points: [], last: null, received: 0, lastLatency: null };

function rate(now: number, before: number, seconds: number): number | null {
  return seconds > 0 && now >= before ? (now - before) / seconds : null;
}

/** The history with new figures added, and what fell out of the window dropped. */
export function addFigures(history: History, figures: DashboardFigures): History {
  const previous = history.last;
  // A hub that restarted starts its counters again: no rate across it.
  const continuous =
    previous !== null && previous.startedAt === figures.startedAt && figures.time > previous.time;
  const seconds = continuous ? (figures.time - previous.time) / 1000 : 0;
  const point: Point = {
    time: figures.time,
    subscribers: figures.subscribers,
    publishedPerSecond: continuous
      ? rate(figures.updatesPublished, previous.updatesPublished, seconds)
      : null,
    dispatchedPerSecond: continuous
      ? rate(figures.updatesDispatched, previous.updatesDispatched, seconds)
      : null,
    deliveriesPerSecond: continuous ? rate(figures.deliveries, previous.deliveries, seconds) : null,
    latencyP50: figures.latency?.p50 ?? null,
    latencyP99: figures.latency?.p99 ?? null,
  };
  const since = figures.time - WINDOW_MS;
  const kept = history.points.filter((earlier) => earlier.time > since && earlier.time < figures.time);
  kept.push(point);
  return {
    points: kept,
    last: figures,
    received: history.received + 1,
    lastLatency: figures.latency ? { time: figures.time, latency: figures.latency } : history.lastLatency,
  };
}
