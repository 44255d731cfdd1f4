/**
 * From what one run recorded (the load generator's counts, and CPU and memory of the server, the
 * load generator and the store sampled at the script's marks) to the figures the report shows,
 * and from several repeats to their medians.
 */
import type { LoadgenResult } from '../loadgen/messages.js';
import type { MachineSample, TreeSample } from './proc.js';
import type { ScenarioParams } from './scenarios.js';

export interface MarkSample {
  /** When it was taken (ns, the orchestrator's monotonic clock). */
  atNs: number;
  machine: MachineSample;
  server: TreeSample;
  loadgen: TreeSample;
  /** The store's engine (Redis, PostgreSQL's backends, NATS), for the hub on a shared store. */
  store?: TreeSample;
}

/** Figures of one run, by name; what a scenario does not measure is absent. */
export type Metrics = Record<string, number>;

/** Names of figures that count correctness failures: over repeats they are summed, not medianed. */
export const COUNTS =
  /(^|\.)(lost|dups|malformed|connectFailed|reconnectFailed|serverCloses|reconnectFailures|incomplete)$/;

function sample(samples: Map<string, MarkSample>, name: string): MarkSample {
  const found = samples.get(name);
  if (found === undefined) throw new Error(`no sample at mark "${name}"`);
  return found;
}

/** CPU (ns) of `who` between two marks. */
function cpuBetween(
  samples: Map<string, MarkSample>,
  from: string,
  to: string,
  who: 'server' | 'loadgen' | 'store',
): number {
  const a = sample(samples, from)[who];
  const b = sample(samples, to)[who];
  return a === undefined || b === undefined ? Number.NaN : b.cpuNs - a.cpuNs;
}

function copy(values: Record<string, number>, metrics: Metrics, names: string[], prefix = ''): void {
  for (const name of names) {
    const value = values[`${prefix}${name}`];
    if (value !== undefined) metrics[`${prefix}${name}`] = value;
  }
}

/** Connect rate and memory per stream, between `<prefix>before-connect` and `after`. */
function connection(
  values: Record<string, number>,
  samples: Map<string, MarkSample>,
  metrics: Metrics,
  after = 'connected',
  prefix = '',
): void {
  const connected = values[`${prefix}connected`] ?? 0;
  metrics[`${prefix}connected`] = connected;
  metrics[`${prefix}connectFailed`] = values[`${prefix}connectFailed`] ?? 0;
  metrics[`${prefix}connectPerSec`] = connected / ((values[`${prefix}connectMs`] ?? Number.NaN) / 1000);
  const before = sample(samples, `${prefix}before-connect`).server.rssBytes;
  const later = sample(samples, `${prefix}${after}`).server.rssBytes;
  metrics[`${prefix}rssBefore`] = before;
  metrics[`${prefix}rssAfter`] = later;
  metrics[`${prefix}bytesPerConnection`] = connected > 0 ? (later - before) / connected : Number.NaN;
  metrics[`${prefix}serverCpuUsPerConnect`] =
    cpuBetween(samples, `${prefix}before-connect`, `${prefix}connected`, 'server') / 1000 / connected;
  metrics[`${prefix}loadgenCpuUsPerConnect`] =
    cpuBetween(samples, `${prefix}before-connect`, `${prefix}connected`, 'loadgen') / 1000 / connected;
}

/** CPU per unit of work (µs) of the server, the load generator and the store between two marks. */
function perUnit(
  samples: Map<string, MarkSample>,
  from: string,
  to: string,
  units: number,
  metrics: Metrics,
  name: string,
  prefix = '',
): void {
  metrics[`${prefix}server${name}`] = cpuBetween(samples, from, to, 'server') / 1000 / units;
  metrics[`${prefix}loadgen${name}`] = cpuBetween(samples, from, to, 'loadgen') / 1000 / units;
  const store = cpuBetween(samples, from, to, 'store');
  if (!Number.isNaN(store)) metrics[`${prefix}store${name}`] = store / 1000 / units;
}

/**
 * Share of one core (0.5 = half a core) the machine spent between two marks on anything but the
 * server, the load generator and the store: software interrupts (the loopback TCP receive path,
 * which no process is charged for) and other processes (noise: this machine may be shared).
 */
function otherCpu(
  samples: Map<string, MarkSample>,
  from: string,
  to: string,
  metrics: Metrics,
  prefix = '',
): void {
  const a = sample(samples, from);
  const b = sample(samples, to);
  const seconds = (b.atNs - a.atNs) / 1e9;
  const busy = b.machine.busyNs - a.machine.busyNs;
  const softirq = b.machine.softirqNs - a.machine.softirqNs;
  const own = ['server', 'loadgen', 'store'] as const;
  const accounted = own.reduce((sum, who) => {
    const cpu = cpuBetween(samples, from, to, who);
    return Number.isNaN(cpu) ? sum : sum + cpu;
  }, 0);
  metrics[`${prefix}softirqShare`] = softirq / 1e9 / seconds;
  metrics[`${prefix}otherCpuShare`] = Math.max(0, busy - softirq - accounted) / 1e9 / seconds;
}

export function measure(
  params: ScenarioParams,
  result: LoadgenResult,
  samples: Map<string, MarkSample>,
): Metrics {
  const { values } = result;
  const metrics: Metrics = {};
  copy(values, metrics, ['serverCloses', 'reconnects', 'reconnectFailures', 'malformed']);
  switch (params.kind) {
    case 'fanout':
    case 'latency': {
      connection(values, samples, metrics);
      const deliveries = values.deliveries ?? 0;
      const seconds = (values.phaseMs ?? Number.NaN) / 1000;
      metrics.deliveries = deliveries;
      metrics.deliveriesPerSec = deliveries / seconds;
      metrics.incomplete = values.complete === 1 ? 0 : 1;
      perUnit(samples, 'phase-start', 'phase-end', deliveries, metrics, 'CpuUsPerDelivery');
      otherCpu(samples, 'phase-start', 'phase-end', metrics);
      // The kernel does the loopback TCP work of a write either in the writer's system call (charged
      // to the server) or in softirq context (charged to no process), as timing has it: the sum
      // compares servers whichever way it fell.
      metrics.serverAndSoftirqUsPerDelivery =
        (metrics.serverCpuUsPerDelivery ?? Number.NaN) +
        ((metrics.softirqShare ?? Number.NaN) * seconds * 1e6) / deliveries;
      metrics.serverCpuShare = cpuBetween(samples, 'phase-start', 'phase-end', 'server') / 1e9 / seconds;
      metrics.loadgenCpuShare = cpuBetween(samples, 'phase-start', 'phase-end', 'loadgen') / 1e9 / seconds;
      copy(values, metrics, ['p50Ms', 'p99Ms', 'maxMs', 'lost', 'dups']);
      break;
    }
    case 'idle': {
      connection(values, samples, metrics, 'settled');
      metrics.idleServerCpuMsPerSec =
        cpuBetween(samples, 'connected', 'settled', 'server') / 1e6 / (params.settleMs / 1000);
      otherCpu(samples, 'connected', 'settled', metrics);
      metrics.incomplete = values.complete === 1 ? 0 : 1;
      copy(values, metrics, ['maxMs', 'lost', 'dups']);
      break;
    }
    case 'publish': {
      for (const count of params.subscribers) {
        if (count > 0) connection(values, samples, metrics, 'connected', `s${count}.`);
        for (const concurrency of params.publishers) {
          const key = `s${count}p${concurrency}.`;
          const accepted = values[`${key}accepted`] ?? 0;
          metrics[`${key}updatesPerSec`] = accepted / ((values[`${key}ms`] ?? Number.NaN) / 1000);
          perUnit(samples, `${key}start`, `${key}end`, accepted, metrics, 'CpuUsPerUpdate', key);
          otherCpu(samples, `${key}start`, `${key}end`, metrics, key);
          if (count > 0) {
            const deliveries = values[`${key}deliveries`] ?? 0;
            metrics[`${key}deliveriesPerSec`] = deliveries / ((values[`${key}drainMs`] ?? Number.NaN) / 1000);
            metrics[`${key}incomplete`] = values[`${key}complete`] === 1 ? 0 : 1;
            copy(values, metrics, ['p99Ms', 'lost', 'dups'], key);
          }
        }
      }
      break;
    }
    case 'reconnect': {
      connection(values, samples, metrics);
      const replayed = values.replayed ?? 0;
      metrics.reconnected = values.reconnected ?? 0;
      metrics.reconnectFailed = values.reconnectFailed ?? 0;
      metrics.reconnectPerSec = (values.reconnected ?? 0) / ((values.reconnectMs ?? Number.NaN) / 1000);
      metrics.stormMs = values.stormMs ?? Number.NaN;
      metrics.replayedPerSec = replayed / ((values.stormMs ?? Number.NaN) / 1000);
      metrics.incomplete = values.complete === 1 ? 0 : 1;
      perUnit(samples, 'storm-start', 'storm-end', replayed, metrics, 'CpuUsPerReplayed');
      otherCpu(samples, 'storm-start', 'storm-end', metrics);
      copy(values, metrics, ['lost', 'dups']);
      break;
    }
  }
  return metrics;
}

function median(values: number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Medians over repeats, except the correctness counts, which are summed (one loss in any repeat shows). */
export function combine(runs: readonly Metrics[]): Metrics {
  const names = new Set(runs.flatMap((run) => Object.keys(run)));
  const combined: Metrics = {};
  for (const name of names) {
    const values = runs.map((run) => run[name]).filter((value): value is number => value !== undefined);
    combined[name] = COUNTS.test(name) ? values.reduce((sum, value) => sum + value, 0) : median(values);
  }
  return combined;
}
