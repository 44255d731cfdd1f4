/**
 * CPU time and memory of a process and all its descendants, read from /proc (Linux only).
 *
 * CPU is the sum of each thread's `sum_exec_runtime` (/proc/<pid>/task/<tid>/schedstat, in ns):
 * the tick-based utime/stime of /proc/<pid>/stat count in 10 ms steps, too coarse for a phase
 * that uses 50 ms. Memory is VmRSS of /proc/<pid>/status. Processes named `esbuild` are left
 * out: tsx (which runs the Node servers' TypeScript) keeps an esbuild transform service as a
 * child, a development tool that is not part of the server under test.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeSample {
  /** CPU time of the tree's live threads, in ns. */
  cpuNs: number;
  /** Resident memory of the tree, in bytes. */
  rssBytes: number;
  /** The processes counted. */
  pids: number[];
}

const EXCLUDED_COMMANDS = new Set(['esbuild']);
const TICK_NS = 1e9 / 100; // USER_HZ is 100 on Linux whatever the kernel's HZ.

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined; // The process or thread ended meanwhile.
  }
}

interface StatLine {
  pid: number;
  ppid: number;
  command: string;
  ticks: number;
}

/** Fields of /proc/<pid>/stat; the command is in parentheses and may itself hold spaces or parentheses. */
function statOf(pid: number): StatLine | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // After the command: state(0) ppid(1) … utime(11) stime(12).
  return {
    pid,
    ppid: Number(fields[1]),
    command: text.slice(open + 1, close),
    ticks: Number(fields[11]) + Number(fields[12]),
  };
}

/** `root` and all its descendants, with their /proc/<pid>/stat fields. */
export function processTree(root: number): StatLine[] {
  const byParent = new Map<number, StatLine[]>();
  let rootStat: StatLine | undefined;
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = statOf(pid);
    if (stat === undefined) continue;
    if (pid === root) rootStat = stat;
    const siblings = byParent.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else byParent.set(stat.ppid, [stat]);
  }
  if (rootStat === undefined) return [];
  const tree: StatLine[] = [];
  const queue = [rootStat];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    tree.push(next);
    for (const child of byParent.get(next.pid) ?? []) queue.push(child);
  }
  return tree;
}

/** CPU time of one process in ns: its threads' run time, or the tick count when schedstat is missing. */
function cpuNsOf(proc: StatLine): number {
  let total = 0;
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${proc.pid}/task`);
  } catch {
    return proc.ticks * TICK_NS;
  }
  for (const tid of threads) {
    const text = read(`/proc/${proc.pid}/task/${tid}/schedstat`);
    if (text === undefined) continue;
    total += Number(text.slice(0, text.indexOf(' ')));
  }
  // Threads that ended took their schedstat with them; their ticks are still in the process's stat.
  return Math.max(total, proc.ticks * TICK_NS);
}

function rssOf(pid: number): number {
  const text = read(`/proc/${pid}/status`);
  const match = text?.match(/^VmRSS:\s+(\d+) kB/m);
  return match ? Number(match[1]) * 1024 : 0;
}

function sampleOf(procs: readonly StatLine[]): TreeSample {
  let cpuNs = 0;
  let rssBytes = 0;
  const pids: number[] = [];
  for (const proc of procs) {
    if (EXCLUDED_COMMANDS.has(proc.command)) continue;
    cpuNs += cpuNsOf(proc);
    rssBytes += rssOf(proc.pid);
    pids.push(proc.pid);
  }
  return { cpuNs, rssBytes, pids };
}

/** CPU time and RSS of `root` and its descendants now. */
export function sampleTree(root: number): TreeSample {
  return sampleOf(processTree(root));
}

/** CPU time and RSS of these processes (not their descendants) now; those that ended count nothing. */
export function sampleProcesses(pids: readonly number[]): TreeSample {
  return sampleOf(pids.flatMap((pid) => statOf(pid) ?? []));
}

/** The soft and hard limits on open descriptors of a process. */
export function openFileLimits(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const match = read(`/proc/${pid}/limits`)?.match(/^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m);
  const value = (text: string | undefined) =>
    text === undefined || text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  return { soft: value(match?.[1]), hard: value(match?.[2]) };
}

export interface MachineSample {
  /** CPU time of all CPUs spent on anything but idling (user, system, interrupts, steal), in ns. */
  busyNs: number;
  /** Of which in software interrupts: the kernel's loopback TCP receive path runs there, counted in no process. */
  softirqNs: number;
}

/** Busy CPU time of the whole machine from /proc/stat (10 ms ticks, summed over CPUs). */
export function sampleMachine(): MachineSample {
  const line = read('/proc/stat')?.split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const ticks = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busyNs: ticks * TICK_NS, softirqNs: (softirq ?? 0) * TICK_NS };
}
