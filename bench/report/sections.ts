/**
 * One section per scenario, (a) to (e): what was run, a table with a row per server, and its charts
 * (written to bench/charts/, linked from the section).
 */
import type { ServerName } from '../servers/index.js';
import { type Bar, barChart } from './bar-chart.js';
import { kb, label, mb, ms, number, rate, table, us } from './format.js';
import { isSiar, NODE_FLOOR, outcome, type ReportInput, type Row, shownRows } from './outcomes.js';

const CHART_DIR = 'bench/charts';

function chart(
  charts: Map<string, string>,
  file: string,
  rows: readonly Row[],
  metric: string,
  title: string,
  subtitle: string,
  format: (value: number) => string,
): string {
  const bars: Bar[] = rows
    .filter((row) => row.runs.length > 0)
    .map((row) => ({
      label: row.label,
      value: row.combined[metric] ?? Number.NaN,
      highlight: isSiar(row),
      reference: row.server === 'nchan' || row.server === NODE_FLOOR,
    }));
  if (!bars.some((bar) => Number.isFinite(bar.value))) return '';
  charts.set(file, barChart({ title, subtitle, bars, format }));
  return `![${title}](${CHART_DIR}/${file})\n`;
}

export function fanoutSection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'fanout');
  if (found?.scenario.params.kind !== 'fanout') return '';
  const { subscribers, updates, warmup } = found.scenario.params;
  const rows = shownRows(found);
  const body = rows.map((row) => {
    const m = row.combined;
    return [
      label(row),
      rate(m.connectPerSec),
      rate(m.deliveriesPerSec),
      us(m.serverCpuUsPerDelivery),
      us(m.serverAndSoftirqUsPerDelivery),
      us(m.loadgenCpuUsPerDelivery),
      number((m.serverCpuShare ?? Number.NaN) * 100),
      number((m.softirqShare ?? Number.NaN) * 100),
      number((m.otherCpuShare ?? Number.NaN) * 100),
      ms(m.p50Ms),
      ms(m.p99Ms),
      ms(m.maxMs),
      kb(m.bytesPerConnection),
      number(m.lost),
      number(m.dups),
    ];
  });
  return `## (a) Fan-out

${number(subscribers)} subscribers; ${number(updates)} updates of 100 B published one after the other by one
keep-alive publisher, each as soon as the previous one was acknowledged (after ${warmup} warm-up updates).
CPU per delivery = CPU time of the server's process tree from the first publish until every subscriber had
every update, divided by the deliveries. "+ softirq" adds the machine's software-interrupt time over the same
span, per delivery: the kernel does a loopback write's TCP work either inside the writer's system call
(charged to the server) or in softirq context (charged to no process), as timing has it, so the sum compares
servers whichever way it fell.

${table(
  [
    'server',
    'connect/s',
    'deliveries/s',
    'server CPU µs/delivery',
    '+ softirq µs/delivery',
    'load gen CPU µs/delivery',
    'server CPU %',
    'softirq %',
    'other CPU %',
    'p50 ms',
    'p99 ms',
    'max ms',
    'KB/connection',
    'lost',
    'dup',
  ],
  body,
)}

${chart(charts, 'fanout-cpu.svg', rows, 'serverCpuUsPerDelivery', '(a) Fan-out: server CPU per delivery', `µs, lower is better; ${number(subscribers)} subscribers × ${number(updates)} updates`, us)}
${chart(charts, 'fanout-rate.svg', rows, 'deliveriesPerSec', '(a) Fan-out: deliveries per second', 'higher is better; the load generator shares the 2 cores', rate)}`;
}

export function latencySection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'latency');
  if (found?.scenario.params.kind !== 'latency') return '';
  const { subscribers, updates, rate: perSecond } = found.scenario.params;
  const rows = shownRows(found);
  const body = rows.map((row) => {
    const m = row.combined;
    return [
      label(row),
      rate(m.connectPerSec),
      ms(m.p50Ms),
      ms(m.p99Ms),
      ms(m.maxMs),
      us(m.serverCpuUsPerDelivery),
      us(m.loadgenCpuUsPerDelivery),
      number((m.softirqShare ?? Number.NaN) * 100),
      number((m.otherCpuShare ?? Number.NaN) * 100),
      kb(m.bytesPerConnection),
      number(m.lost),
      number(m.dups),
    ];
  });
  return `## (b) Latency

${number(subscribers)} subscribers; ${updates} updates of 100 B at ${perSecond} per second. Latency = from just
before the publish request is written to the moment the load generator reads the event, on the load
generator's clock (it both publishes and receives).

${table(
  [
    'server',
    'connect/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'server CPU µs/delivery',
    'load gen CPU µs/delivery',
    'softirq %',
    'other CPU %',
    'KB/connection',
    'lost',
    'dup',
  ],
  body,
)}

${chart(charts, 'latency-p99.svg', rows, 'p99Ms', '(b) Latency: p99 publish-to-receive', `ms, lower is better; ${number(subscribers)} subscribers, ${perSecond} updates/s`, ms)}`;
}

export function idleSection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'idle');
  if (found?.scenario.params.kind !== 'idle') return '';
  const { subscribers, settleMs } = found.scenario.params;
  const rows = shownRows(found);
  const body = rows.map((row) => {
    const m = row.combined;
    return [
      label(row),
      number(m.connected),
      number(m.connectFailed),
      rate(m.connectPerSec),
      mb(m.rssBefore),
      mb(m.rssAfter),
      kb(m.bytesPerConnection),
      number(m.idleServerCpuMsPerSec, 1),
      ms(m.maxMs),
      number(m.lost),
    ];
  });
  return `## (c) Idle scale

${number(subscribers)} subscribers opened on one server process (a process may hold 20,000 descriptors here),
then ${settleMs / 1000} s idle. Memory = RSS of the server's process tree before the first stream and after the idle
wait; per connection = the difference divided by the streams held. Idle CPU is measured over the wait (heartbeat
timers). Then one update is published: "one update to all" is when the last subscriber had it.

${table(
  [
    'server',
    'held',
    'failed',
    'connect/s',
    'RSS before MB',
    'RSS after MB',
    'KB/connection',
    'idle CPU ms/s',
    'one update to all, ms',
    'lost',
  ],
  body,
)}

${chart(charts, 'idle-bytes.svg', rows, 'bytesPerConnection', '(c) Idle scale: memory per connection', `KB of server RSS per open stream, lower is better; ${number(subscribers)} subscribers`, kb)}`;
}

export function publishSection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'publish');
  if (found?.scenario.params.kind !== 'publish') return '';
  const { subscribers, publishers, durationMs } = found.scenario.params;
  const rows = shownRows(found);
  const keys = subscribers.flatMap((count) => publishers.map((concurrency) => ({ count, concurrency })));
  const busiest = keys[keys.length - 1] as { count: number; concurrency: number };
  const busy = `s${busiest.count}p${busiest.concurrency}.`;
  const idleKey = `s0p${publishers[publishers.length - 1]}.`;
  const body = rows.map((row) => {
    const m = row.combined;
    const loss = subscribers
      .filter((count) => count > 0)
      .flatMap((count) => publishers.map((concurrency) => `s${count}p${concurrency}.`));
    return [
      label(row),
      ...keys.map(({ count, concurrency }) => rate(m[`s${count}p${concurrency}.updatesPerSec`])),
      us(m[`${idleKey}serverCpuUsPerUpdate`]),
      rate(m[`${busy}deliveriesPerSec`]),
      ms(m[`${busy}p99Ms`]),
      number(loss.reduce((sum, key) => sum + (m[`${key}lost`] ?? 0), 0)),
      number(loss.reduce((sum, key) => sum + (m[`${key}dups`] ?? 0), 0)),
    ];
  });
  const publisherWord = (n: number) => (n === 1 ? '1 publisher' : `${n} publishers`);
  return `## (d) Publish throughput

Updates accepted per second (answered 2xx), each publisher on one keep-alive connection sending the next
update once the previous one is answered, for ${durationMs / 1000} s per column; a warm-up of 200 updates first. With
subscribers, every update must still reach every subscriber (counted after the publishing stops).

${table(
  [
    'server',
    ...keys.map(({ count, concurrency }) => `${number(count)} subs, ${publisherWord(concurrency)} /s`),
    `server CPU µs/update (0 subs, ${publisherWord(publishers[publishers.length - 1] ?? 1)})`,
    `deliveries/s (${number(busiest.count)} subs, ${publisherWord(busiest.concurrency)})`,
    `p99 ms (${number(busiest.count)} subs, ${publisherWord(busiest.concurrency)})`,
    'lost',
    'dup',
  ],
  body,
)}

${chart(charts, 'publish-rate.svg', rows, `${idleKey}updatesPerSec`, '(d) Publish throughput', `updates accepted per second, 0 subscribers, ${publisherWord(publishers[publishers.length - 1] ?? 1)}; higher is better`, rate)}`;
}

const REPLAY: Record<ServerName, string> = {
  nchan: 'message buffer',
  'floor-res': 'ring in the bench server',
  'floor-socket': 'ring in the bench server',
  'better-sse': 'ring in the bench server, `session.push`',
  'siar-channel': 'Channel history',
  hub: 'store (memory)',
  'hub-sqlite': 'store (SQLite)',
  'hub-redis': 'store (Redis)',
  'hub-postgres': 'store (PostgreSQL)',
  'hub-nats': 'store (NATS)',
  'hub-h2': 'store (memory), over HTTP/2',
};

export function reconnectSection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'reconnect');
  if (found?.scenario.params.kind !== 'reconnect') return '';
  const { subscribers, missed } = found.scenario.params;
  const rows = shownRows(found);
  const body = rows.map((row) => {
    const m = row.combined;
    return [
      label(row),
      REPLAY[row.server],
      rate(m.reconnectPerSec),
      number((m.stormMs ?? Number.NaN) / 1000, 2),
      rate(m.replayedPerSec),
      us(m.serverCpuUsPerReplayed),
      kb(m.bytesPerConnection),
      number(m.lost),
      number(m.dups),
    ];
  });
  return `## (e) Reconnect storm

${number(subscribers)} subscribers each get one update, all disconnect, ${missed} updates are published, and all
reconnect at once with \`Last-Event-ID\` (at most 500 opening at a time): each must be replayed exactly the ${missed}
updates it missed. Time = from the first reconnect until every subscriber had all of them.

${table(
  [
    'server',
    'replay from',
    'reconnect/s',
    'all replayed in, s',
    'replayed deliveries/s',
    'server CPU µs/replayed delivery',
    'KB/connection',
    'lost',
    'dup',
  ],
  body,
)}

${chart(charts, 'reconnect-rate.svg', rows, 'replayedPerSec', '(e) Reconnect storm: replayed deliveries per second', `higher is better; ${number(subscribers)} subscribers × ${missed} missed updates`, rate)}`;
}
