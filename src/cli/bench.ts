import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createToken } from '../hub/index.js';
import { type Endpoints, isLoopback, mercureEndpoints } from './bench/endpoints.js';
import { cpuMicros, startHubProcess } from './bench/hub-process.js';
import { clockNs } from './bench/payload.js';
import { drawProgress } from './bench/progress.js';
import { Publisher } from './bench/publisher.js';
import { Recorder } from './bench/recorder.js';
import { openAll, Subscriber } from './bench/subscribers.js';
import { defineCommand } from './command.js';
import { defineFlags, type FlagValues } from './flags.js';
import { styleFor } from './style.js';
import { UsageError } from './usage-error.js';

/** Descriptors one process may hold here, with room for the rest: the subscribers' sockets must fit. */
const MAX_SUBSCRIBERS = 19_000;
/** Streams opening at once: under a server's listen backlog (511), so the kernel does not drop connects. */
const CONNECT_WINDOW = 500;

const FLAGS = defineFlags({
  subscribers: {
    kind: 'integer',
    short: 's',
    value: '<n>',
    default: 1000,
    help: `subscribers (at most ${MAX_SUBSCRIBERS})`,
  },
  updates: { kind: 'integer', short: 'u', value: '<n>', default: 200, help: 'updates published' },
  size: { kind: 'integer', value: '<bytes>', default: 100, help: 'data size of each update' },
  topic: {
    kind: 'string',
    value: '<topic>',
    default: 'https://example.com/bench',
    help: 'the topic subscribed and published to',
  },
  token: { kind: 'string', value: '<jwt>', help: 'a publisher token (with a hub URL)' },
  key: { kind: 'string', short: 'k', value: '<key>', help: "or the hub's key, to sign one (HS256)" },
  json: { kind: 'boolean', help: 'print the figures as JSON instead of a table' },
});

interface Figures {
  subscribers: number;
  updates: number;
  connectPerSecond: number;
  deliveriesPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  lost: number;
  duplicated: number;
  /** CPU time of the hub per delivery, when the bench started the hub itself. */
  hubCpuMicrosPerDelivery: number | undefined;
}

/** A progress bar on one line (a terminal only). */
function progress(enabled: boolean, label: string, done: number, total: number): void {
  if (enabled) drawProgress(process.stdout, label, done, total);
}

async function measure(
  endpoints: Endpoints,
  subscriberCount: number,
  updates: number,
  size: number,
  hubPid: number | undefined,
  tty: boolean,
): Promise<Figures> {
  const recorder = new Recorder();
  const subscribers = Array.from({ length: subscriberCount }, (_, i) => new Subscriber(i, recorder));
  const publisher = new Publisher(endpoints, size);
  try {
    const connectedSoFar = () => subscribers.filter((subscriber) => subscriber.isOpen).length;
    const ticker = setInterval(() => progress(tty, 'connecting', connectedSoFar(), subscriberCount), 100);
    const connected = await openAll(subscribers, endpoints, CONNECT_WINDOW);
    clearInterval(ticker);
    progress(tty, 'connecting', connected.connected, subscriberCount);
    if (tty) process.stdout.write('\n');
    if (connected.failed > 0) {
      const reasons = Object.entries(connected.errors).map(([reason, count]) => `${count} × ${reason}`);
      throw new UsageError(
        `${connected.failed} of ${subscriberCount} subscribers could not connect: ${reasons.join('; ')}`,
        1,
      );
    }
    recorder.recordFrom = 0;
    const expected = subscriberCount * updates;
    const cpuBefore = cpuMicros(hubPid);
    const started = clockNs();
    const delivering = setInterval(() => progress(tty, 'delivering', recorder.unique, expected), 100);
    try {
      for (let seq = 0; seq < updates; seq++) await publisher.publish(seq);
      await recorder.waitFor(expected, 10_000 + expected / 10);
    } finally {
      clearInterval(delivering);
    }
    const seconds = (clockNs() - started) / 1e9;
    const cpuAfter = cpuMicros(hubPid);
    progress(tty, 'delivering', recorder.unique, expected);
    if (tty) process.stdout.write('\n');
    const latency = recorder.takeLatencies();
    return {
      subscribers: subscriberCount,
      updates,
      connectPerSecond: (subscriberCount / connected.ms) * 1000,
      deliveriesPerSecond: recorder.unique / seconds,
      latencyMs: { p50: latency.p50Ms, p99: latency.p99Ms, max: latency.maxMs },
      lost: expected - recorder.unique,
      duplicated: recorder.dups,
      hubCpuMicrosPerDelivery:
        cpuBefore === undefined || cpuAfter === undefined || recorder.unique === 0
          ? undefined
          : (cpuAfter - cpuBefore) / recorder.unique,
    };
  } finally {
    publisher.close();
    for (const subscriber of subscribers) subscriber.close();
  }
}

function table(figures: Figures, hub: string): string {
  const number = (value: number, digits = 0) =>
    Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–';
  const rows: Array<[string, string]> = [
    ['hub', hub],
    ['subscribers', number(figures.subscribers)],
    ['updates', number(figures.updates)],
    ['connects/s', number(figures.connectPerSecond)],
    ['deliveries/s', number(figures.deliveriesPerSecond)],
    [
      'latency p50 / p99 / max',
      `${number(figures.latencyMs.p50, 1)} / ${number(figures.latencyMs.p99, 1)} / ${number(figures.latencyMs.max, 1)} ms`,
    ],
    [
      'hub CPU per delivery',
      figures.hubCpuMicrosPerDelivery === undefined
        ? '– (a hub of its own only)'
        : `${number(figures.hubCpuMicrosPerDelivery, 2)} µs`,
    ],
    ['lost / repeated', `${figures.lost} / ${figures.duplicated}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return `${rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n')}\n`;
}

async function run(values: FlagValues<typeof FLAGS>, positionals: string[]): Promise<number> {
  const { subscribers, updates, size, topic } = values;
  if (subscribers < 1 || subscribers > MAX_SUBSCRIBERS) {
    throw new UsageError(
      `--subscribers must be between 1 and ${MAX_SUBSCRIBERS} (one process holds 20,000 sockets here).`,
    );
  }
  if (updates < 1 || updates > 100_000) throw new UsageError('--updates must be between 1 and 100,000.');
  if (size < 40 || size > 65_536) throw new UsageError('--size must be between 40 and 65,536 bytes.');
  const style = styleFor(process.stderr);
  const tty = process.stdout.isTTY === true && !values.json;

  let hubUrl = positionals[0];
  let token = values.token;
  let child: ChildProcess | undefined;
  try {
    if (hubUrl === undefined) {
      const key = randomBytes(24).toString('base64url');
      const started = await startHubProcess(key, ['--max-subscribers', String(subscribers + 100)]);
      child = started.child;
      hubUrl = started.url;
      token = await createToken({ publish: [topic] }, key);
    } else if (token === undefined) {
      if (values.key === undefined)
        throw new UsageError("With a hub URL, give --token (a publisher JWT) or --key (the hub's secret).");
      token = await createToken({ publish: [topic] }, values.key, { expiresIn: 600 });
    }
    const url = new URL(hubUrl);
    if (!isLoopback(url.hostname)) {
      throw new UsageError(
        `siar bench measures hubs on this machine only (a loopback address), not ${url.hostname}.`,
      );
    }
    if (url.protocol !== 'http:')
      throw new UsageError('siar bench speaks HTTP/1.1 in clear: give an http:// URL.');
    const endpoints = mercureEndpoints(url, topic, token);
    const figures = await measure(endpoints, subscribers, updates, size, child?.pid, tty);
    if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    else
      process.stdout.write(`\n${table(figures, child ? `${url.href} (started by siar bench)` : url.href)}`);
    const clean = figures.lost === 0 && figures.duplicated === 0;
    if (!clean)
      process.stderr.write(
        style.red(`siar bench: ${figures.lost} lost and ${figures.duplicated} repeated deliveries.\n`),
      );
    return clean ? 0 : 1;
  } finally {
    child?.kill('SIGTERM');
  }
}

export const command = defineCommand({
  name: 'bench',
  usage: '[hub-url] [options]',
  about: `Measures a Mercure hub on this machine: opens subscribers on raw sockets, publishes updates one after
the other, and reports how fast every update reached every subscriber. Without a URL it starts a hub
of its own (siar serve, memory store) and measures that, CPU included. Loopback only.`,
  flags: FLAGS,
  positionals: true,
  more: `Exit status: 0 when every subscriber got every update once; 1 when one was lost or repeated, or the
hub refused; 2 for a usage error.

Examples:
  siar bench
  siar bench --subscribers 5000 --updates 50
  siar bench http://127.0.0.1:3000/.well-known/mercure --key "$KEY"
`,
  run,
});
