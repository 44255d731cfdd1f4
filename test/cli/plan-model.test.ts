// The plan's arithmetic, on a machine and a measurement written down here: each expected figure is
// worked out by hand in the comments beside it.
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../src/cli/plan/machine.js';
import {
  type Measurement,
  makePlan,
  PlanError,
  type PlanRequest,
  REDIS_PLACEHOLDER,
} from '../../src/cli/plan/model.js';

const GB = 1e9;

/** This machine, as the brief describes it: 2 cores, 24 GB, 20,000 descriptors per process. */
const machine: Machine = {
  cores: 2,
  memoryBytes: 24 * GB,
  descriptorSoftLimit: 20_000,
  descriptorHardLimit: 20_000,
  somaxconn: 4096,
  localPortRange: [32768, 60999],
  tcpMemPages: [287_889, 383_855, 575_778],
  pageBytes: 4096,
  fileMax: 2_466_093,
  nrOpen: 1_048_576,
  heapLimitBytes: 4 * GB,
};

const measured: Measurement = {
  subscribers: 2000,
  seconds: 20,
  store: 'memory',
  baseRssBytes: 60e6,
  bytesPerSubscriber: 5000,
  activeRssBytes: 0,
  cpuMicrosPerDelivery: 5,
  cpuMicrosPerUpdate: 50,
  updatePhaseRate: 50,
  idleCpuMicrosPerSecond: 1000,
  connectsPerSecond: 5000,
  calibrationUpdatesPerSecond: 1,
  deliveries: 40_000,
  lost: 0,
  frameBytes: 265,
  heartbeatFrameBytes: 7,
};

const request = (changes: Partial<PlanRequest> = {}): PlanRequest => ({
  subscribers: 100_000,
  updatesPerSecond: 1,
  payloadBytes: 200,
  topics: 1,
  store: 'memory',
  heartbeatMs: 15_000,
  ...changes,
});

function planError(run: () => unknown): PlanError {
  try {
    run();
  } catch (error) {
    if (error instanceof PlanError) return error;
    throw error;
  }
  throw new Error('no PlanError thrown');
}

describe('makePlan', () => {
  it('bounds a process by its descriptors and spreads 100,000 subscribers over 3 machines of 2 workers', () => {
    const plan = makePlan(machine, measured, request());
    const f = plan.figures;
    expect(plan.limitedBy).toBe('descriptors');
    expect(f.capacityByDescriptors.value).toBe(19_744); // 20,000 − 256
    // CPU: (700,000 − 1,000 idle − 1 × 50) ÷ ((1 + e^-15/15) × 5) µs/s ≈ 139,790.
    expect(f.capacityByCpu.value).toBe(139_789);
    expect(f.capacityPerProcess.value).toBe(19_744);
    // ceil(100,000 ÷ 19,744) = 6 processes, 2 per machine: 3 machines, 16,667 subscribers each.
    expect(f.processes.value).toBe(6);
    expect(f.workersPerMachine.value).toBe(2);
    expect(f.machines.value).toBe(3);
    expect(f.subscribersPerProcess.value).toBe(16_667);
    expect(f.subscribersPerMachine.value).toBe(33_334);
    expect(f.descriptorsPerProcess.value).toBe(16_923);
    // 60 MB + 16,667 × 5,000 B.
    expect(f.memoryBytesPerProcess.value).toBe(143_335_000);
    // 2 × 143,335,000 + 33,334 × (4,096 kernel + 1 page in flight).
    expect(f.memoryBytesPerMachine.value).toBe(286_670_000 + 33_334 * 8192);
    expect(f.memoryBytes.value).toBe(3 * (286_670_000 + 33_334 * 8192));
    expect(f.cores.value).toBe(6);
    // 100,000 events/s of 265 + 66 bytes (heartbeats, e^-15 of them, are a rounding error).
    expect(f.deliveriesPerSecond.value).toBe(100_000);
    expect(f.egressBytesPerSecond.value).toBeCloseTo(33_100_000, -3);
    // (1,050 + 16,667 × 5) µs/s.
    expect(f.cpuCoresPerProcess.value).toBeCloseTo(0.08439, 4);
    expect(f.headroomDescriptors.value).toBeCloseTo(1 - 16_923 / 20_000, 6);
    expect(f.headroomSubscribers.value).toBeCloseTo((6 * 19_744) / 100_000 - 1, 6);
    // 33,334 subscribers per machine ÷ (5,000 connects/s × 2 workers).
    expect(f.reconnectSeconds.value).toBeCloseTo(3.3334, 4);
    // CPU would allow 139,789: a limit of 140,000 (rounded down to a thousand) holds them all on one.
    expect(plan.notes).toContain(
      'Descriptors bind first: with 140,000 per process (LimitNOFILE; plan again with --descriptor-limit 140000), 1 machine would do, bound by cpu.',
    );
  });

  it('names a shared store for many machines, and writes their command lines with it', () => {
    const plan = makePlan(machine, measured, request());
    expect(plan.store).toMatchObject({ spec: REDIS_PLACEHOLDER, shared: true });
    expect(plan.commands).toEqual([
      'ulimit -n 20000',
      `siar serve --workers 2 --store '${REDIS_PLACEHOLDER}' --max-subscribers 39488`,
    ]);
    const redis = makePlan(machine, measured, request({ store: 'redis://10.0.0.5:6379/0?prefix=app' }));
    expect(redis.store.spec).toBe('redis://10.0.0.5:6379/0?prefix=app');
    expect(redis.commands[1]).toContain("--store 'redis://10.0.0.5:6379/0?prefix=app'");
  });

  it('bounds a process by its CPU when each subscriber gets many updates, and keeps one machine', () => {
    // 20 events/s per subscriber: 100 µs/s each; (700,000 − 1,000 − 20 × 50) ÷ 100 = 6,980.
    const plan = makePlan(machine, measured, request({ subscribers: 10_000, updatesPerSecond: 20 }));
    expect(plan.limitedBy).toBe('cpu');
    expect(plan.figures.capacityPerProcess.value).toBe(6980);
    expect(plan.figures.processes.value).toBe(2);
    expect(plan.figures.machines.value).toBe(1);
    expect(plan.store).toMatchObject({ spec: 'memory', shared: false });
    expect(plan.commands[1]).toBe('siar serve --workers 2 --max-subscribers 13960');
    // (2,000 + 5,000 × 100) µs/s.
    expect(plan.figures.cpuCoresPerProcess.value).toBeCloseTo(0.502, 6);
  });

  it('spreads updates over topics, and counts heartbeats to quiet streams', () => {
    const spread = makePlan(machine, measured, request({ updatesPerSecond: 100, topics: 100 }));
    expect(spread.figures.updatesPerSubscriberPerSecond.value).toBe(1);
    // One update per 100 s each: quiet through a 15 s interval with probability e^-0.15.
    const quiet = makePlan(machine, measured, request({ updatesPerSecond: 0.01 }));
    expect(quiet.figures.heartbeatsPerSubscriberPerSecond.value).toBeCloseTo(Math.exp(-0.15) / 15, 9);
    const none = makePlan(machine, measured, request({ updatesPerSecond: 0.01, heartbeatMs: 0 }));
    expect(none.figures.heartbeatsPerSubscriberPerSecond.value).toBe(0);
    expect(none.commands[1]).toContain('--heartbeat 0');
  });

  it('uses only the processes a small request needs', () => {
    const plan = makePlan(machine, measured, request({ subscribers: 500 }));
    expect(plan.figures.workersPerMachine.value).toBe(1);
    expect(plan.figures.workersPerMachine.from).toContain('other cores stay free');
    expect(plan.figures.processes.value).toBe(1);
    expect(plan.figures.subscribersPerProcess.value).toBe(500);
  });

  it('counts the memory a process grows by while delivering once per process', () => {
    const active = makePlan(machine, { ...measured, activeRssBytes: 20e6 }, request());
    expect(active.figures.memoryBytesPerProcess.value).toBe(143_335_000 + 20e6);
  });

  it('says where each figure comes from', () => {
    const { figures } = makePlan(machine, measured, request());
    expect(figures.descriptorLimit).toMatchObject({ basis: 'read', value: 20_000 });
    expect(figures.descriptorReserve).toMatchObject({ basis: 'assumed', value: 256 });
    expect(figures.machines.basis).toBe('derived');
    const requested = makePlan(machine, measured, request({ descriptorLimit: 100_000 })).figures;
    expect(requested.descriptorLimit).toMatchObject({ basis: 'requested', value: 100_000 });
    const unknown = makePlan(
      { ...machine, descriptorHardLimit: undefined, descriptorSoftLimit: undefined },
      measured,
      request({ subscribers: 100 }),
    );
    expect(unknown.figures.descriptorLimit).toMatchObject({ basis: 'assumed', value: 1024 });
  });

  it('asks for the system settings this machine lacks, with their values', () => {
    const small: Machine = {
      ...machine,
      descriptorSoftLimit: 1024,
      descriptorHardLimit: 4096,
      somaxconn: 128,
      localPortRange: [50000, 59999],
      tcpMemPages: [1000, 2000, 3000],
      fileMax: 100_000,
      nrOpen: 65_536,
    };
    const plan = makePlan(small, measured, request({ subscribers: 200_000, descriptorLimit: 100_000 }));
    const byName = Object.fromEntries(plan.settings.map((setting) => [setting.name, setting]));
    expect(byName['descriptors per process (ulimit -n)']?.command).toContain('LimitNOFILE=100000');
    expect(byName['hard descriptor limit']?.value).toBe('100000');
    expect(byName['fs.nr_open']?.command).toBe('sysctl -w fs.nr_open=100000');
    // 2 workers × 100,000 descriptors × 1.25.
    expect(byName['fs.file-max']?.value).toBe('250000');
    expect(byName['net.core.somaxconn']?.value).toBe('4096');
    // 99,744 per process by descriptors: 3 processes needed, 2 machines of 2, 100,000 subscribers
    // per machine, a page each in flight.
    expect(plan.figures.subscribersPerMachine.value).toBe(100_000);
    expect(byName['net.ipv4.tcp_mem']?.value).toBe('1000 100000 150000');
    expect(byName['net.ipv4.ip_local_port_range (on the proxy)']?.why).toContain('64,512');
    const roomy = makePlan(machine, measured, request({ subscribers: 1000 }));
    expect(roomy.settings.map((setting) => setting.name)).toEqual(['descriptors per process (ulimit -n)']);
  });

  it('refuses what no machine of this size can serve, saying why', () => {
    // 20,000 updates/s × 50 µs = a whole core in every process before any delivery.
    expect(planError(() => makePlan(machine, measured, request({ updatesPerSecond: 20_000 }))).code).toBe(
      'publish-rate',
    );
    const tiny = { ...machine, descriptorHardLimit: 200 };
    expect(planError(() => makePlan(tiny, measured, request())).code).toBe('descriptors');
    const crowded = { ...machine, memoryBytes: 100e6 };
    expect(planError(() => makePlan(crowded, measured, request())).code).toBe('memory');
    expect(planError(() => makePlan(machine, { ...measured, cpuMicrosPerDelivery: 0 }, request())).code).toBe(
      'no-measurement',
    );
  });
});
