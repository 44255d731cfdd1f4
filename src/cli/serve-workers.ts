/**
 * `siar serve --workers <n|auto>`: several processes on one port serving as one hub. The primary
 * (node:cluster) checks the options, holds the history through `HubPrimary` (memory or SQLite: one
 * writer; for a store shared by nodes, such as Redis, each worker is a node of its own), forks the
 * workers, starts another in place of one that exits, and on SIGTERM shuts them all down
 * gracefully. Each worker serves the hub with the options its primary sent it.
 */
import cluster, { type Worker } from 'node:cluster';
import { joinHubPrimary } from '../hub/cluster/join.js';
import { isClusterMessage, type ToPrimary } from '../hub/cluster/messages.js';
import { DEFAULT_REPLICA_SIZE, HubPrimary } from '../hub/cluster/primary.js';
import { usableCores } from '../hub/cluster/process-limits.js';
import { closeHubServer, type HubServerOptions } from '../hub/hub-server.js';
import type { HubOptions } from '../hub/index.js';
import { openStore } from '../hub/stores/open.js';
import { type Logger, stderrLogger } from '../server/logger.js';
import { flagMistake } from './flags.js';
import {
  type Serving,
  type ServingHub,
  SHUTDOWN_BOUND_MS,
  SHUTDOWN_GRACE_MS,
  startHub,
} from './serve-hub.js';
import { UsageError } from './usage-error.js';

/** Most workers `--workers` takes. */
export const MAX_WORKERS = 256;
/** Longest a worker may take to listen, from its fork, in ms. */
export const WORKER_START_TIMEOUT_MS = 30_000;
/** Workers started in place of others within RESTART_WINDOW_MS, past which the hub gives up (exit 1). */
export const MAX_RESTARTS = 5;
export const RESTART_WINDOW_MS = 60_000;
/** The wait before another worker is started in place of one that exited, in ms. */
const RESTART_DELAY_MS = 200;
/** How long the workers get to shut down before they are killed: within `siar serve`'s own bound. */
const WORKERS_SHUTDOWN_MS = SHUTDOWN_BOUND_MS - 1000;

/** The number of workers `--workers` (`SIAR_WORKERS`) asks for: a count, or `auto` for one per usable core. */
export function workerCount(text: string): number {
  if (text === 'auto') return usableCores();
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > MAX_WORKERS) {
    throw flagMistake(
      'serve',
      `--workers must be a number from 1 to ${MAX_WORKERS}, or auto; got "${text}".`,
    );
  }
  return Number(text);
}

/** The stores the primary holds (one writer); any other is shared by nodes, and each worker opens it. */
function heldByPrimary(spec: string): boolean {
  return spec === 'memory' || spec.startsWith('sqlite:');
}

/** What the primary tells each worker to serve: JSON (keys, options, a certificate's PEM text). */
interface WorkerPlan {
  hub: Omit<HubOptions, 'store' | 'logger' | 'group'>;
  server: HubServerOptions;
  port: number;
  host?: string;
  /** Set when each worker opens the store itself (one shared by nodes). */
  sharedStore?: { spec: string; historySize?: number; redisCluster: boolean; storeTimeoutMs?: number };
}

/** What `siar serve` hands over once it has checked its options. */
export interface WorkersSpec {
  count: number;
  /** The hub's options; their `store` is the one `--store` opened (undefined for memory). */
  options: HubOptions;
  server: HubServerOptions;
  port: number;
  host: string | undefined;
  /** `--store` as given. */
  store: string;
  redisCluster: boolean;
}

/** Starts the primary and the workers; resolves once every worker listens. */
export async function serveWorkers(spec: WorkersSpec): Promise<Serving> {
  const { store, logger = stderrLogger, group: _group, ...hub } = spec.options;
  const held = heldByPrimary(spec.store);
  const { historySize, storeTimeoutMs } = hub;
  const tls = spec.server.tls;
  const plan: WorkerPlan = {
    hub,
    // PEM text, not Buffers: the channel carries JSON.
    server: { ...spec.server, tls: tls && { cert: String(tls.cert), key: String(tls.key) } },
    port: spec.port,
    host: spec.host,
    sharedStore: held
      ? undefined
      : { spec: spec.store, historySize, redisCluster: spec.redisCluster, storeTimeoutMs },
  };
  let primary: HubPrimary;
  try {
    primary = await HubPrimary.open({
      store: held ? store : false,
      historySize,
      replicaSize: Math.min(historySize ?? DEFAULT_REPLICA_SIZE, DEFAULT_REPLICA_SIZE),
      maxSubscribers: hub.maxSubscribers,
      maxSubscribersPerAddress: hub.maxSubscribersPerAddress,
      setup: plan,
      logger,
    });
  } catch (error) {
    throw new UsageError(`Cannot open the store ${spec.store}: ${(error as Error).message}`, 1);
  }
  const pool = new WorkerPool(spec.count, logger);
  let port: number;
  try {
    port = await pool.start();
  } catch (error) {
    await pool.close(primary);
    await primary.close();
    throw error;
  }
  return {
    port,
    close: async () => {
      await pool.close(primary);
      await primary.close();
    },
    failed: pool.failed,
  };
}

/**
 * The workers: forked, each awaited until it listens; one that exits is replaced (after
 * RESTART_DELAY_MS) unless the hub is stopping, or more than MAX_RESTARTS exited within
 * RESTART_WINDOW_MS (then `failed` says so).
 */
class WorkerPool {
  private stopping = false;
  private readonly live = new Set<Worker>();
  private readonly restarts: number[] = [];
  private fail: (message: string) => void = () => {};
  readonly failed = new Promise<string>((resolve) => {
    this.fail = resolve;
  });
  private readonly onExit = (worker: Worker, code: number | null, signal: string | null) =>
    this.exited(worker, code, signal);

  constructor(
    private readonly count: number,
    private readonly logger: Logger,
  ) {}

  /** Forks the workers; resolves with the port once every one of them listens. */
  async start(): Promise<number> {
    cluster.on('exit', this.onExit);
    const ports = await Promise.all(Array.from({ length: this.count }, () => this.fork()));
    return ports[0] as number;
  }

  /** Forks a worker and waits until it listens: resolves with its port, rejects with why it did not. */
  private fork(): Promise<number> {
    const worker = cluster.fork();
    this.live.add(worker);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      const timer = setTimeout(() => {
        done();
        worker.process.kill('SIGKILL');
        reject(new UsageError(`A worker did not listen within ${WORKER_START_TIMEOUT_MS / 1000} s.`, 1));
      }, WORKER_START_TIMEOUT_MS);
      const onMessage = (message: unknown) => {
        if (!isClusterMessage(message)) return;
        const said = message as ToPrimary;
        if (said.siar === 'listening') {
          done();
          resolve(said.port);
        } else if (said.siar === 'start-failed') {
          done();
          reject(new UsageError(said.message, 1));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        reject(new UsageError(`A worker exited (${signal ?? `status ${code}`}) before it listened.`, 1));
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    if (!this.live.delete(worker) || this.stopping) return;
    const now = Date.now();
    this.restarts.push(now);
    while ((this.restarts[0] as number) < now - RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length > MAX_RESTARTS) {
      this.fail(
        `${this.restarts.length} workers exited within ${RESTART_WINDOW_MS / 1000} s: the hub stops.`,
      );
      return;
    }
    this.logger.warn(
      { pid: worker.process.pid, code, signal },
      'A worker exited: starting another in its place (its clients come back with Last-Event-ID).',
    );
    setTimeout(() => {
      if (this.stopping) return;
      this.fork().catch((error: Error) =>
        this.logger.warn({ error: error.message }, 'A worker did not start.'),
      );
    }, RESTART_DELAY_MS);
  }

  /**
   * Shuts every worker down gracefully, as one hub (`HubPrimary.shutdown`); kills those still
   * there after WORKERS_SHUTDOWN_MS.
   */
  async close(primary: HubPrimary): Promise<void> {
    this.stopping = true;
    cluster.off('exit', this.onExit);
    const workers = [...this.live];
    const exits = workers.map(
      (worker) =>
        new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve()))),
    );
    primary.shutdown(SHUTDOWN_GRACE_MS);
    // One whose channel is gone cannot be told (one that has not joined yet is told when it does).
    for (const worker of workers) if (!worker.isConnected()) worker.process.kill('SIGKILL');
    const timer = setTimeout(() => {
      for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL');
    }, WORKERS_SHUTDOWN_MS);
    await Promise.all(exits);
    clearTimeout(timer);
    this.live.clear();
  }
}

/** Log lines that say which worker wrote them. */
function workerLogger(worker: number): Logger {
  const tag = (fields: Record<string, unknown>) => ({ worker, ...fields });
  return {
    debug: (fields, message) => stderrLogger.debug(tag(fields), message),
    info: (fields, message) => stderrLogger.info(tag(fields), message),
    warn: (fields, message) => stderrLogger.warn(tag(fields), message),
    error: (fields, message) => stderrLogger.error(tag(fields), message),
  };
}

/** Tells the primary, then exits: the message goes out before the process does. */
function tellAndExit(message: ToPrimary, code: number): Promise<never> {
  return new Promise(() => {
    if (process.connected) process.send?.(message, undefined, {}, () => process.exit(code));
    else process.exit(code);
  });
}

/**
 * A worker: joins the primary, serves the hub it describes, and shuts down when the primary says
 * so. SIGTERM and SIGINT reach every process of the group (a service manager, Ctrl-C): the primary
 * alone acts on them, so a worker waits for its word.
 */
export async function serveAsWorker(): Promise<number> {
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  let serving: ServingHub;
  let shutdown: Promise<{ graceMs: number }>;
  try {
    const joined = await joinHubPrimary();
    shutdown = joined.shutdown;
    const plan = joined.setup as WorkerPlan;
    const shared = plan.sharedStore;
    const store =
      joined.store ??
      (shared &&
        (await openStore(shared.spec, {
          historySize: shared.historySize,
          redisCluster: shared.redisCluster,
          storeTimeoutMs: shared.storeTimeoutMs,
        })));
    serving = await startHub(
      { ...plan.hub, store, logger: workerLogger(joined.worker), group: joined.group },
      plan.server,
      plan.port,
      plan.host,
    );
  } catch (error) {
    return tellAndExit({ siar: 'start-failed', message: (error as Error).message }, 1);
  }
  process.send?.({ siar: 'listening', port: serving.port } satisfies ToPrimary);
  await closeHubServer(serving.server, await shutdown);
  process.exit(0);
}
