/**
 * Every core, and 40,000 subscribers on this machine: `siar serve --workers 1/2/3` (memory store)
 * and nchan with two nginx workers, side by side in one run. One process may hold 20,000
 * descriptors here, so the load generator is several processes (bench/workers-loadgen.ts), each
 * holding a share of the subscribers; this orchestrator publishes and samples the servers.
 *
 *   npm run bench:workers               one run of each server (about 3 minutes); prints the table
 *   npm run bench:workers -- --write    also writes it into BENCHMARKS.md and README.md (their "workers" sections)
 *   npm run bench:workers -- --subscribers 600    a smaller run (a check of the script itself)
 *   npm run bench:workers -- --only 1,3,nchan      some of the servers: Siar's numbers of workers, nchan
 *
 * Each server is asked for as many subscribers as it can hold, at most 40,000: a Siar process holds
 * its descriptor limit less the hub's reserve of 256 (19,744 here), so `--workers 1` is asked 19,744,
 * two workers 39,488, three 40,000; nchan's two workers of 20,000 descriptors each are asked 39,488. Then:
 *   latency     20 updates at 4 a second: publish-to-receive of every delivery (p50, p99, max)
 *   throughput  20 updates published back to back: deliveries/s, server CPU per delivery
 * and every subscriber must have every update of both, once, in order (counted per subscriber).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clockNs } from '../src/cli/bench/payload.js';
import { Publisher } from '../src/cli/bench/publisher.js';
import { SOURCE_ADDRESSES } from '../src/cli/bench/subscribers.js';
import { budgetOf, readDescriptorLimit } from '../src/hub/capacity.js';

/** The subscribers one `siar serve` process holds here: its descriptor limit less the hub's reserve. */
const subscriberCapacity = () => budgetOf(readDescriptorLimit(), 0).subscribers;

import { type Child, installCleanup, launch, REPO_ROOT } from './lib/children.js';
import { withSection } from './lib/kept-section.js';
import { machineFacts } from './lib/machine.js';
import { sampleMachine, sampleTree } from './lib/proc.js';
import { waitForQuiet } from './lib/quiet.js';
import { CONNECT_WINDOW, DATA_BYTES } from './lib/scenarios.js';
import { waitForTimeWait } from './lib/time-wait.js';
import { hubServer } from './servers/hub.js';
import type { ServerUnderTest } from './servers/index.js';
import { nchanServer } from './servers/nchan.js';
import type { FromLoadgen, ToLoadgen } from './workers-loadgen.js';

/** Subscribers asked of a server, at most, unless `--subscribers` says otherwise. */
const MOST_SUBSCRIBERS = 40_000;
/** Load generator processes: each holds at most a third of 40,000, well under one process's descriptors. */
const LOADGENS = 3;
const LATENCY_UPDATES = 20;
const LATENCY_RATE = 4;
const THROUGHPUT_UPDATES = 20;
/** Updates published with no subscriber yet, after as many to warm up: the server's CPU per publish. */
const PUBLISH_UPDATES = 500;
/** Between the last stream opened and the first measure: memory is read then. */
const SETTLE_MS = 2000;
/** While subscribers connect, the publisher publishes this often, so that its connection is never idle. */
const KEEPALIVE_MS = 500;
/** Longest a phase may wait for its deliveries. */
const PHASE_TIMEOUT_MS = 60_000;
/** Client-side TIME_WAIT connections tolerated before a server's run. */
const TIME_WAIT_LIMIT = 10_000;
/** Busy cores of other programs tolerated before a server's run, and the longest wait for them to go. */
const QUIET_CORES = 0.3;
const QUIET_WAIT_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where this process's clock (clockNs) starts, on the machine's monotonic clock. */
const STARTED_NS = Number(process.hrtime.bigint()) - clockNs();

interface BenchServer {
  server: ServerUnderTest;
  /** Processes that serve (a Siar primary not counted). */
  processes: number;
  asked: number;
}

/** `siar serve --workers <workers>`, memory store, as bench/servers/hub.ts runs it. */
function siar(workers: number, most: number): BenchServer {
  return {
    server: hubServer('hub', `Siar --workers ${workers}`, 'memory', undefined, 'http1', [
      '--workers',
      `${workers}`,
    ]),
    processes: workers,
    asked: Math.min(most, workers * subscriberCapacity()),
  };
}

/** nchan with two nginx workers (bench/servers/nchan.ts: a master process, `reuseport`). */
function nchanTwoWorkers(most: number): BenchServer {
  return { server: nchanServer(2), processes: 2, asked: Math.min(most, 2 * subscriberCapacity()) };
}

/** A load generator process, spoken to over IPC. */
class Loadgen {
  private constructor(
    private readonly child: Child,
    readonly startedNs: number,
  ) {}

  static async start(index: number): Promise<Loadgen> {
    const child = launch(
      `load generator ${index}`,
      process.execPath,
      ['--import', 'tsx', 'bench/workers-loadgen.ts'],
      {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const ready = await new Promise<FromLoadgen & { type: 'ready' }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator ${index} did not start`)), 20_000);
      child.process.once('message', (message: FromLoadgen) => {
        clearTimeout(timer);
        if (message.type === 'ready') resolve(message);
      });
    });
    return new Loadgen(child, ready.startedNs);
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Sends a message (if any) and resolves with the first answer of type `type`. */
  ask<T extends FromLoadgen['type']>(
    message: ToLoadgen | undefined,
    type: T,
  ): Promise<FromLoadgen & { type: T }> {
    return new Promise((resolve, reject) => {
      const onMessage = (answer: FromLoadgen) => {
        if (answer.type !== type) return;
        this.child.process.off('message', onMessage);
        this.child.process.off('exit', onExit);
        resolve(answer as FromLoadgen & { type: T });
      };
      const onExit = () => reject(new Error(`a load generator died:\n${this.child.tail()}`));
      this.child.process.on('message', onMessage);
      this.child.process.once('exit', onExit);
      if (message !== undefined) this.child.process.send(message);
    });
  }

  /** Arms a measure; resolves once armed, with its result to come (wrapped: a promise would be awaited). */
  async measure(
    from: number,
    to: number,
    latency: boolean,
  ): Promise<{ result: Promise<FromLoadgen & { type: 'measured' }> }> {
    const armed = this.ask({ type: 'measure', from, to, latency, timeoutMs: PHASE_TIMEOUT_MS }, 'armed');
    const result = this.ask(undefined, 'measured');
    await armed;
    return { result };
  }

  stop(): Promise<void> {
    return this.child.stop('SIGTERM', 2000);
  }
}

/** What one server's run measured. */
interface Row {
  label: string;
  processes: number;
  asked: number;
  held: number;
  connectPerSec: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuUsPerDelivery: number;
  softirqUsPerDelivery: number;
  cpuUsPerPublish: number;
  kbPerSubscriber: number;
  lost: number;
  dups: number;
  incomplete: number;
  serverCloses: number;
  connectErrors: Record<string, number>;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
}

/** Subscribers `asked`, split between the load generators, each with the index its source address comes from. */
function shares(asked: number, count: number): Array<{ first: number; count: number }> {
  const base = Math.floor(asked / count);
  return Array.from({ length: count }, (_, i) => ({
    first: i * base,
    count: i === count - 1 ? asked - base * (count - 1) : base,
  }));
}

async function runServer(bench: BenchServer, loadgens: Loadgen[]): Promise<Row> {
  const { server } = bench;
  const unavailable = await server.unavailable();
  if (unavailable !== undefined) throw new Error(`${server.label} cannot run here: ${unavailable}`);
  await waitForTimeWait(SOURCE_ADDRESSES, TIME_WAIT_LIMIT, 90_000);
  await waitForQuiet(QUIET_CORES, QUIET_WAIT_MS);
  const started = await server.start();
  const root = started.child.pid;
  const { endpoints } = started;
  const publisher = new Publisher(endpoints, DATA_BYTES);
  try {
    const rssBefore = sampleTree(root).rssBytes;
    let seq = 0;
    for (let i = 0; i < PUBLISH_UPDATES; i++) await publisher.publish(seq++);
    const publishCpuBefore = sampleTree(root).cpuNs;
    for (let i = 0; i < PUBLISH_UPDATES; i++) await publisher.publish(seq++);
    const publishCpuNs = sampleTree(root).cpuNs - publishCpuBefore;
    let connecting = true;
    const keepalive = (async () => {
      while (connecting) {
        await sleep(KEEPALIVE_MS);
        if (connecting) await publisher.publish(seq++);
      }
    })();
    const window = Math.ceil(CONNECT_WINDOW / loadgens.length);
    const connectStarted = clockNs();
    const outcomes = await Promise.all(
      shares(bench.asked, loadgens.length).map(({ first, count }, i) =>
        (loadgens[i] as Loadgen).ask({ type: 'connect', endpoints, first, count, window }, 'connected'),
      ),
    );
    const connectMs = (clockNs() - connectStarted) / 1e6;
    connecting = false;
    await keepalive;
    await sleep(SETTLE_MS);
    const rssAfter = sampleTree(root).rssBytes;
    const held = outcomes.reduce((sum, { connected }) => sum + connected, 0);
    const connectErrors: Record<string, number> = {};
    for (const { errors } of outcomes) {
      for (const [reason, count] of Object.entries(errors))
        connectErrors[reason] = (connectErrors[reason] ?? 0) + count;
    }

    // Latency: updates on a fixed schedule, every delivery timed.
    const latencyFrom = seq;
    const latencyResults = await Promise.all(
      loadgens.map((loadgen) => loadgen.measure(latencyFrom, latencyFrom + LATENCY_UPDATES, true)),
    );
    const scheduleStart = clockNs();
    for (let i = 0; i < LATENCY_UPDATES; i++) {
      const wait = (scheduleStart + (i * 1e9) / LATENCY_RATE - clockNs()) / 1e6;
      if (wait > 0) await sleep(wait);
      await publisher.publish(seq++);
    }
    const latency = await Promise.all(latencyResults.map(({ result }) => result));
    const samples = new Float64Array(latency.reduce((sum, { latenciesNs }) => sum + latenciesNs.length, 0));
    let at = 0;
    latency.forEach(({ latenciesNs }, i) => {
      // Each load generator's clock starts where it does; the publisher's is this process's.
      const offsetNs = (loadgens[i] as Loadgen).startedNs - STARTED_NS;
      for (const ns of latenciesNs) samples[at++] = (ns + offsetNs) / 1e6;
    });
    samples.sort();
    await sleep(SETTLE_MS);

    // Throughput: updates back to back; the server's CPU from the first publish to the last delivery.
    const throughputFrom = seq;
    const throughputResults = await Promise.all(
      loadgens.map((loadgen) => loadgen.measure(throughputFrom, throughputFrom + THROUGHPUT_UPDATES, false)),
    );
    const cpuBefore = sampleTree(root).cpuNs;
    const machineBefore = sampleMachine();
    const publishStarted = clockNs();
    for (let i = 0; i < THROUGHPUT_UPDATES; i++) await publisher.publish(seq++);
    const throughput = await Promise.all(throughputResults.map(({ result }) => result));
    const cpuNs = sampleTree(root).cpuNs - cpuBefore;
    const softirqNs = sampleMachine().softirqNs - machineBefore.softirqNs;
    const lastNs = Math.max(
      ...throughput.map(({ lastNs }, i) => lastNs + (loadgens[i] as Loadgen).startedNs - STARTED_NS),
    );
    const deliveries = throughput.reduce((sum, { deliveries }) => sum + deliveries, 0);
    const both = [...latency, ...throughput];
    return {
      label: server.label,
      processes: bench.processes,
      asked: bench.asked,
      held,
      connectPerSec: held / (connectMs / 1000),
      deliveriesPerSec: deliveries / ((lastNs - publishStarted) / 1e9),
      p50Ms: percentile(samples, 0.5),
      p99Ms: percentile(samples, 0.99),
      maxMs: percentile(samples, 1),
      cpuUsPerDelivery: cpuNs / 1000 / deliveries,
      softirqUsPerDelivery: softirqNs / 1000 / deliveries,
      cpuUsPerPublish: publishCpuNs / 1000 / PUBLISH_UPDATES,
      kbPerSubscriber: (rssAfter - rssBefore) / 1000 / held,
      lost: both.reduce((sum, { lost }) => sum + lost, 0),
      dups: both.reduce((sum, { dups }) => sum + dups, 0),
      incomplete: both.filter(({ complete }) => !complete).length,
      serverCloses: Math.max(...throughput.map(({ serverCloses }) => serverCloses)),
      connectErrors,
    };
  } finally {
    publisher.close();
    // The clients close first, with a reset: no TIME_WAIT left on their side for the next server.
    await Promise.all(loadgens.map((loadgen) => loadgen.ask({ type: 'close' }, 'closed')));
    await started.stop();
  }
}

const number = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

function table(rows: Row[]): string {
  const one = rows.find((row) => row.label === 'Siar --workers 1');
  const lines = [
    '| server | processes | asked | held | connect/s | deliveries/s | p50 ms | p99 ms | max ms | server CPU µs/delivery | vs one process | + softirq µs/delivery | RSS KB/subscriber | server CPU µs/publish | lost | dup |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const ratio =
      one && row.label.startsWith('Siar') ? `${number(row.cpuUsPerDelivery / one.cpuUsPerDelivery, 2)}x` : '';
    lines.push(
      `| ${row.label.startsWith('Siar') ? `**${row.label}**` : row.label} | ${row.processes} | ${number(row.asked)} | ${number(row.held)} | ${number(row.connectPerSec)} | ${number(row.deliveriesPerSec)} | ${number(row.p50Ms, 1)} | ${number(row.p99Ms, 1)} | ${number(row.maxMs, 1)} | ${number(row.cpuUsPerDelivery, 2)} | ${ratio} | ${number(row.cpuUsPerDelivery + row.softirqUsPerDelivery, 2)} | ${number(row.kbPerSubscriber, 1)} | ${number(row.cpuUsPerPublish)} | ${row.lost} | ${row.dups} |`,
    );
  }
  return lines.join('\n');
}

/** The BENCHMARKS.md section: what was run, how, the table, and what it says against the targets. */
/** The targets of issue 16, each met or missed, with the figures. */
function verdicts(rows: Row[], asked: number): string[] {
  const most = rows.find((row) => row.label === 'Siar --workers 3');
  const one = rows.find((row) => row.label === 'Siar --workers 1');
  const nchan = rows.find((row) => row.label.startsWith('nchan'));
  if (most === undefined) return [];
  const lines = [
    `${number(asked)} held with zero loss (\`--workers 3\`): **${most.held === asked && most.lost === 0 && most.dups === 0 && most.incomplete === 0 ? 'met' : 'missed'}** (${number(most.held)} held, ${most.lost} lost, ${most.dups} repeated)`,
  ];
  if (one) {
    const ratio = most.cpuUsPerDelivery / one.cpuUsPerDelivery;
    lines.push(
      `server CPU per delivery with workers at most 1.1x one process's: **${ratio <= 1.1 ? 'met' : 'missed'}** (${number(ratio, 2)}x: ${number(most.cpuUsPerDelivery, 2)} µs against ${number(one.cpuUsPerDelivery, 2)} µs)`,
    );
  }
  if (nchan) {
    lines.push(
      `p99 at ${number(most.held)} no worse than nchan's at the most it holds (${number(nchan.held)}): **${most.p99Ms <= nchan.p99Ms ? 'met' : 'missed'}** (${number(most.p99Ms, 1)} ms against ${number(nchan.p99Ms, 1)} ms)`,
    );
  }
  return lines;
}

/** What the figures say beyond the targets: where the workers' costs come from, and what is refused. */
function notes(rows: Row[]): string[] {
  const one = rows.find((row) => row.label === 'Siar --workers 1');
  const most = rows.find((row) => row.label === 'Siar --workers 3');
  const lines: string[] = [];
  if (one && most) {
    const extra = most.cpuUsPerPublish - one.cpuUsPerPublish;
    const perDelivery = extra / most.held;
    const more = most.cpuUsPerDelivery - one.cpuUsPerDelivery;
    lines.push(
      `Each publish costs the workers' tree ${number(extra)} µs more CPU than one process's (${number(most.cpuUsPerPublish)} µs against ${number(one.cpuUsPerPublish)} µs: the trips through the primary, and each worker's own copy of the update); spread over ${number(most.held)} deliveries that is ${number(perDelivery, 3)} µs of the ${number(more, 2)} µs more per delivery. The rest was not measured apart: ${most.processes} workers and ${LOADGENS} load generators share ${machineFacts().cores} cores here, and each worker's loop over its sockets is interrupted more often than one process's.`,
      `Streams open more slowly with workers (${number(most.connectPerSec)}/s against ${number(one.connectPerSec)}/s): node:cluster's primary accepts each connection and hands it to a worker over the channel, one at a time per worker, and the primary admits each subscriber (one message each way, in batches). Memory per subscriber: ${number(most.kbPerSubscriber, 1)} KB against ${number(one.kbPerSubscriber, 1)} KB.`,
    );
  }
  for (const row of rows) {
    const refused = row.connectErrors['HTTP 503'];
    if (
      refused !== undefined &&
      row.label.startsWith('Siar') &&
      row.asked === row.processes * subscriberCapacity()
    ) {
      lines.push(
        `${row.label} was asked for exactly what its workers hold: node:cluster does not hand connections out exactly evenly (a worker busy with the last handoff is passed over), so a worker that got more than its share refused ${number(refused)} (503 with Retry-After, which a client retries).`,
      );
    }
  }
  return lines;
}

function benchmarksSection(rows: Row[], asked: number, minutes: number): string {
  const facts = machineFacts();
  const targets = verdicts(rows, asked).map((line) => `- ${line.charAt(0).toUpperCase()}${line.slice(1)}.`);
  const errors = rows
    .filter((row) => Object.keys(row.connectErrors).length > 0)
    .map(
      (row) =>
        `${row.label}: ${Object.entries(row.connectErrors)
          .map(([reason, count]) => `${count} × ${reason}`)
          .join(', ')}`,
    );
  return `## Workers: every core, ${number(asked)} subscribers

Generated by \`npm run bench:workers\` on ${facts.date} (${number(minutes, 1)} minutes, one run of each server; Siar
commit ${facts.commit}). ${facts.cores} cores shared by the servers and ${LOADGENS} load generator processes; a process
may hold ${facts.openFiles} descriptors, so one Siar process holds ${number(subscriberCapacity())} subscribers (its limit less the hub's reserve of 256).
Other programs may use the machine meanwhile (it waits at most ${QUIET_WAIT_MS / 1000} s before each server for them to go quiet, and
does not subtract what they use): compare within one run.

Each server is asked for as many subscribers as it can hold, at most ${number(asked)}: \`siar serve --workers N\`
(memory store, through its CLI) N × ${number(subscriberCapacity())}, nchan with two nginx workers (\`reuseport\`, 20,000
descriptors each) ${number(2 * subscriberCapacity())}. The subscribers are spread over ${LOADGENS} load generator processes
(\`bench/workers-loadgen.ts\`, raw sockets from 127.0.0.2–5); the orchestrator publishes. **Latency**: ${LATENCY_UPDATES}
updates of ${DATA_BYTES} B at ${LATENCY_RATE} a second, publish-to-receive of every delivery (each load generator's clock
set against the publisher's). **Throughput**: ${THROUGHPUT_UPDATES} updates published back to back; deliveries/s from the
first publish to the last delivery, and the CPU time of the server's whole process tree (Siar's primary and workers,
nginx's master and workers) over the same span, per delivery. RSS per subscriber: the tree's RSS after the streams
opened less before, divided by the streams held. CPU per publish: the tree's, over ${PUBLISH_UPDATES} updates published one after
the other before any subscriber (after as many to warm up); Siar's include the JWT check and, with workers, the
trips through the primary. Lost and dup: every subscriber's events of both phases, checked by
sequence number.

${table(rows)}

${targets.join('\n')}
${errors.length > 0 ? `\nStreams that did not open: ${errors.join('; ')}.\n` : ''}
${notes(rows).join('\n\n')}
`;
}

/** The README's table: the same run, fewer columns. */
function readmeSection(rows: Row[], asked: number): string {
  const lines = [
    `From \`npm run bench:workers\` (${number(asked)} subscribers at most; a process holds ${number(subscriberCapacity())} here; [BENCHMARKS.md](BENCHMARKS.md#workers-every-core-40000-subscribers)):`,
    '',
    '| | held | lost | deliveries/s | p99 | server CPU per delivery | RSS per subscriber |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const label = row.label.startsWith('Siar')
      ? `**${row.label.replace('Siar ', 'siar serve ')}**`
      : row.label;
    lines.push(
      `| ${label} | ${number(row.held)} | ${row.lost} | ${number(row.deliveriesPerSec)} | ${number(row.p99Ms, 1)} ms | ${number(row.cpuUsPerDelivery, 2)} µs | ${number(row.kbPerSubscriber, 1)} KB |`,
    );
  }
  const targets = verdicts(rows, asked);
  if (targets.length > 0) lines.push('', `Targets: ${targets.join('; ')}.`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      write: { type: 'boolean', default: false },
      subscribers: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const most = values.subscribers === undefined ? MOST_SUBSCRIBERS : Number(values.subscribers);
  if (!Number.isSafeInteger(most) || most < LOADGENS)
    throw new Error(`--subscribers must be at least ${LOADGENS}.`);
  installCleanup();
  const began = Date.now();
  const loadgens = await Promise.all(Array.from({ length: LOADGENS }, (_, i) => Loadgen.start(i)));
  const rows: Row[] = [];
  const only = values.only?.split(',').map((item) => item.trim());
  const servers = [
    ...[1, 2, 3]
      .filter((workers) => only === undefined || only.includes(String(workers)))
      .map((workers) => siar(workers, most)),
    ...(only === undefined || only.includes('nchan') ? [nchanTwoWorkers(most)] : []),
  ];
  for (const bench of servers) {
    process.stderr.write(`${bench.server.label}: ${number(bench.asked)} subscribers… `);
    const row = await runServer(bench, loadgens);
    process.stderr.write(
      `${number(row.held)} held, ${number(row.deliveriesPerSec)} deliveries/s, p99 ${number(row.p99Ms, 1)} ms, ${number(row.cpuUsPerDelivery, 2)} µs/delivery, lost ${row.lost}\n`,
    );
    rows.push(row);
  }
  await Promise.all(loadgens.map((loadgen) => loadgen.stop()));
  const section = benchmarksSection(rows, most, (Date.now() - began) / 60_000);
  process.stdout.write(`\n${section}\n`);
  if (values.write) {
    for (const [file, body] of [
      ['BENCHMARKS.md', section],
      ['README.md', readmeSection(rows, most)],
    ] as const) {
      const path = join(REPO_ROOT, file);
      writeFileSync(path, withSection(readFileSync(path, 'utf8'), 'workers', body));
    }
    process.stderr.write('Wrote the workers sections of BENCHMARKS.md and README.md.\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
