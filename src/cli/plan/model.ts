/**
 * Past 400 lines: the plan's arithmetic is one model, each figure with its basis; splitting it would
 * scatter the formulas a reader checks together.
 *
 * From a machine, a measurement and a request to a plan: pure arithmetic, no I/O. Each figure
 * carries its basis (read from the machine, measured here, derived, assumed or requested) and
 * what it comes from, so a reader can check every number the plan prints.
 *
 * The model: a process holds subscribers up to the first of four limits (descriptors, CPU,
 * memory, JavaScript heap); a machine runs one process per core (`siar serve --workers`);
 * machines are added until every subscriber has a place. CPU per process per second is its idle
 * cost, plus every update's cost, plus a delivery's cost for each event and heartbeat written.
 */

import { DESCRIPTOR_RESERVE } from '../../hub/capacity.js';
import { DEFAULT_HEARTBEAT_MS } from '../../server/index.js';
import { MACHINE_SOURCES, type Machine } from './machine.js';
import { planNotes, type Setting, type Sizing, systemSettings } from './settings.js';

/** Descriptors a hub process keeps for everything but subscribers: the hub's own reserve (capacity.ts). */
export { DESCRIPTOR_RESERVE };
/** Share of a core a hub process is planned to use: the rest is for the kernel's network work, GC and bursts. */
export const CPU_TARGET = 0.7;
/** Share of a machine's memory the hub's processes and sockets are planned to use: the rest for the OS. */
export const MEMORY_TARGET = 0.8;
/** Kernel memory of an idle TCP socket (its slab objects: sock, inode, file, epoll entry), not in any RSS. */
export const KERNEL_BYTES_PER_CONNECTION = 4096;
/** TCP, IP and Ethernet headers of one packet (with timestamps): each delivery is a packet of its own. */
export const PACKET_OVERHEAD_BYTES = 66;
/** The per-process descriptor limit assumed when the system does not say (Linux's usual soft limit). */
export const ASSUMED_DESCRIPTOR_LIMIT = 1024;
/** How much more another limit must allow than the descriptors before the plan says what raising them saves. */
const MUCH_MORE = 1.5;
/** Where the plan's shared store goes when the request named none that is shared. */
export const REDIS_PLACEHOLDER = 'redis://<redis-host>:6379';

export type Basis = 'read' | 'measured' | 'derived' | 'assumed' | 'requested';
export type Unit = 'bytes' | 'bytes/s' | 'count' | '/s' | 'cores' | 'µs' | 'µs/s' | 'share' | 's';

/** One number of the plan, with where it comes from. */
export interface Figure {
  value: number;
  unit: Unit;
  basis: Basis;
  /** What it was read, measured, derived or assumed from. */
  from: string;
}

/** What the plan is for. */
export interface PlanRequest {
  subscribers: number;
  /** Updates published per second, over all topics. */
  updatesPerSecond: number;
  /** Data bytes of each update. */
  payloadBytes: number;
  /** Topics the updates spread over; each subscriber follows one. */
  topics: number;
  /** The --store asked for. */
  store: string;
  heartbeatMs: number;
  /** A per-process descriptor limit to plan with, instead of this machine's hard limit. */
  descriptorLimit?: number;
}

/** What a calibration run measured (and the frame sizes derived from the request's payload). */
export interface Measurement {
  /** Subscribers of the calibration run, on one process. */
  subscribers: number;
  seconds: number;
  store: string;
  /** RSS of the hub before any subscriber. */
  baseRssBytes: number;
  /** RSS added per subscriber connected (settled, before any delivery). */
  bytesPerSubscriber: number;
  /** RSS the hub grows by while delivering, over what its subscribers hold (garbage not collected yet): once per process. */
  activeRssBytes: number;
  /** Hub CPU per event written to a subscriber (the per-update and idle costs taken out). */
  cpuMicrosPerDelivery: number;
  /** Hub CPU per update published (taken, stored, dispatched), with no subscriber to write to. */
  cpuMicrosPerUpdate: number;
  /** Updates per second published while measuring that (an update costs less at higher rates). */
  updatePhaseRate: number;
  /** Hub CPU per second with nothing to do (timers). */
  idleCpuMicrosPerSecond: number;
  /** Streams opened per second (connect, request, response head), at most 500 at a time. */
  connectsPerSecond: number;
  /** Updates per second broadcast to every subscriber while delivering. */
  calibrationUpdatesPerSecond: number;
  deliveries: number;
  lost: number;
  /** Bytes on the wire of one update to one subscriber (HTTP/1.1 chunk of the hub's frame). */
  frameBytes: number;
  /** Bytes of one heartbeat, chunked. */
  heartbeatFrameBytes: number;
}

export type Limit = 'descriptors' | 'cpu' | 'memory' | 'heap';

export interface Plan {
  request: PlanRequest;
  /** Every figure, by name; the renderer picks and orders them. */
  figures: PlanFigures;
  /** The limit that bounds the subscribers of a process. */
  limitedBy: Limit;
  store: { spec: string; shared: boolean; why: string };
  /** The command lines to run on each machine. */
  commands: string[];
  settings: Setting[];
  notes: string[];
}

export type PlanFigures = ReturnType<typeof size>['figures'];

/** A request the model cannot plan for on machines of this size, and why. */
export class PlanError extends Error {
  override name = 'PlanError';
  constructor(
    readonly code: 'publish-rate' | 'memory' | 'descriptors' | 'no-measurement',
    message: string,
  ) {
    super(message);
  }
}

const figure = (value: number, unit: Unit, basis: Basis, from: string): Figure => ({
  value,
  unit,
  basis,
  from,
});
const derived = (value: number, unit: Unit, from: string) => figure(value, unit, 'derived', from);
const assumed = (value: number, unit: Unit, from: string) => figure(value, unit, 'assumed', from);

/** The model's assumptions, as figures. */
const ASSUMPTIONS = {
  descriptorReserve: assumed(
    DESCRIPTOR_RESERVE,
    'count',
    'per process, for publishers, /healthz, the store, logs',
  ),
  cpuTarget: assumed(CPU_TARGET, 'share', 'of a core per process: the rest for softirq, GC, bursts'),
  memoryTarget: assumed(
    MEMORY_TARGET,
    'share',
    'of the memory for the hub and its sockets: the rest for the OS',
  ),
  kernelBytesPerConnection: assumed(
    KERNEL_BYTES_PER_CONNECTION,
    'bytes',
    "an idle TCP socket's slab objects, in no RSS",
  ),
  packetOverheadBytes: assumed(
    PACKET_OVERHEAD_BYTES,
    'bytes',
    'TCP + IP + Ethernet headers; a packet per delivery',
  ),
};

/** The per-process descriptor limit planned with: requested, else this machine's hard limit. */
function descriptorLimitOf(machine: Machine, request: PlanRequest): Figure {
  if (request.descriptorLimit !== undefined)
    return figure(request.descriptorLimit, 'count', 'requested', '--descriptor-limit');
  if (machine.descriptorHardLimit !== undefined)
    return figure(machine.descriptorHardLimit, 'count', 'read', `${MACHINE_SOURCES.descriptors}, hard limit`);
  return assumed(ASSUMED_DESCRIPTOR_LIMIT, 'count', `${MACHINE_SOURCES.descriptors} not readable here`);
}

/** The store of the plan: the requested one if it serves that many machines, else Redis. */
function storeFor(request: PlanRequest, machines: number): Plan['store'] {
  const shared = /^rediss?:\/\//.test(request.store);
  if (machines <= 1) {
    return {
      spec: request.store,
      shared,
      why:
        request.store === 'memory'
          ? 'one machine: the memory store is shared by its workers; sqlite:<path> if history must survive a restart'
          : 'one machine: the requested store serves it',
    };
  }
  if (shared) return { spec: request.store, shared, why: `${machines} machines share the requested Redis` };
  return {
    spec: REDIS_PLACEHOLDER,
    shared: true,
    why: `${machines} machines need a shared store (memory and SQLite serve one machine): Redis 6.2+, every node with the same URL and prefix`,
  };
}

/** What each subscriber costs: events and heartbeats it receives per second, kernel memory. */
function perSubscriber(machine: Machine, measured: Measurement, request: PlanRequest) {
  const rate = request.updatesPerSecond / request.topics;
  const interval = request.heartbeatMs / 1000;
  // A heartbeat goes to a stream quiet for a whole interval: with updates at random (Poisson) times,
  // a stream is quiet for an interval with probability e^(-rate × interval).
  const heartbeats = interval > 0 ? Math.exp(-rate * interval) / interval : 0;
  const inFlightPages = 1 + Math.floor(measured.frameBytes / machine.pageBytes);
  return {
    rate,
    heartbeats,
    inFlightPages,
    kernelBytes: KERNEL_BYTES_PER_CONNECTION + inFlightPages * machine.pageBytes,
    cpuMicrosPerSecond: (rate + heartbeats) * measured.cpuMicrosPerDelivery,
    egressBytesPerSecond:
      rate * (measured.frameBytes + PACKET_OVERHEAD_BYTES) +
      heartbeats * (measured.heartbeatFrameBytes + PACKET_OVERHEAD_BYTES),
  };
}

/** The subscribers one process can hold by each limit, and the limit that binds. */
function capacities(machine: Machine, measured: Measurement, request: PlanRequest) {
  const subscriber = perSubscriber(machine, measured, request);
  const descriptorLimit = descriptorLimitOf(machine, request);
  const byDescriptors = descriptorLimit.value - DESCRIPTOR_RESERVE;
  if (byDescriptors < 1) {
    throw new PlanError(
      'descriptors',
      `A process may hold ${descriptorLimit.value} descriptors: not more than the ${DESCRIPTOR_RESERVE} the hub keeps for itself. Raise the hard limit (LimitNOFILE, limits.conf) or plan with --descriptor-limit.`,
    );
  }
  const fixedCpu = measured.idleCpuMicrosPerSecond + request.updatesPerSecond * measured.cpuMicrosPerUpdate;
  const cpuBudget = CPU_TARGET * 1e6;
  if (fixedCpu >= cpuBudget) {
    throw new PlanError(
      'publish-rate',
      `${request.updatesPerSecond.toLocaleString('en-US')} updates/s cost ${(fixedCpu / 1e6).toFixed(2)} of a core in every process before any delivery (${measured.cpuMicrosPerUpdate.toFixed(1)} µs per update measured here): over the ${CPU_TARGET} planned per process. Publish fewer, larger updates, or split the topics over separate hubs.`,
    );
  }
  // Memory: a machine full of workers (one per core) shares its memory.
  const memoryShare = (MEMORY_TARGET * machine.memoryBytes) / machine.cores;
  const fixedRss = measured.baseRssBytes + measured.activeRssBytes;
  const by: Record<Limit, number> = {
    descriptors: byDescriptors,
    cpu: Math.floor((cpuBudget - fixedCpu) / subscriber.cpuMicrosPerSecond),
    memory: Math.floor((memoryShare - fixedRss) / (measured.bytesPerSubscriber + subscriber.kernelBytes)),
    heap: Math.floor((machine.heapLimitBytes - fixedRss) / measured.bytesPerSubscriber),
  };
  if (by.memory < 1 || by.heap < 1) {
    throw new PlanError(
      'memory',
      `A hub process needs ${Math.round(fixedRss / 1e6)} MB before any subscriber: more than one core's share of this machine's memory allows.`,
    );
  }
  const limitedBy = (Object.keys(by) as Limit[]).reduce((least, next) =>
    by[next] < by[least] ? next : least,
  );
  return { subscriber, descriptorLimit, fixedCpu, by, limitedBy, capacity: by[limitedBy] };
}

/** Descriptors bind less often than they need to: what a higher limit would save, when it is much. */
function withMoreDescriptors(
  machine: Machine,
  request: PlanRequest,
  by: Record<Limit, number>,
): Sizing['unbound'] {
  const [next, capacity] = (['cpu', 'memory', 'heap'] as const)
    .map((limit) => [limit, by[limit]] as const)
    .reduce((least, entry) => (entry[1] < least[1] ? entry : least));
  if (capacity < by.descriptors * MUCH_MORE) return undefined;
  // A round limit under the next bound, within what the kernel allows a process.
  const limit = Math.min(
    Math.floor((capacity + DESCRIPTOR_RESERVE) / 1000) * 1000,
    machine.nrOpen ?? Number.POSITIVE_INFINITY,
  );
  const processes = Math.ceil(request.subscribers / (limit - DESCRIPTOR_RESERVE));
  return { limit, machines: Math.ceil(processes / Math.min(machine.cores, processes)), limitedBy: next };
}

/** Processes, machines and what each holds and uses, as figures. */
function size(machine: Machine, measured: Measurement, request: PlanRequest) {
  const { subscriber, descriptorLimit, fixedCpu, by, limitedBy, capacity } = capacities(
    machine,
    measured,
    request,
  );
  const cores = machine.cores;
  const needed = Math.ceil(request.subscribers / capacity);
  const workers = Math.min(cores, needed);
  const machines = Math.ceil(needed / workers);
  const processes = machines * workers;
  const perProcess = Math.ceil(request.subscribers / processes);
  const perMachine = perProcess * workers;
  const cpuPerProcess = (fixedCpu + perProcess * subscriber.cpuMicrosPerSecond) / 1e6;
  const memoryPerProcess =
    measured.baseRssBytes + measured.activeRssBytes + perProcess * measured.bytesPerSubscriber;
  const memoryPerMachine = workers * memoryPerProcess + perMachine * subscriber.kernelBytes;
  const descriptors = perProcess + DESCRIPTOR_RESERVE;
  const figures = {
    ...ASSUMPTIONS,
    updatesPerSubscriberPerSecond: derived(
      subscriber.rate,
      '/s',
      'updates/s ÷ topics (assumed: one topic each)',
    ),
    heartbeatsPerSubscriberPerSecond: derived(
      subscriber.heartbeats,
      '/s',
      `one per ${request.heartbeatMs} ms quiet (assumed: updates at random times)`,
    ),
    kernelBytesPerSubscriber: derived(
      subscriber.kernelBytes,
      'bytes',
      `kernel bytes per connection + ${subscriber.inFlightPages} page(s) in flight`,
    ),
    descriptorLimit,
    capacityByDescriptors: derived(by.descriptors, 'count', 'descriptor limit − reserve'),
    capacityByCpu: derived(by.cpu, 'count', '(CPU target − idle − updates) ÷ CPU per subscriber'),
    capacityByMemory: derived(
      by.memory,
      'count',
      `(memory target ÷ ${cores} cores − base and active RSS) ÷ (RSS + kernel per subscriber)`,
    ),
    capacityByHeap: derived(by.heap, 'count', '(V8 heap limit − base and active RSS) ÷ bytes per subscriber'),
    capacityPerProcess: derived(capacity, 'count', `the least of the four: ${limitedBy}`),
    workersPerMachine: derived(
      workers,
      'count',
      needed < cores ? `the ${needed} process(es) needed; the other cores stay free` : 'one per core',
    ),
    machines: derived(machines, 'count', `${needed} processes needed ÷ workers per machine`),
    processes: derived(processes, 'count', 'machines × workers'),
    subscribersPerProcess: derived(perProcess, 'count', 'subscribers ÷ processes'),
    subscribersPerMachine: derived(perMachine, 'count', 'subscribers per process × workers'),
    deliveriesPerSecondPerProcess: derived(
      perProcess * subscriber.rate,
      '/s',
      'subscribers × updates each/s',
    ),
    cpuCoresPerProcess: derived(
      cpuPerProcess,
      'cores',
      'idle + updates + (events + heartbeats) × CPU per delivery',
    ),
    memoryBytesPerProcess: derived(
      memoryPerProcess,
      'bytes',
      'base + active RSS + subscribers × bytes per subscriber',
    ),
    memoryBytesPerMachine: derived(memoryPerMachine, 'bytes', 'workers × memory per process + kernel memory'),
    coresPerMachine: derived(workers, 'cores', 'one per worker'),
    descriptorsPerProcess: derived(descriptors, 'count', 'subscribers per process + reserve'),
    egressBytesPerSecondPerMachine: derived(
      perMachine * subscriber.egressBytesPerSecond,
      'bytes/s',
      'events and heartbeats × (frame + packet headers)',
    ),
    deliveriesPerSecond: derived(request.subscribers * subscriber.rate, '/s', 'subscribers × updates each/s'),
    egressBytesPerSecond: derived(
      request.subscribers * subscriber.egressBytesPerSecond,
      'bytes/s',
      'cleartext HTTP/1.1; TLS adds ~22 B per event',
    ),
    memoryBytes: derived(machines * memoryPerMachine, 'bytes', 'machines × memory per machine'),
    cores: derived(processes, 'cores', 'one core per process'),
    cpuCoresBusy: derived(processes * cpuPerProcess, 'cores', 'processes × CPU per process'),
    maxUpdatesPerSecond: derived(
      Math.floor((CPU_TARGET * 1e6) / measured.cpuMicrosPerUpdate),
      '/s',
      `CPU target ÷ CPU per update at ${measured.updatePhaseRate}/s (a floor: updates cost less at higher rates)`,
    ),
    reconnectSeconds: derived(
      perMachine / (measured.connectsPerSecond * workers),
      's',
      'subscribers per machine ÷ (connects/s × workers): all back at once',
    ),
    tcpMemPagesNeeded: derived(
      perMachine * subscriber.inFlightPages,
      'count',
      'pages for one event in flight to every subscriber of a machine',
    ),
    headroomSubscribers: derived(
      (capacity * processes) / request.subscribers - 1,
      'share',
      `more subscribers before the ${limitedBy} limit`,
    ),
    headroomCpu: derived(1 - cpuPerProcess, 'share', 'of each core left'),
    headroomMemory: derived(
      1 - memoryPerMachine / machine.memoryBytes,
      'share',
      "of each machine's memory left",
    ),
    headroomDescriptors: derived(
      1 - descriptors / descriptorLimit.value,
      'share',
      'of the descriptor limit left',
    ),
  };
  const sizing: Sizing = {
    descriptorLimit: descriptorLimit.value,
    descriptorsPerProcess: descriptors,
    workers,
    subscribersPerMachine: perMachine,
    tcpPagesNeeded: figures.tcpMemPagesNeeded.value,
    ...(limitedBy === 'descriptors' ? { unbound: withMoreDescriptors(machine, request, by) } : {}),
  };
  return { figures, limitedBy, sizing, capacity, machines };
}

/** The plan for `request`, on machines like `machine`, from what `measured` found here. */
export function makePlan(machine: Machine, measured: Measurement, request: PlanRequest): Plan {
  if (!(measured.cpuMicrosPerDelivery > 0) || !(measured.bytesPerSubscriber > 0)) {
    throw new PlanError(
      'no-measurement',
      'The calibration measured no CPU or no memory per subscriber: run it longer or with more subscribers.',
    );
  }
  const { figures, limitedBy, sizing, capacity, machines } = size(machine, measured, request);
  const store = storeFor(request, machines);
  const serve = ['siar serve', `--workers ${sizing.workers}`];
  if (store.spec !== 'memory') serve.push(`--store '${store.spec}'`);
  serve.push(`--max-subscribers ${capacity * sizing.workers}`);
  if (request.heartbeatMs !== DEFAULT_HEARTBEAT_MS) serve.push(`--heartbeat ${request.heartbeatMs}`);
  return {
    request,
    figures,
    limitedBy,
    store,
    commands: [`ulimit -n ${sizing.descriptorLimit}`, serve.join(' ')],
    settings: systemSettings(machine, sizing),
    notes: planNotes(sizing),
  };
}
