/**
 * The soak: the real `siar serve` in a child process for a long while, a publisher at a steady rate,
 * and subscribers that churn (connect, read a few seconds, drop the connection, come back with
 * Last-Event-ID). It checks that every subscriber got every update of its topic from its first
 * one on, once and in order, and samples the hub's RSS (/proc) and event-loop delay (its /metrics,
 * prom-client's `nodejs_eventloop_lag_*`, reset at each scrape) to compare the start of the run
 * with its end. `npm run soak` (bench/soak.ts) runs it for 10 minutes by default;
 * test/reliability/soak.test.ts for 60 seconds in `npm test`.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createToken } from '../../../src/hub/index.js';
import { createParser } from '../../../src/protocol/index.js';
import { startHubProcess } from '../../helpers/hub-process.js';

const KEY = 'siar-soak-secret-that-is-long-enough';
/** How long the hub may take to listen. */
const HUB_START_TIMEOUT_MS = 30_000;
/** How much of the hub's output (its end) a failure quotes. */
const QUOTED_OUTPUT_CHARS = 20_000;

export interface SoakOptions {
  /** How long the publisher publishes, in ms (the catching up at the end comes on top). */
  durationMs: number;
  /** Updates per second. Default 50. */
  publishRate?: number;
  /** Subscribers, each on one topic, churning. Default 50. */
  subscribers?: number;
  /** Topics the updates go round. Default 5. */
  topics?: number;
  /** Bytes of data per update. Default 200. */
  payloadBytes?: number;
  /** How long a subscriber stays connected before it drops the connection: random in [min, max] ms. Default 1–8 s. */
  sessionMs?: [number, number];
  /** Between RSS and event-loop samples, in ms. Default 5000. */
  sampleEveryMs?: number;
  /** The hub's store, as `siar serve --store` takes it. Default memory. */
  store?: string;
  /**
   * Updates the hub keeps for replay (`--history-size`). Default 1,000: full after 20 s at 50
   * updates/s, so that the figures after the warm-up are those of a hub in its steady state (with
   * the 10,000 of the default, its memory grows for 200 s as the history fills, then stays).
   */
  historySize?: number;
  /** Where progress lines go. Default: nowhere. */
  log?: (line: string) => void;
}

export interface SoakSample {
  /** Since the publisher started, in ms. */
  atMs: number;
  rssBytes: number;
  /** V8 heap in use (the hub's nodejs_heap_size_used_bytes). */
  heapUsedBytes: number;
  /** Event-loop delay since the previous sample, from the hub's own monitor: 99th percentile, mean, max (ms). */
  lagP99Ms: number;
  lagMeanMs: number;
  lagMaxMs: number;
  subscribers: number;
}

/** What the tolerances allow between the start of the run (after its warm-up) and its end. */
export const SOAK_TOLERANCE = {
  /** RSS may grow by this fraction of its start value, or this many bytes, whichever is more. */
  rssFraction: 0.25,
  rssBytes: 24 * 1024 * 1024,
  /** Event-loop delay (p99) may grow to this multiple of its start value, or by this many ms, whichever is more. */
  lagFactor: 3,
  lagMs: 30,
};

export interface SoakReport {
  options: Required<Omit<SoakOptions, 'log'>>;
  elapsedMs: number;
  published: number;
  publishErrors: number;
  /** Events received, all subscribers together. */
  delivered: number;
  /** Connections the subscribers opened (the first ones and the reconnections). */
  connections: number;
  /** Updates a subscriber should have had (published on its topic from its first event on) and never got. */
  lost: number;
  /** Events a subscriber got more than once. */
  duplicated: number;
  /** Events that came before one published earlier. */
  outOfOrder: number;
  /** Events whose data was not what was published with their ID. */
  corrupted: number;
  samples: SoakSample[];
  /** Medians of the first three samples after the warm-up (a quarter of the run), and of the last three. */
  start: { rssBytes: number; lagP99Ms: number; lagMeanMs: number };
  end: { rssBytes: number; lagP99Ms: number; lagMeanMs: number };
  /** Empty when the run passed. */
  failures: string[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const dataOf = (seq: number, payload: string) => `${seq}:${payload}`;

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) * 1024;
}

function gauge(metrics: string, name: string): number {
  const match = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metrics);
  return match ? Number(match[1]) : Number.NaN;
}

/** One subscriber: connects, reads for a while, drops the connection, comes back with Last-Event-ID. */
class Churner {
  /** Sequence numbers of the events received, in the order received. */
  readonly received: number[] = [];
  connections = 0;
  corrupted = 0;
  private lastEventId: string | undefined;
  private current: ReturnType<typeof request> | undefined;

  constructor(
    private readonly url: string,
    readonly topic: number,
    private readonly payload: string,
  ) {}

  /** One connection, dropped after `ms` (or when `done()` says so); resolves once it has closed. */
  session(ms: number, done: () => boolean = () => false): Promise<void> {
    this.connections++;
    return new Promise((resolve) => {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
      const req = request(this.url, { headers, agent: false });
      this.current = req;
      const timer = setTimeout(() => req.destroy(), ms);
      const parser = createParser({
        onEvent: (event) => {
          const seq = Number(event.lastEventId.slice(1));
          this.lastEventId = event.lastEventId;
          this.received.push(seq);
          if (event.data !== dataOf(seq, this.payload)) this.corrupted++;
          if (done()) req.destroy();
        },
      });
      req.on('response', (res) => {
        res.on('data', (chunk: Buffer) => parser.feed(chunk));
        res.on('error', () => {});
      });
      req.on('error', () => {});
      req.on('close', () => {
        clearTimeout(timer);
        this.current = undefined;
        resolve();
      });
      req.end();
    });
  }

  stop(): void {
    this.current?.destroy();
  }
}

/** Runs the soak and returns its figures and verdict. Always stops the hub it started. */
export async function runSoak(input: SoakOptions): Promise<SoakReport> {
  const options = {
    durationMs: input.durationMs,
    publishRate: input.publishRate ?? 50,
    subscribers: input.subscribers ?? 50,
    topics: input.topics ?? 5,
    payloadBytes: input.payloadBytes ?? 200,
    sessionMs: input.sessionMs ?? ([1000, 8000] as [number, number]),
    sampleEveryMs: input.sampleEveryMs ?? 5000,
    store: input.store ?? 'memory',
    historySize: input.historySize ?? 1000,
  };
  const log = input.log ?? (() => {});
  const payload = 'p'.repeat(options.payloadBytes);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // What stops the hub (SIGKILL), whatever happens.
  const stops: Array<() => unknown> = [];
  try {
    const hub = await startHubProcess((stop) => stops.push(stop), {
      key: KEY,
      args: [
        '--store',
        options.store,
        '--history-size',
        String(options.historySize),
        '--heartbeat',
        '5000',
        '--no-dashboard',
      ],
      readyTimeoutMs: HUB_START_TIMEOUT_MS,
    });
    const { hubUrl } = hub;
    const topicUrl = (topic: number) => `https://example.com/soak/${topic}`;
    const token = await createToken({ publish: ['*'] }, KEY);
    const published: number[][] = Array.from({ length: options.topics }, () => []);
    let publishErrors = 0;
    let running = true;

    const churners = Array.from(
      { length: options.subscribers },
      (_, i) =>
        new Churner(
          `${hubUrl}?topic=${encodeURIComponent(topicUrl(i % options.topics))}`,
          i % options.topics,
          payload,
        ),
    );
    const [minSession, maxSession] = options.sessionMs;
    const churning = churners.map(async (churner) => {
      while (running) {
        await churner.session(minSession + Math.random() * (maxSession - minSession), () => !running);
        if (running) await sleep(Math.random() * 500);
      }
    });

    const publish = (seq: number) =>
      new Promise<boolean>((resolve) => {
        const topic = seq % options.topics;
        const body = new URLSearchParams({
          topic: topicUrl(topic),
          id: `s${seq}`,
          data: dataOf(seq, payload),
        });
        const req = request(hubUrl, {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
          res.on('error', () => resolve(false));
        });
        req.on('error', () => resolve(false));
        req.end(body.toString());
      });

    const samples: SoakSample[] = [];
    const started = performance.now();
    const sample = async () => {
      const metrics = await fetch(`${hub.url}/metrics`).then((response) => response.text());
      const next: SoakSample = {
        atMs: performance.now() - started,
        rssBytes: rssOf(hub.pid),
        heapUsedBytes: gauge(metrics, 'nodejs_heap_size_used_bytes'),
        lagP99Ms: gauge(metrics, 'nodejs_eventloop_lag_p99_seconds') * 1000,
        lagMeanMs: gauge(metrics, 'nodejs_eventloop_lag_mean_seconds') * 1000,
        lagMaxMs: gauge(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000,
        subscribers: gauge(metrics, 'siar_subscribers_connected'),
      };
      samples.push(next);
      log(
        `  ${(next.atMs / 1000).toFixed(0).padStart(5)} s  RSS ${mib(next.rssBytes)}  heap ${mib(next.heapUsedBytes)}  ` +
          `event-loop delay p99 ${next.lagP99Ms.toFixed(1)} ms  subscribers ${next.subscribers}`,
      );
    };
    // The first scrape resets the hub's event-loop histogram: what came before (startup) is not counted.
    await fetch(`${hub.url}/metrics`).then((response) => response.text());

    let seq = 0;
    let nextSample = options.sampleEveryMs;
    const interval = 1000 / options.publishRate;
    while (performance.now() - started < options.durationMs) {
      const due = seq * interval - (performance.now() - started);
      if (due > 0) await sleep(due);
      if (await publish(seq)) published[seq % options.topics]?.push(seq);
      else publishErrors++;
      seq++;
      if (performance.now() - started >= nextSample) {
        nextSample += options.sampleEveryMs;
        await sample();
      }
    }
    if (
      samples.length === 0 ||
      (samples.at(-1)?.atMs ?? 0) < options.durationMs - options.sampleEveryMs / 2
    ) {
      await sample();
    }

    // The end: stop churning, then let every subscriber catch up with its topic's last update.
    running = false;
    for (const churner of churners) churner.stop();
    await Promise.all(churning);
    const caughtUp = await Promise.all(
      churners.map(async (churner) => {
        const last = published[churner.topic]?.at(-1);
        if (last === undefined) return true;
        const deadline = performance.now() + 30_000;
        while (!churner.received.includes(last) && performance.now() < deadline) {
          await churner.session(5000, () => churner.received.includes(last));
        }
        return churner.received.includes(last);
      }),
    );
    const elapsedMs = performance.now() - started;

    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    let corrupted = 0;
    let delivered = 0;
    let connections = 0;
    for (const churner of churners) {
      delivered += churner.received.length;
      connections += churner.connections;
      corrupted += churner.corrupted;
      const first = churner.received[0];
      if (first === undefined) continue;
      const got = new Set(churner.received);
      duplicated += churner.received.length - got.size;
      for (const expected of published[churner.topic] ?? [])
        if (expected >= first && !got.has(expected)) lost++;
      for (let i = 1; i < churner.received.length; i++) {
        if ((churner.received[i] as number) < (churner.received[i - 1] as number)) outOfOrder++;
      }
    }

    const warm = samples.filter((s) => s.atMs >= options.durationMs / 4);
    const startSamples = warm.slice(0, 3);
    const endSamples = warm.slice(-3);
    const figures = (list: SoakSample[]) => ({
      rssBytes: median(list.map((s) => s.rssBytes)),
      lagP99Ms: median(list.map((s) => s.lagP99Ms)),
      lagMeanMs: median(list.map((s) => s.lagMeanMs)),
    });
    const start = figures(startSamples);
    const end = figures(endSamples);

    const failures: string[] = [];
    if (lost > 0) failures.push(`${lost} updates lost`);
    if (duplicated > 0) failures.push(`${duplicated} events received twice`);
    if (outOfOrder > 0) failures.push(`${outOfOrder} events out of order`);
    if (corrupted > 0) failures.push(`${corrupted} events with the wrong data`);
    if (publishErrors > 0) failures.push(`${publishErrors} publishes not acknowledged`);
    const behind = caughtUp.filter((ok) => !ok).length;
    if (behind > 0) failures.push(`${behind} subscribers never caught up with the last update`);
    if (churners.some((churner) => churner.received.length === 0))
      failures.push('a subscriber received nothing');
    const rssLimit =
      start.rssBytes + Math.max(SOAK_TOLERANCE.rssBytes, start.rssBytes * SOAK_TOLERANCE.rssFraction);
    if (!(end.rssBytes <= rssLimit)) {
      failures.push(`RSS grew from ${mib(start.rssBytes)} to ${mib(end.rssBytes)} (limit ${mib(rssLimit)})`);
    }
    const lagLimit = Math.max(
      start.lagP99Ms * SOAK_TOLERANCE.lagFactor,
      start.lagP99Ms + SOAK_TOLERANCE.lagMs,
    );
    if (!(end.lagP99Ms <= lagLimit)) {
      failures.push(
        `event-loop delay p99 grew from ${start.lagP99Ms.toFixed(1)} ms to ${end.lagP99Ms.toFixed(1)} ms (limit ${lagLimit.toFixed(1)} ms)`,
      );
    }
    if (hub.child.exitCode !== null)
      failures.push(`the hub exited (${hub.child.exitCode}):\n${hub.output().slice(-QUOTED_OUTPUT_CHARS)}`);
    return {
      options,
      elapsedMs,
      published: seq - publishErrors,
      publishErrors,
      delivered,
      connections,
      lost,
      duplicated,
      outOfOrder,
      corrupted,
      samples,
      start,
      end,
      failures,
    };
  } finally {
    agent.destroy();
    await Promise.all(stops.map((stop) => stop()));
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The report as Markdown: the run, the start and end figures, the verdict. */
export function renderSoakReport(report: SoakReport): string {
  const { options, start, end } = report;
  const change = (from: number, to: number) =>
    `${to >= from ? '+' : ''}${(((to - from) / from) * 100).toFixed(0)} %`;
  const lines = [
    `Soak: ${(options.durationMs / 1000).toFixed(0)} s of publishing (${(report.elapsedMs / 1000).toFixed(0)} s in all), ` +
      `${options.publishRate} updates/s over ${options.topics} topics, ${options.subscribers} churning subscribers, ` +
      `store ${options.store} keeping ${options.historySize} updates; the start is after a quarter of the run`,
    '',
    '| figure | start | end | change |',
    '|---|---:|---:|---:|',
    `| hub RSS | ${mib(start.rssBytes)} | ${mib(end.rssBytes)} | ${change(start.rssBytes, end.rssBytes)} |`,
    `| event-loop delay p99 | ${start.lagP99Ms.toFixed(1)} ms | ${end.lagP99Ms.toFixed(1)} ms | ${change(start.lagP99Ms, end.lagP99Ms)} |`,
    `| event-loop delay mean | ${start.lagMeanMs.toFixed(1)} ms | ${end.lagMeanMs.toFixed(1)} ms | ${change(start.lagMeanMs, end.lagMeanMs)} |`,
    '',
    '| count | value |',
    '|---|---:|',
    `| updates published (acknowledged) | ${report.published} |`,
    `| publishes not acknowledged | ${report.publishErrors} |`,
    `| events delivered | ${report.delivered} |`,
    `| subscriber connections (first and reconnections) | ${report.connections} |`,
    `| lost | ${report.lost} |`,
    `| duplicated | ${report.duplicated} |`,
    `| out of order | ${report.outOfOrder} |`,
    `| wrong data | ${report.corrupted} |`,
    '',
    report.failures.length === 0
      ? `PASS: nothing lost or duplicated; RSS within +max(${mib(SOAK_TOLERANCE.rssBytes)}, ${SOAK_TOLERANCE.rssFraction * 100} %) ` +
        `and event-loop delay p99 within max(×${SOAK_TOLERANCE.lagFactor}, +${SOAK_TOLERANCE.lagMs} ms) of the start.`
      : `FAIL: ${report.failures.join('; ')}`,
  ];
  return lines.join('\n');
}
