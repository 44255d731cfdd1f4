/**
 * What the load generator does in each scenario. A script asks the orchestrator to sample the
 * processes at named marks (`mark`), so CPU and memory are read exactly at the phase boundaries
 * the script sees, and returns the numbers it measured under fixed names.
 */
import type { Endpoints } from '../../src/cli/bench/endpoints.js';
import { clockNs } from '../../src/cli/bench/payload.js';
import { Publisher as H1Publisher } from '../../src/cli/bench/publisher.js';
import { Recorder } from '../../src/cli/bench/recorder.js';
import { Subscriber as H1Subscriber, openAll } from '../../src/cli/bench/subscribers.js';
import {
  CONNECT_WINDOW,
  DATA_BYTES,
  type FanoutParams,
  type IdleParams,
  type LatencyParams,
  type PublishParams,
  type ReconnectParams,
  type ScenarioParams,
} from '../lib/scenarios.js';
import { H2Publisher, H2Subscriber, sessions } from './h2.js';
import type { LoadgenResult } from './messages.js';

type Subscriber = H1Subscriber | H2Subscriber;
type Publisher = H1Publisher | H2Publisher;

/** Most time given to deliveries: 10 s, plus 1 s per 10,000 expected (a server that slow has failed anyway). */
function deliveryTimeoutMs(expected: number): number {
  return 10_000 + expected / 10;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Run {
  readonly recorder = new Recorder();
  readonly values: Record<string, number> = { serverCloses: 0, reconnects: 0, reconnectFailures: 0 };
  readonly connectErrors: Record<string, number> = {};
  private readonly subscribers: Subscriber[] = [];
  private readonly publishers: Publisher[] = [];
  private ending = false;
  private dupsChecked = 0;

  constructor(
    readonly endpoints: Endpoints,
    readonly mark: (name: string) => Promise<void>,
  ) {}

  /** Makes `count` subscribers and opens their streams, between marks `<prefix>before-connect` and `<prefix>connected`. */
  async connect(count: number, prefix = ''): Promise<Subscriber[]> {
    const created: Subscriber[] = [];
    for (let i = 0; i < count; i++) {
      const subscriber =
        this.endpoints.protocol === 'h2c'
          ? new H2Subscriber(this.subscribers.length, this.recorder)
          : new H1Subscriber(this.subscribers.length, this.recorder);
      // A stream the server ends is opened again with Last-Event-ID, as a browser would.
      subscriber.onServerClose = (closed: Subscriber) => this.reopen(closed);
      this.subscribers.push(subscriber);
      created.push(subscriber);
    }
    await this.mark(`${prefix}before-connect`);
    const outcome = await openAll(created, this.endpoints, CONNECT_WINDOW);
    await this.mark(`${prefix}connected`);
    this.values[`${prefix}connected`] = outcome.connected;
    this.values[`${prefix}connectFailed`] = outcome.failed;
    this.values[`${prefix}connectMs`] = outcome.ms;
    this.addErrors(outcome.errors);
    return created.filter((subscriber) => subscriber.isOpen);
  }

  private reopen(subscriber: Subscriber): void {
    if (this.ending) return;
    this.values.serverCloses = (this.values.serverCloses ?? 0) + 1;
    subscriber.open(this.endpoints, subscriber.lastEventId).then(
      () => {
        this.values.reconnects = (this.values.reconnects ?? 0) + 1;
      },
      () => {
        this.values.reconnectFailures = (this.values.reconnectFailures ?? 0) + 1;
      },
    );
  }

  addErrors(errors: Record<string, number>): void {
    for (const [reason, count] of Object.entries(errors)) {
      this.connectErrors[reason] = (this.connectErrors[reason] ?? 0) + count;
    }
  }

  publisher(): Publisher {
    const publisher =
      this.endpoints.protocol === 'h2c'
        ? new H2Publisher(this.endpoints, DATA_BYTES)
        : new H1Publisher(this.endpoints, DATA_BYTES);
    this.publishers.push(publisher);
    return publisher;
  }

  /** Publishes `[from, to)` one after the other, each once the previous one was accepted. */
  async publishRange(publisher: Publisher, from: number, to: number): Promise<void> {
    for (let seq = from; seq < to; seq++) await publisher.publish(seq);
  }

  /**
   * Records loss over `[from, to)` for these subscribers, and the repetitions since the last
   * check, under `<prefix>lost` and `<prefix>dups`.
   */
  check(subscribers: readonly Subscriber[], from: number, to: number, prefix = ''): void {
    let lost = 0;
    for (const subscriber of subscribers) lost += subscriber.tally.missing(from, to);
    this.values[`${prefix}lost`] = lost;
    this.values[`${prefix}dups`] = this.recorder.dups - this.dupsChecked;
    this.dupsChecked = this.recorder.dups;
  }

  latencies(prefix = ''): void {
    const summary = this.recorder.takeLatencies();
    this.values[`${prefix}p50Ms`] = summary.p50Ms;
    this.values[`${prefix}p99Ms`] = summary.p99Ms;
    this.values[`${prefix}maxMs`] = summary.maxMs;
  }

  /**
   * Ends the run: no more reopening, the publishers closed. The streams stay open until
   * `closeAll`, which the orchestrator asks for once it has stopped the server: the side that
   * closes first keeps the connection in TIME_WAIT for a minute, and on the client's side those
   * hold ephemeral ports and make every later connect slower (the kernel searches past them).
   */
  end(): LoadgenResult {
    this.ending = true;
    for (const publisher of this.publishers) publisher.close();
    this.values.malformed = this.recorder.malformed;
    return { values: this.values, connectErrors: this.connectErrors };
  }

  closeAll(): void {
    this.ending = true;
    for (const subscriber of this.subscribers) subscriber.close();
    for (const publisher of this.publishers) publisher.close();
    sessions.closeAll();
  }
}

/** (a) and (b): warm up, then publish and wait until every subscriber has every update. */
async function broadcast(run: Run, params: FanoutParams | LatencyParams): Promise<void> {
  const { recorder, values } = run;
  const subscribers = await run.connect(params.subscribers);
  const publisher = run.publisher();
  await run.publishRange(publisher, 0, params.warmup);
  await recorder.waitFor(
    subscribers.length * params.warmup,
    deliveryTimeoutMs(subscribers.length * params.warmup),
  );
  recorder.recordFrom = params.warmup;
  const before = recorder.unique;
  const expected = subscribers.length * params.updates;
  const end = params.warmup + params.updates;
  await run.mark('phase-start');
  const started = clockNs();
  if (params.kind === 'fanout') {
    await run.publishRange(publisher, params.warmup, end);
  } else {
    const intervalNs = 1e9 / params.rate;
    for (let seq = params.warmup; seq < end; seq++) {
      const due = started + (seq - params.warmup) * intervalNs;
      const wait = (due - clockNs()) / 1e6;
      if (wait > 0) await sleep(wait);
      await publisher.publish(seq);
    }
  }
  values.publishMs = (clockNs() - started) / 1e6;
  values.complete = (await recorder.waitFor(before + expected, deliveryTimeoutMs(expected))) ? 1 : 0;
  values.phaseMs = (clockNs() - started) / 1e6;
  await run.mark('phase-end');
  values.deliveries = recorder.unique - before;
  values.expected = expected;
  run.latencies();
  run.check(subscribers, 0, end);
}

/** (c): open as many streams as asked, let the server settle, then check one update reaches them all. */
async function idle(run: Run, params: IdleParams): Promise<void> {
  const { recorder, values } = run;
  const subscribers = await run.connect(params.subscribers);
  await sleep(params.settleMs);
  await run.mark('settled');
  recorder.recordFrom = 0;
  const publisher = run.publisher();
  await publisher.publish(0);
  values.complete = (await recorder.waitFor(subscribers.length, deliveryTimeoutMs(subscribers.length)))
    ? 1
    : 0;
  run.latencies();
  run.check(subscribers, 0, 1);
}

/** (d): for each subscriber count and each publisher count, publish as fast as accepted for a while. */
async function publish(run: Run, params: PublishParams): Promise<void> {
  const { recorder, values } = run;
  let seq = 0;
  // Warm-up, not measured: 200 updates with no subscriber.
  const warm = run.publisher();
  await run.publishRange(warm, 0, 200);
  seq = 200;
  let subscribers: Subscriber[] = [];
  for (const count of params.subscribers) {
    if (count > subscribers.length) {
      subscribers = [...subscribers, ...(await run.connect(count - subscribers.length, `s${count}.`))];
    }
    for (const concurrency of params.publishers) {
      const key = `s${count}p${concurrency}.`;
      const publishers = Array.from({ length: concurrency }, () => run.publisher());
      const from = seq;
      const before = recorder.unique;
      recorder.recordFrom = from;
      await run.mark(`${key}start`);
      const started = clockNs();
      const deadline = started + params.durationMs * 1e6;
      let accepted = 0;
      await Promise.all(
        publishers.map(async (publisher) => {
          while (clockNs() < deadline) {
            await publisher.publish(seq++);
            accepted++;
          }
        }),
      );
      values[`${key}ms`] = (clockNs() - started) / 1e6;
      await run.mark(`${key}end`);
      for (const publisher of publishers) publisher.close();
      values[`${key}accepted`] = accepted;
      if (subscribers.length > 0) {
        const expected = subscribers.length * accepted;
        values[`${key}complete`] = (await recorder.waitFor(before + expected, deliveryTimeoutMs(expected)))
          ? 1
          : 0;
        values[`${key}drainMs`] = (clockNs() - started) / 1e6;
        await run.mark(`${key}drained`);
        values[`${key}deliveries`] = recorder.unique - before;
        run.latencies(key);
        run.check(subscribers, from, seq, key);
      }
    }
  }
}

/**
 * (e): every subscriber gets one update, goes away, misses `missed` updates, and all come back at
 * once with Last-Event-ID; each must be replayed exactly what it missed.
 */
async function reconnect(run: Run, params: ReconnectParams): Promise<void> {
  const { recorder, values } = run;
  const subscribers = await run.connect(params.subscribers);
  const publisher = run.publisher();
  await publisher.publish(0);
  await recorder.waitFor(subscribers.length, deliveryTimeoutMs(subscribers.length));
  for (const subscriber of subscribers) subscriber.close();
  // Let the server notice that they left before it publishes what they will miss.
  await sleep(1000);
  await run.publishRange(publisher, 1, 1 + params.missed);
  const before = recorder.unique;
  await run.mark('storm-start');
  const started = clockNs();
  const outcome = await openAll(subscribers, run.endpoints, CONNECT_WINDOW, true);
  run.addErrors(outcome.errors);
  values.reconnected = outcome.connected;
  values.reconnectFailed = outcome.failed;
  values.reconnectMs = outcome.ms;
  const expected = outcome.connected * params.missed;
  values.complete = (await recorder.waitFor(before + expected, deliveryTimeoutMs(expected))) ? 1 : 0;
  values.stormMs = (clockNs() - started) / 1e6;
  await run.mark('storm-end');
  values.replayed = recorder.unique - before;
  values.expected = subscribers.length * params.missed;
  run.check(subscribers, 0, 1 + params.missed);
}

/** What is left of a run once its result is out: its open streams, closed at the orchestrator's word. */
export interface Leftovers {
  closeAll(): void;
}

export async function runScript(
  params: ScenarioParams,
  endpoints: Endpoints,
  mark: (name: string) => Promise<void>,
  keep: (leftovers: Leftovers) => void,
): Promise<LoadgenResult> {
  const run = new Run(endpoints, mark);
  keep(run);
  try {
    switch (params.kind) {
      case 'fanout':
      case 'latency':
        await broadcast(run, params);
        break;
      case 'idle':
        await idle(run, params);
        break;
      case 'publish':
        await publish(run, params);
        break;
      case 'reconnect':
        await reconnect(run, params);
        break;
    }
  } catch (error) {
    run.end();
    throw error;
  }
  return run.end();
}
