/**
 * What one process of this machine may use: the cores it may run on, which bound the workers worth
 * starting. (Its open-file limit, which bounds the subscribers it can hold, is capacity.ts's.)
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
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
