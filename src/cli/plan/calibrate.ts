/**
 * Calibration: a short run of the load generator (the one `siar bench` uses) against a hub of its
 * own on this machine, with the store and the payload of the plan, measuring what the model needs:
 * the hub's idle CPU, its CPU per update published, its RSS before and with subscribers, its CPU
 * per delivery and its connect rate. One process, loopback only, bounded in time and size.
 *
 * The phases, in a budget of `seconds`: idle (timers only), publishing with no subscriber (the
 * cost of an update alone), connecting every subscriber, then broadcasting to all of them at the
 * plan's rate per subscriber (within bounds that keep the run measurable and the machine calm).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToken } from '../../hub/index.js';
import { Frame, HEARTBEAT } from '../../server/frame.js';
import { isLoopback, mercureEndpoints } from '../bench/endpoints.js';
import { cpuMicros, rssBytes, startHubProcess } from '../bench/hub-process.js';
import { payload } from '../bench/payload.js';
import { Publisher } from '../bench/publisher.js';
import { Recorder } from '../bench/recorder.js';
import { openAll, Subscriber } from '../bench/subscribers.js';
import { UsageError } from '../usage-error.js';
import type { Measurement } from './model.js';

/** Most subscribers a calibration opens: a few thousand tell the per-subscriber cost well. */
export const MAX_CALIBRATION_SUBSCRIBERS = 5000;
/** Longest calibration, in seconds. */
export const MAX_CALIBRATION_SECONDS = 60;
/** Shortest calibration: below it the CPU figures are mostly noise. */
export const MIN_CALIBRATION_SECONDS = 3;
/** Descriptors kept free in this process and the hub's (both hold one per subscriber). */
const SPARE_DESCRIPTORS = 256;
/** Streams opening at once: under the hub's listen backlog (511). */
const CONNECT_WINDOW = 500;
/** Updates sent first, unmeasured, so that the measures see code the JIT has compiled. */
const WARM_UP_UPDATES = 50;
/** Rates of the update-cost phase: slow rates measure timers more than updates, fast ones a saturated hub. */
const UPDATE_PHASE_RATE = { min: 50, max: 1000 };
/** Shares of the calibration's seconds each measured phase takes (the rest: starting, connecting, settling). */
const SHARES = { idle: 0.1, publishing: 0.2, delivering: 0.6 };
/** Deliveries per second the delivery phase stays under: the load generator shares the machine. */
const MAX_DELIVERIES_PER_SECOND = 50_000;
/** Fewest updates the delivery phase sends. */
const MIN_DELIVERY_UPDATES = 10;
/** Time the hub gets after the connects before its memory is read, in ms. */
const SETTLE_MS = 500;
/** How often RSS is read while delivering, in ms. */
const RSS_SAMPLE_MS = 100;
/** Longest wait for the last deliveries after the last publish, in ms. */
const DRAIN_TIMEOUT_MS = 10_000;
/** Time the hub gets to shut down on SIGTERM before it is killed, in ms. */
const STOP_GRACE_MS = 5000;
/** Deadline of the clean-up of a Redis store's calibration keys, in ms. */
const REDIS_CLEANUP_MS = 5000;

export interface CalibrationRequest {
  /** The --store of the plan: memory, sqlite:<path> or a Redis on this machine. */
  store: string;
  payloadBytes: number;
  subscribers: number;
  seconds: number;
  /** Updates published per second in the plan, over all topics. */
  updatesPerSecond: number;
  /** Updates each subscriber receives per second in the plan. */
  perSubscriberRate: number;
  /** Called as the run goes: the phase, and how far it is. */
  onProgress?: (phase: string, done: number, total: number) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** The store the calibration's hub uses for the store asked for, and what to do once it is done. */
async function calibrationStore(spec: string): Promise<{ spec: string; cleanUp: () => Promise<void> }> {
  if (spec === 'memory') return { spec, cleanUp: async () => {} };
  if (spec.startsWith('sqlite:')) {
    // Never the plan's own file: a database of its own, removed afterwards.
    const dir = mkdtempSync(join(tmpdir(), 'siar-plan-'));
    return {
      spec: `sqlite:${join(dir, 'calibration.db')}`,
      cleanUp: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (/^rediss?:\/\//.test(spec)) {
    const url = new URL(spec);
    if (!isLoopback(url.hostname)) {
      throw new UsageError(
        `siar plan calibrates on this machine only: give a Redis on a loopback address (say --store redis://127.0.0.1:6379), not ${url.hostname}.`,
      );
    }
    // Keys of their own, deleted afterwards: the Redis may hold other data.
    const prefix = `siar-plan-${randomBytes(6).toString('hex')}`;
    url.searchParams.set('prefix', prefix);
    return { spec: url.toString(), cleanUp: () => deleteRedisKeys(spec, prefix) };
  }
  throw new UsageError(
    `siar plan calibrates with the memory store, sqlite:<path> or a Redis on this machine, not "${spec}".`,
  );
}

/** Deletes the keys `{prefix}:*` a calibration's hub left in Redis. */
async function deleteRedisKeys(spec: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const url = new URL(spec);
  url.searchParams.delete('prefix');
  const client = new Redis(url.toString(), {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_CLEANUP_MS,
  });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/**
 * Publishes `count` updates at `perSecond` (sequence numbers from `first`), each once the previous
 * one is answered and its time has come; `onSent` hears how many went.
 */
async function publishPaced(
  publisher: Publisher,
  count: number,
  perSecond: number,
  first = 0,
  onSent: (sent: number) => void = () => {},
): Promise<void> {
  const started = performance.now();
  for (let sent = 0; sent < count; sent++) {
    const wait = started + (sent * 1000) / perSecond - performance.now();
    if (wait > 0) await sleep(wait);
    await publisher.publish(first + sent);
    onSent(sent + 1);
  }
}

/** CPU the hub used while `work` ran, in µs, and how long it ran, in s. */
async function hubCpuOver(
  pid: number,
  work: () => Promise<void>,
): Promise<{ micros: number; seconds: number }> {
  const before = cpuMicros(pid);
  const started = performance.now();
  await work();
  const after = cpuMicros(pid);
  if (before === undefined || after === undefined) {
    throw new UsageError("siar plan reads the hub's CPU time from /proc: it calibrates on Linux only.", 1);
  }
  return { micros: after - before, seconds: (performance.now() - started) / 1000 };
}

/** Stops the calibration's hub: SIGTERM (it closes its store), SIGKILL if it is still there after a while. */
async function stopHub(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** The subscribers this process (and the hub) can hold, within the request's count. */
export function calibrationSubscribers(requested: number, softDescriptorLimit: number | undefined): number {
  const fits = (softDescriptorLimit ?? 1024) - SPARE_DESCRIPTORS;
  if (fits < 10) {
    throw new UsageError(
      `A process may hold ${softDescriptorLimit} descriptors here: too few to calibrate (ulimit -n).`,
    );
  }
  return Math.min(requested, fits);
}

/** Runs the calibration. */
export async function calibrate(request: CalibrationRequest): Promise<Measurement> {
  const { subscribers: count, seconds } = request;
  const progress = request.onProgress ?? (() => {});
  const store = await calibrationStore(request.store);
  const key = randomBytes(24).toString('base64url');
  let child: ChildProcess | undefined;
  const subscribers: Subscriber[] = [];
  const publishers: Publisher[] = [];
  try {
    progress('starting', 0, 1);
    const hub = await startHubProcess(key, ['--store', store.spec, '--max-subscribers', String(count + 100)]);
    child = hub.child;
    const pid = child.pid as number;
    const url = new URL(hub.url);
    const base = `https://siar.invalid/plan/${randomUUID()}`;
    const token = await createToken({ publish: ['*'] }, key);
    const lonely = new Publisher(mercureEndpoints(url, `${base}/nobody`, token), request.payloadBytes);
    const endpoints = mercureEndpoints(url, `${base}/everybody`, token);
    const broadcaster = new Publisher(endpoints, request.payloadBytes);
    publishers.push(lonely, broadcaster);

    await publishPaced(lonely, WARM_UP_UPDATES, Number.POSITIVE_INFINITY);
    const idleMs = Math.max(500, seconds * SHARES.idle * 1000);
    const idle = await hubCpuOver(pid, async () => {
      const started = performance.now();
      const ticker = setInterval(() => progress('idle', performance.now() - started, idleMs), 100);
      await sleep(idleMs);
      clearInterval(ticker);
    });
    const idleMicrosPerSecond = idle.micros / idle.seconds;

    const updateRate = clamp(request.updatesPerSecond, UPDATE_PHASE_RATE.min, UPDATE_PHASE_RATE.max);
    const updates = Math.ceil(updateRate * seconds * SHARES.publishing);
    const publishing = await hubCpuOver(pid, () =>
      publishPaced(lonely, updates, updateRate, WARM_UP_UPDATES, (sent) =>
        progress('publishing', sent, updates),
      ),
    );
    const cpuPerUpdate = Math.max(
      0,
      (publishing.micros - idleMicrosPerSecond * publishing.seconds) / updates,
    );

    // The base after the publishing, so that it holds what publishing alone grows (compiled code, the
    // history): what subscribers add comes on top.
    await sleep(SETTLE_MS);
    const baseRss = rssBytes(pid) ?? 0;

    const recorder = new Recorder();
    for (let i = 0; i < count; i++) subscribers.push(new Subscriber(i, recorder));
    const ticker = setInterval(
      () => progress('connecting', subscribers.filter((subscriber) => subscriber.isOpen).length, count),
      100,
    );
    const connected = await openAll(subscribers, endpoints, CONNECT_WINDOW).finally(() =>
      clearInterval(ticker),
    );
    if (connected.failed > 0) {
      const reasons = Object.entries(connected.errors).map(([reason, times]) => `${times} × ${reason}`);
      throw new UsageError(
        `${connected.failed} of ${count} subscribers could not connect: ${reasons.join('; ')}`,
        1,
      );
    }
    progress('connecting', count, count);
    await sleep(SETTLE_MS);
    const connectedRss = rssBytes(pid) ?? 0;
    let peakRss = connectedRss;

    const deliverySeconds = seconds * SHARES.delivering;
    // At the plan's rate, but fast enough for the fewest updates to fit, and slow enough for the load generator.
    const deliveryRate = clamp(
      request.perSubscriberRate,
      MIN_DELIVERY_UPDATES / deliverySeconds,
      MAX_DELIVERIES_PER_SECOND / count,
    );
    const broadcasts = Math.max(MIN_DELIVERY_UPDATES, Math.round(deliveryRate * deliverySeconds));
    const expected = broadcasts * count;
    const delivering = await hubCpuOver(pid, async () => {
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, rssBytes(pid) ?? 0);
        progress('delivering', recorder.unique, expected);
      }, RSS_SAMPLE_MS);
      try {
        await publishPaced(broadcaster, broadcasts, deliveryRate);
        await recorder.waitFor(expected, DRAIN_TIMEOUT_MS);
      } finally {
        clearInterval(sampler);
      }
    });
    peakRss = Math.max(peakRss, rssBytes(pid) ?? 0);
    progress('delivering', recorder.unique, expected);
    const deliveries = recorder.unique;
    const deliveryCpu =
      delivering.micros - idleMicrosPerSecond * delivering.seconds - broadcasts * cpuPerUpdate;
    const sample = Frame.of({ id: `urn:uuid:${randomUUID()}`, data: payload(0, 0, request.payloadBytes) });
    return {
      subscribers: count,
      seconds,
      store: request.store.split(':')[0] as string,
      baseRssBytes: baseRss,
      bytesPerSubscriber: (connectedRss - baseRss) / count,
      activeRssBytes: Math.max(0, peakRss - connectedRss),
      cpuMicrosPerDelivery: deliveries === 0 ? 0 : deliveryCpu / deliveries,
      cpuMicrosPerUpdate: cpuPerUpdate,
      updatePhaseRate: updateRate,
      idleCpuMicrosPerSecond: idleMicrosPerSecond,
      connectsPerSecond: (count / connected.ms) * 1000,
      calibrationUpdatesPerSecond: deliveryRate,
      deliveries,
      lost: expected - deliveries,
      frameBytes: sample.chunked.length,
      heartbeatFrameBytes: HEARTBEAT.chunked.length,
    };
  } finally {
    for (const publisher of publishers) publisher.close();
    for (const subscriber of subscribers) subscriber.close();
    if (child) await stopHub(child);
    await store.cleanUp();
  }
}
