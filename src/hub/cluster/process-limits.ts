/**
 * What one process of this machine may use: its open-file limit, which bounds the subscribers it can
 * hold, and the cores it may run on, which bound the workers worth starting.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * Descriptors a worker keeps for everything but subscribers: publishers, `/healthz`, its store's
 * connections, the cluster channel, files. Past `limit − reserve` subscribers it refuses more (503).
 */
export const DESCRIPTOR_RESERVE = 200;
/** What a process may hold when its limit cannot be read (not Linux): Node's usual soft limit. */
const UNKNOWN_DESCRIPTOR_LIMIT = 1024;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** This process's soft limit on open descriptors (`ulimit -n`), from /proc/self/limits. */
export function descriptorLimit(): number {
  const match = read('/proc/self/limits')?.match(/^Max open files\s+(\d+|unlimited)/m);
  if (match === null || match === undefined) return UNKNOWN_DESCRIPTOR_LIMIT;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/** The subscribers this process can hold: its descriptor limit, less the reserve. */
export function subscriberCapacity(limit = descriptorLimit()): number {
  return Math.max(1, limit - DESCRIPTOR_RESERVE);
}

/**
 * The cores this process may use: those its CPU affinity allows (`availableParallelism`), at most
 * its cgroup's CPU quota (cgroup v2 `cpu.max`, as a container's `--cpus` sets it), at least one.
 */
export function usableCores(): number {
  const cores = availableParallelism();
  const quota = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (quota === undefined || quota[0] === 'max') return cores;
  const share = Number(quota[0]) / Number(quota[1]);
  return Number.isFinite(share) && share > 0 ? Math.max(1, Math.min(cores, Math.ceil(share))) : cores;
}
