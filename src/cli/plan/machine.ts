/**
 * What this machine offers a hub, read from the kernel (Linux: /proc, /proc/sys and the cgroup
 * files of a container) and from Node: cores, memory, the descriptor limits of a process, the
 * listen backlog cap, the local port range, the kernel's TCP memory. A value the system does not
 * give (another OS, a file not readable) is undefined, and the plan says it assumed one.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

/** Where each figure came from, for the plan to say. */
export const MACHINE_SOURCES = {
  cores: 'os.availableParallelism(), lowered by a cgroup CPU quota',
  memoryBytes: 'os.totalmem(), lowered by a cgroup memory limit',
  descriptors: '/proc/self/limits, "Max open files"',
  somaxconn: '/proc/sys/net/core/somaxconn',
  localPortRange: '/proc/sys/net/ipv4/ip_local_port_range',
  tcpMemPages: '/proc/sys/net/ipv4/tcp_mem',
  fileMax: '/proc/sys/fs/file-max',
  nrOpen: '/proc/sys/fs/nr_open',
  heapLimitBytes: "v8.getHeapStatistics().heap_size_limit (this Node's default)",
} as const;

export interface Machine {
  /** CPUs this process may use. */
  cores: number;
  /** Memory of the machine, or of the container when it has a lower limit. */
  memoryBytes: number;
  /** Open descriptors a process may hold now (`ulimit -Sn`) and at most without root (`ulimit -Hn`). */
  descriptorSoftLimit: number | undefined;
  descriptorHardLimit: number | undefined;
  /** The kernel's cap on a listen backlog. */
  somaxconn: number | undefined;
  /** Ephemeral ports for outgoing connections (a proxy's to the hub), first and last. */
  localPortRange: [number, number] | undefined;
  /** The kernel's TCP memory thresholds (low, pressure, high), in pages. */
  tcpMemPages: [number, number, number] | undefined;
  /** Bytes of a page (the unit of tcp_mem). */
  pageBytes: number;
  /** Open files in the whole system, and the ceiling of a process's hard limit. */
  fileMax: number | undefined;
  nrOpen: number | undefined;
  /** Largest JavaScript heap of a Node process with the default options. */
  heapLimitBytes: number;
}

/** The page size of every Linux machine Node runs on but a few arm64 kernels (which use 16 or 64 KiB). */
const DEFAULT_PAGE_BYTES = 4096;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The whitespace-separated integers of a /proc/sys file; undefined when absent or not all numbers. */
function readNumbers(path: string): number[] | undefined {
  const text = readText(path)?.trim();
  if (text === undefined || text === '') return undefined;
  const numbers = text.split(/\s+/).map(Number);
  return numbers.every(Number.isFinite) ? numbers : undefined;
}

function readNumber(path: string): number | undefined {
  return readNumbers(path)?.[0];
}

/** The soft and hard "Max open files" of a /proc/<pid>/limits text. */
export function parseDescriptorLimits(limits: string): { soft: number; hard: number } | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (!match) return undefined;
  const value = (text: string) => (text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text));
  return { soft: value(match[1] as string), hard: value(match[2] as string) };
}

/** CPUs a cgroup's quota allows (v2 `cpu.max`, v1 `cfs_quota_us` / `cfs_period_us`); undefined for none. */
function cgroupCores(): number | undefined {
  const v2 = readText('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2[0] !== 'max' && Number(v2[1]) > 0) return Number(v2[0]) / Number(v2[1]);
  const quota = readNumber('/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const period = readNumber('/sys/fs/cgroup/cpu/cpu.cfs_period_us');
  if (quota !== undefined && period !== undefined && quota > 0 && period > 0) return quota / period;
  return undefined;
}

/** A cgroup's memory limit (v2 `memory.max`, v1 `limit_in_bytes`); undefined for none. */
function cgroupMemory(): number | undefined {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    const limit = readNumber(path);
    // v1 writes "no limit" as a number near 2^63.
    if (limit !== undefined && limit < 2 ** 60) return limit;
  }
  return undefined;
}

/** The page size, from the kernel's own account of this process's memory. */
function pageBytes(): number {
  const match = /^KernelPageSize:\s+(\d+) kB/m.exec(readText('/proc/self/smaps') ?? '');
  return match ? Number(match[1]) * 1024 : DEFAULT_PAGE_BYTES;
}

/** Reads this machine. */
export function readMachine(): Machine {
  const quota = cgroupCores();
  const limit = cgroupMemory();
  const descriptors = parseDescriptorLimits(readText('/proc/self/limits') ?? '');
  const ports = readNumbers('/proc/sys/net/ipv4/ip_local_port_range');
  const tcpMem = readNumbers('/proc/sys/net/ipv4/tcp_mem');
  return {
    cores: Math.max(1, Math.floor(Math.min(availableParallelism(), quota ?? Number.POSITIVE_INFINITY))),
    memoryBytes: Math.min(totalmem(), limit ?? Number.POSITIVE_INFINITY),
    descriptorSoftLimit: descriptors?.soft,
    descriptorHardLimit: descriptors?.hard,
    somaxconn: readNumber('/proc/sys/net/core/somaxconn'),
    localPortRange: ports?.length === 2 ? [ports[0] as number, ports[1] as number] : undefined,
    tcpMemPages:
      tcpMem?.length === 3 ? [tcpMem[0] as number, tcpMem[1] as number, tcpMem[2] as number] : undefined,
    pageBytes: pageBytes(),
    fileMax: readNumber('/proc/sys/fs/file-max'),
    nrOpen: readNumber('/proc/sys/fs/nr_open'),
    heapLimitBytes: getHeapStatistics().heap_size_limit,
  };
}
