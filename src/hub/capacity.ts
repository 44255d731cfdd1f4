import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from '../server/logger.js';

/**
 * How many subscribers one process can hold, from the descriptors it may open (RLIMIT_NOFILE): each
 * subscriber over HTTP/1.1 holds one, and a process out of descriptors can take no connection at
 * all, not even a publisher's or `/healthz`'s. The hub keeps a reserve for those, the store and
 * the logs, and holds subscribers in what is left.
 */

/** The limit assumed where it cannot be read (not Linux, and no `sh` to ask): the usual soft limit. */
export const DEFAULT_DESCRIPTOR_LIMIT = 1024;
/** Descriptors a Node.js process holds before it serves anything, where they cannot be counted. */
export const STARTUP_DESCRIPTORS_ESTIMATE = 32;
/**
 * Descriptors a process keeps for everything but subscribers: those open when it starts (about 25),
 * publishers, `/healthz`, `/metrics`, the store and logs. `siar plan` plans with the same figure.
 */
export const DESCRIPTOR_RESERVE = 256;
/** The least kept for publishers and the rest beyond the descriptors open at start, however many those are. */
export const MIN_FREE_RESERVE = 64;
/**
 * Descriptors of the reserve no connection may take (the store reconnecting, log files): the server
 * refuses connections past the rest.
 */
export const STORE_AND_LOG_DESCRIPTORS = 32;
/** Below this limit the hub warns at start: it is the default of many systems, made for desktops. */
export const LOW_DESCRIPTOR_LIMIT = 4096;

/** The descriptor limit, and where it was read. */
export interface DescriptorLimit {
  /** The soft limit (Node.js raises it to the hard one as it starts); Infinity when unlimited. */
  limit: number;
  /** The hard limit, when known: only a privileged process may go above it. */
  hard: number | undefined;
  /** `RLIMIT_NOFILE` when read from the system, `default` when assumed ({@link DEFAULT_DESCRIPTOR_LIMIT}). */
  source: 'RLIMIT_NOFILE' | 'default';
}

/** What the descriptor limit leaves for connections and subscribers. */
export interface DescriptorBudget extends DescriptorLimit {
  /** Descriptors open when it was read. */
  open: number;
  /** Kept, beyond those open, for publishers, `/healthz`, `/metrics`, the store and logs. */
  reserve: number;
  /** Most subscribers the process can hold. */
  subscribers: number;
  /** Most connections at once, whatever they ask for; past them a connection is refused at once. */
  connections: number;
}

function limitValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === 'unlimited') return Number.POSITIVE_INFINITY;
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** The soft and hard limits of the "Max open files" line of a `/proc/<pid>/limits` text. */
export function parseProcLimits(text: string): { soft: number; hard: number } | undefined {
  const line = text.split('\n').find((row) => row.startsWith('Max open files'));
  const [soft, hard] = (line?.slice('Max open files'.length).trim().split(/\s+/) ?? []).map(limitValue);
  return soft === undefined || hard === undefined ? undefined : { soft, hard };
}

let cached: DescriptorLimit | undefined;

/**
 * This process's descriptor limit: `/proc/self/limits` on Linux; elsewhere what `ulimit -n` says in
 * a shell started from it (a child inherits the limit); on Windows none (sockets are not bounded
 * so); else {@link DEFAULT_DESCRIPTOR_LIMIT}. Read once per process: Node.js never changes it after
 * starting.
 */
export function readDescriptorLimit(): DescriptorLimit {
  if (cached !== undefined) return cached;
  if (process.platform === 'win32') {
    cached = { limit: Number.POSITIVE_INFINITY, hard: undefined, source: 'RLIMIT_NOFILE' };
    return cached;
  }
  try {
    const limits = parseProcLimits(readFileSync('/proc/self/limits', 'utf8'));
    if (limits !== undefined) cached = { limit: limits.soft, hard: limits.hard, source: 'RLIMIT_NOFILE' };
  } catch {
    // Not Linux: ask a shell.
  }
  if (cached === undefined) {
    const shell = spawnSync('/bin/sh', ['-c', 'ulimit -n; ulimit -Hn'], { encoding: 'utf8', timeout: 2000 });
    const [soft, hard] = (shell.stdout ?? '').trim().split('\n').map(limitValue);
    cached =
      soft === undefined
        ? { limit: DEFAULT_DESCRIPTOR_LIMIT, hard: undefined, source: 'default' }
        : { limit: soft, hard, source: 'RLIMIT_NOFILE' };
  }
  return cached;
}

/** Descriptors this process holds now (Linux), else {@link STARTUP_DESCRIPTORS_ESTIMATE}. */
export function openDescriptors(): number {
  try {
    // The listing itself holds one while it reads.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return STARTUP_DESCRIPTORS_ESTIMATE;
  }
}

/** What is kept beyond the `open` descriptors: the rest of {@link DESCRIPTOR_RESERVE}, at least {@link MIN_FREE_RESERVE}. */
function reserveBeyond(open: number): number {
  return Math.max(DESCRIPTOR_RESERVE - open, MIN_FREE_RESERVE);
}

/**
 * What `limit` leaves, with `open` descriptors held already. Under a tiny limit the reserve takes at
 * most half of what is free, so that some subscribers still get in.
 */
export function budgetOf(limit: DescriptorLimit, open: number): DescriptorBudget {
  if (!Number.isFinite(limit.limit)) {
    const none = Number.MAX_SAFE_INTEGER;
    return { ...limit, open, reserve: 0, subscribers: none, connections: none };
  }
  const free = Math.max(0, limit.limit - open);
  const reserve = Math.min(reserveBeyond(open), Math.floor(free / 2));
  return {
    ...limit,
    open,
    reserve,
    subscribers: free - reserve,
    connections: Math.max(1, free - Math.min(STORE_AND_LOG_DESCRIPTORS, Math.floor(reserve / 2))),
  };
}

/** This process's budget now. */
export function descriptorBudget(): DescriptorBudget {
  return budgetOf(readDescriptorLimit(), openDescriptors());
}

/** The limit that would hold `subscribers` with this budget's open descriptors and reserve. */
function limitFor(subscribers: number, budget: DescriptorBudget): number {
  // A round figure is easier to read and to type.
  return Math.ceil((subscribers + budget.open + reserveBeyond(budget.open)) / 1024) * 1024;
}

function howToRaise(limit: number): string {
  return (
    `raise the limit: ulimit -n ${limit} in the shell that starts the hub, LimitNOFILE=${limit} in its ` +
    `systemd unit, or docker run --ulimit nofile=${limit}`
  );
}

/**
 * The most subscribers a hub holds: `requested` (`maxSubscribers`), or less when the descriptor
 * limit cannot hold that many. Logs a warning saying so, what limits it and how to raise it, and one
 * when the limit is low whatever was asked.
 */
export function subscriberCapacity(
  requested: number,
  given: boolean,
  budget: DescriptorBudget,
  logger: Logger,
): number {
  const fields = {
    descriptorLimit: budget.limit,
    hardLimit: budget.hard,
    descriptorsOpen: budget.open,
    reserve: budget.reserve,
    maxSubscribers: requested,
  };
  const why =
    `this process may open ${budget.limit} descriptors (${budget.source === 'default' ? 'assumed: the limit could not be read' : 'RLIMIT_NOFILE'}), ` +
    `${budget.open} are open, and ${budget.reserve} more are kept for publishers, /healthz, /metrics, the store and logs`;
  if (requested > budget.subscribers) {
    const asked = given
      ? `not the ${requested} asked for (maxSubscribers, --max-subscribers)`
      : `not the default maxSubscribers of ${requested}`;
    logger.warn(
      { ...fields, capacity: budget.subscribers },
      `The hub holds at most ${budget.subscribers} subscribers, ${asked}: ${why}. More get 503 with Retry-After. ` +
        `To hold ${requested}, ${howToRaise(limitFor(requested, budget))}` +
        (budget.hard !== undefined && budget.hard < limitFor(requested, budget)
          ? ` (above the hard limit of ${budget.hard}: as root, or in the unit's or container's settings).`
          : '.'),
    );
    return budget.subscribers;
  }
  if (budget.limit < LOW_DESCRIPTOR_LIMIT) {
    logger.warn(
      { ...fields, capacity: budget.subscribers },
      `The descriptor limit is low: ${why}, so the hub could hold no more than ${budget.subscribers} subscribers. ` +
        `For more, ${howToRaise(LOW_DESCRIPTOR_LIMIT * 16)}.`,
    );
  }
  return requested;
}
