// siar plan as a person runs it (the built CLI): a short calibration against a hub of its own, then
// the plan, as JSON and as text; with a Redis store, whose calibration keys it removes; and the
// mistakes it refuses.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Short and small: these check the command, not the figures' precision. */
const QUICK = ['--calibrate-seconds', '3', '--calibrate-subscribers', '200'];

async function plan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['dist/cli/main.js', 'plan', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

interface PlanJson {
  machine: { cores: number; memoryBytes: number; descriptorLimit: number };
  measured: {
    subscribers: number;
    bytesPerSubscriber: number;
    cpuMicrosPerDelivery: number;
    cpuMicrosPerUpdate: number;
    deliveries: number;
    lost: number;
  };
  plan: {
    processes: number;
    machines: number;
    workersPerMachine: number;
    capacityPerProcess: number;
    subscribersPerProcess: number;
    memoryBytes: number;
    memoryBytesPerMachine: number;
    cores: number;
    egressBytesPerSecond: number;
    store: string;
    commands: string[];
  };
  figures: Record<'machine' | 'measured' | 'plan', Record<string, { basis: string; from: string }>>;
}

/** The hard "Max open files" of a process started like siar plan (this one's children inherit it). */
function hardDescriptorLimit(): number {
  const match = /^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return Number(match?.[1]);
}

describe.runIf(process.platform === 'linux')('siar plan', () => {
  it('calibrates here and prints a plan as one JSON object', async () => {
    const { code, stdout, stderr } = await plan([
      ...['--subscribers', '50000', '--rate', '10', '--payload', '100', '--json'],
      ...QUICK,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as PlanJson;
    expect(result.machine.cores).toBeLessThanOrEqual(availableParallelism());
    expect(result.machine.descriptorLimit).toBe(hardDescriptorLimit());
    expect(result.measured).toMatchObject({ subscribers: 200, lost: 0 });
    // 10 updates/s × 3 s × 0.6 to each of 200 subscribers.
    expect(result.measured.deliveries).toBe(18 * 200);
    expect(result.measured.bytesPerSubscriber).toBeGreaterThan(0);
    expect(result.measured.cpuMicrosPerDelivery).toBeGreaterThan(0);
    expect(result.measured.cpuMicrosPerUpdate).toBeGreaterThan(0);
    const { plan: p } = result;
    expect(p.processes).toBe(p.machines * p.workersPerMachine);
    expect(p.workersPerMachine).toBeLessThanOrEqual(result.machine.cores);
    expect(p.capacityPerProcess * p.processes).toBeGreaterThanOrEqual(50_000);
    expect(p.subscribersPerProcess * p.processes).toBeGreaterThanOrEqual(50_000);
    expect(p.memoryBytes).toBeCloseTo(p.machines * p.memoryBytesPerMachine, -3);
    expect(p.cores).toBe(p.processes);
    // 50,000 subscribers × 10 events/s, each more than its 100 bytes of data.
    expect(p.egressBytesPerSecond).toBeGreaterThan(50_000 * 10 * 100);
    expect(p.commands[0]).toBe(`ulimit -n ${result.machine.descriptorLimit}`);
    expect(p.commands[1]).toContain(`siar serve --workers ${p.workersPerMachine}`);
    expect(p.store).toBe(p.machines > 1 ? 'redis://<redis-host>:6379' : 'memory');
    expect(result.figures.measured.bytesPerSubscriber?.basis).toBe('measured');
    expect(result.figures.machine.cores?.basis).toBe('read');
    expect(result.figures.plan.descriptorReserve?.basis).toBe('assumed');
    expect(result.figures.plan.machines?.basis).toBe('derived');
  });

  it('prints the plan as text, and leaves no calibration keys in the Redis it calibrated with', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
    } catch (error) {
      if (process.env.CI === 'true') throw error;
      return;
    }
    try {
      const { code, stdout } = await plan([
        ...['--subscribers', '2000', '--rate', '2', '--payload', '300', '--store', REDIS_URL],
        ...QUICK,
      ]);
      expect(code).toBe(0);
      expect(stdout).toContain('siar plan: 2,000 subscribers, 2 updates/s over 1 topic, 300 B each');
      expect(stdout).toMatch(/Measured here \(200 subscribers on one process, redis store/);
      for (const basis of ['read:', 'measured:', 'derived:', 'assumed:']) expect(stdout).toContain(basis);
      expect(stdout).toMatch(
        /ulimit -n \d+\n\s+siar serve --workers 1 --store 'redis:\/\/127\.0\.0\.1:6379'/,
      );
      const left: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', '{siar-plan-*', 'COUNT', 1000);
        left.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      expect(left).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a missing figure, a Redis on another machine and an over-long calibration', async () => {
    const missing = await plan(['--subscribers', '1000', '--payload', '100']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--rate');
    const remote = await plan(['-s', '10', '-r', '1', '--payload', '10', '--store', 'redis://10.1.2.3:6379']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('loopback');
    const long = await plan(['-s', '10', '-r', '1', '--payload', '10', '--calibrate-seconds', '600']);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('--calibrate-seconds');
  });
});
