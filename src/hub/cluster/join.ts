import cluster from 'node:cluster';
import { descriptorBudget } from '../capacity.js';
import { HubError } from '../errors.js';
import type { HubStore } from '../stores/store.js';
import { ClusterStore } from './cluster-store.js';
import type { HubGroup } from './hub-group.js';
import { WorkerGroup } from './worker-group.js';
import { DEFAULT_CALL_TIMEOUT_MS, WorkerLink } from './worker-link.js';

/** Default longest a worker waits for the primary to take it in, in ms. */
export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;

/** A worker taken in by the primary: what to give `createHub`, and what the primary sent it. */
export interface HubWorker {
  /** Its number, 1…n (a worker that replaces another takes its number): `worker` in /healthz and /metrics. */
  readonly worker: number;
  /**
   * The `store` option of createHub: the primary's history over the cluster channel. Undefined when
   * the primary holds none (`store: false`): open a store shared by nodes (Redis) in each worker.
   */
  readonly store: HubStore | undefined;
  /** The `group` option of createHub: limits and figures of the whole hub. */
  readonly group: HubGroup;
  /** The primary's `setup` option. */
  readonly setup: unknown;
  /**
   * Resolves, with the grace for publishes in flight, when the primary shuts the hub down
   * (`HubPrimary.shutdown`): close the hub (`closeHubServer(server, { graceMs })`), then exit.
   */
  readonly shutdown: Promise<{ graceMs: number }>;
}

export interface JoinOptions {
  /** Longest a call to the primary (an append, a page of a replay, an admission) may take, in ms. Default 5,000. */
  callTimeoutMs?: number;
  /** Longest the primary may take to answer the join, in ms. Default 10,000. */
  joinTimeoutMs?: number;
}

/**
 * Joins the {@link HubPrimary} of this node:cluster worker: resolves once the primary took it in.
 * Its subscriber capacity (its open-file limit, less a reserve) goes to the primary, which admits no
 * more subscribers to it.
 */
export function joinHubPrimary(options: JoinOptions = {}): Promise<HubWorker> {
  if (!cluster.isWorker) {
    return Promise.reject(
      new HubError('invalid-option', 'joinHubPrimary() runs in a worker of node:cluster.'),
    );
  }
  const timeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
  const link = new WorkerLink(options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
  const shutdown = new Promise<{ graceMs: number }>((resolve) =>
    link.on('shutdown', ({ graceMs }) => resolve({ graceMs })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new HubError(
            'invalid-option',
            `The primary did not take this worker in within ${timeoutMs / 1000} s.`,
          ),
        ),
      timeoutMs,
    );
    link.on('setup', (setup) => {
      clearTimeout(timer);
      const store =
        setup.history === undefined
          ? undefined
          : new ClusterStore(link, setup.history, setup.at, setup.worker);
      resolve({
        worker: setup.worker,
        store,
        group: new WorkerGroup(link, setup.worker),
        setup: setup.setup,
        shutdown,
      });
    });
    link.send({ siar: 'join', pid: process.pid, capacity: descriptorBudget().subscribers });
  });
}
