import type { Registry } from 'prom-client';
import type { HubFigures } from '../dashboard.js';
import type { HubCounters } from '../metrics.js';

/** A process's own figures, as a hub hands them to its group: the dashboard's, and the publishes refused. */
export type ProcessFigures = HubFigures & { publishRefused: number };

/** What `/healthz` answers: of one process, to which its group adds the others. */
export interface HealthAnswer {
  status: string;
  store: { kind: string; ok: boolean; detail?: string };
  /** Subscribers of the whole hub. */
  subscribers: number;
  /** The worker that answered. */
  worker?: number;
  /** Every worker, with its subscribers. */
  workers?: Array<{ worker: number; pid: number; subscribers: number }>;
}

/**
 * The other processes a hub serves as one with (`siar serve --workers`, or an application's own
 * node:cluster workers, `joinHubPrimary()`): the hub's `group` option. With it, a hub admits each
 * subscriber against the limits of the whole hub, and answers `/healthz`, `/metrics` and the
 * dashboard with the figures of the whole hub: its own, now, and the others' as they last sent them
 * (at most a couple of seconds old).
 */
export interface HubGroup {
  /** This process's name in the group: the `X-Siar-Worker` header of its streams. */
  readonly member: string;
  /** Hands the group this process's own figures, read from then on (once a second). */
  attach(local: () => ProcessFigures): void;
  /**
   * Resolves once the group admits one more subscriber from `address`: the whole hub's
   * `maxSubscribers` and `maxSubscribersPerAddress`, and this process's own capacity. Rejects with
   * the `HubError` to answer (503, 429, with `Retry-After`).
   */
  admit(address: string): Promise<void>;
  /** A subscriber `admit` let in has left. */
  leave(address: string): void;
  /** The whole hub's figures, from this process's (`local`, now) and the others'. */
  figures(local: ProcessFigures): ProcessFigures;
  /** The whole hub's counters, read through `local` and the others' figures, for `/metrics`. */
  counters(local: HubCounters): HubCounters;
  /** Adds each process's figures, labelled `worker`, to the hub's Prometheus registry. */
  registerMetrics(registry: Registry): void;
  /** `/healthz` for the whole hub: its subscribers summed, which process answered, each one's figures. */
  health(local: HealthAnswer): HealthAnswer;
  /**
   * Resolves once every process's publishes in flight have ended, when the whole hub shuts down
   * (at once otherwise): the hub calls it once its own have, before it ends its streams, so that
   * every subscriber gets every update acknowledged before its `retry:`.
   */
  drained(): Promise<void>;
  /** Stops sending figures; the hub is closing. */
  close(): void;
}
