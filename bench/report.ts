/**
 * BENCHMARKS.md and its charts from the runs' figures: machine facts, one table per scenario with
 * a row per server, correctness (any loss or repetition said loudly), and the hub's ratios to
 * nchan and to the Node floor against the targets of issue 7.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Bar, barChart } from './bar-chart.js';
import { REPO_ROOT } from './children.js';
import type { MachineFacts } from './machine.js';
import type { Metrics } from './measure.js';
import type { Scenario, ScenarioId } from './scenarios.js';
import type { ServerName } from './servers/index.js';

export interface Row {
  server: ServerName;
  label: string;
  runs: Metrics[];
  /** Medians over the runs (correctness counts summed). */
  combined: Metrics;
  /** Runs that failed, with the reason. */
  failures: string[];
}

export interface ScenarioOutcome {
  scenario: Scenario;
  rows: Row[];
}

export interface ReportInput {
  machine: MachineFacts;
  quick: boolean;
  repeats: number;
  command: string;
  minutes: number;
  /** Of which spent waiting for other programs to leave the CPUs. */
  quietWaitMinutes: number;
  outcomes: ScenarioOutcome[];
  skipped: ReadonlyMap<ServerName, string>;
}

export interface Report {
  markdown: string;
  /** SVG documents by file name (written to bench/charts/). */
  charts: Map<string, string>;
}

const NODE_FLOOR: ServerName = 'floor-res';
const CHART_DIR = 'bench/charts';

function number(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const us = (value: number | undefined) => number(value, 1);
const ms = (value: number | undefined) => number(value, 1);
const kb = (value: number | undefined) => (value === undefined ? '–' : number(value / 1000, 1));
const mb = (value: number | undefined) => (value === undefined ? '–' : number(value / 1e6, 1));
const rate = (value: number | undefined) => number(value);

function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function outcome(input: ReportInput, id: ScenarioId): ScenarioOutcome | undefined {
  return input.outcomes.find((item) => item.scenario.id === id);
}

function rowOf(input: ReportInput, id: ScenarioId, server: ServerName): Row | undefined {
  return outcome(input, id)?.rows.find((row) => row.server === server && row.runs.length > 0);
}

function value(input: ReportInput, id: ScenarioId, server: ServerName, name: string): number | undefined {
  const found = rowOf(input, id, server)?.combined[name];
  return found !== undefined && Number.isFinite(found) ? found : undefined;
}

/** The label cell: the server's name, and how many of its runs failed when some did. */
function label(row: Row): string {
  const bold = row.server.startsWith('hub') || row.server === 'siar-channel' ? `**${row.label}**` : row.label;
  return row.failures.length > 0 ? `${bold} (${row.failures.length} run(s) failed)` : bold;
}

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
      highlight: row.server.startsWith('hub') || row.server === 'siar-channel',
      reference: row.server === 'nchan' || row.server === NODE_FLOOR,
    }));
  if (!bars.some((bar) => Number.isFinite(bar.value))) return '';
  charts.set(file, barChart({ title, subtitle, bars, format }));
  return `![${title}](${CHART_DIR}/${file})\n`;
}

function fanoutSection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'a');
  if (found?.scenario.params.kind !== 'fanout') return '';
  const { subscribers, updates, warmup } = found.scenario.params;
  const rows = found.rows.filter((row) => row.runs.length > 0 || row.failures.length > 0);
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

function latencySection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'b');
  if (found?.scenario.params.kind !== 'latency') return '';
  const { subscribers, updates, rate: perSecond } = found.scenario.params;
  const rows = found.rows.filter((row) => row.runs.length > 0 || row.failures.length > 0);
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

function idleSection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'c');
  if (found?.scenario.params.kind !== 'idle') return '';
  const { subscribers, settleMs } = found.scenario.params;
  const rows = found.rows.filter((row) => row.runs.length > 0 || row.failures.length > 0);
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

function publishSection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'd');
  if (found?.scenario.params.kind !== 'publish') return '';
  const { subscribers, publishers, durationMs } = found.scenario.params;
  const rows = found.rows.filter((row) => row.runs.length > 0 || row.failures.length > 0);
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
  'hub-h2': 'store (memory), over HTTP/2',
};

function reconnectSection(input: ReportInput, charts: Map<string, string>): string {
  const found = outcome(input, 'e');
  if (found?.scenario.params.kind !== 'reconnect') return '';
  const { subscribers, missed } = found.scenario.params;
  const rows = found.rows.filter((row) => row.runs.length > 0 || row.failures.length > 0);
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

function storesSection(input: ReportInput): string {
  const stores: ServerName[] = ['hub', 'hub-sqlite', 'hub-redis'];
  const present = stores.filter((store) =>
    ['a', 'd', 'e'].some((id) => rowOf(input, id as ScenarioId, store)),
  );
  if (present.length < 2) return '';
  const publish = outcome(input, 'd')?.scenario.params;
  const most = publish?.kind === 'publish' ? (publish.publishers[publish.publishers.length - 1] ?? 8) : 8;
  const memoryRate = value(input, 'a', 'hub', 'deliveriesPerSec');
  const body = present.map((store) => {
    const a = (name: string) => value(input, 'a', store, name);
    const d = (name: string) => value(input, 'd', store, name);
    const storeRate = a('deliveriesPerSec');
    return [
      store === 'hub' ? 'memory' : store === 'hub-sqlite' ? 'SQLite' : 'Redis',
      rate(a('deliveriesPerSec')),
      memoryRate && storeRate ? `${number(storeRate / memoryRate, 2)}x` : '–',
      us(a('serverCpuUsPerDelivery')),
      us(a('storeCpuUsPerDelivery')),
      rate(d('s0p1.updatesPerSec')),
      rate(d(`s0p${most}.updatesPerSec`)),
      us(d(`s0p${most}.serverCpuUsPerUpdate`)),
      us(d(`s0p${most}.storeCpuUsPerUpdate`)),
      number((value(input, 'e', store, 'stormMs') ?? Number.NaN) / 1000, 2),
    ];
  });
  const missing = stores
    .filter((store) => !present.includes(store))
    .map((store) => `${store}: ${input.skipped.get(store) ?? 'not run'}`);
  return `## (f) Stores

The hub with each store, from the runs of (a), (d) and (e) above. "Redis CPU" is the Redis server's own CPU time,
measured apart (it is not in the hub's process tree).

${table(
  [
    'store',
    '(a) deliveries/s',
    'ratio to memory',
    '(a) hub CPU µs/delivery',
    '(a) Redis CPU µs/delivery',
    '(d) updates/s, 1 publisher',
    `(d) updates/s, ${most} publishers`,
    '(d) hub CPU µs/update',
    '(d) Redis CPU µs/update',
    '(e) all replayed in, s',
  ],
  body,
)}
${missing.length > 0 ? `\nNot run: ${missing.join('; ')}.\n` : ''}`;
}

/** Every row with a lost, repeated or malformed event, a failed stream or a failed run: none may hide. */
function correctness(input: ReportInput): string {
  const problems: string[] = [];
  let runs = 0;
  for (const { scenario, rows } of input.outcomes) {
    for (const row of rows) {
      runs += row.runs.length;
      for (const failure of row.failures)
        problems.push(`(${scenario.id}) ${row.label}: a run failed: ${failure}`);
      const counts: string[] = [];
      for (const [name, count] of Object.entries(row.combined)) {
        if (
          count > 0 &&
          /(^|\.)(lost|dups|malformed|connectFailed|reconnectFailed|incomplete|serverCloses)$/.test(name)
        ) {
          counts.push(`${name} = ${number(count)}`);
        }
      }
      if (counts.length > 0)
        problems.push(`(${scenario.id}) ${row.label}: ${counts.join(', ')} (over ${row.runs.length} runs)`);
    }
  }
  if (problems.length === 0) {
    return `No event was lost, repeated or malformed, and every stream opened, in any of the ${runs} runs (checked per
subscriber by sequence number).`;
  }
  return `**WARNING: ${problems.length} row(s) with lost or repeated events, failed streams or failed runs.** Figures of these
rows are not comparable until fixed:

${problems.map((problem) => `- **${problem}**`).join('\n')}`;
}

/** Rows measured while other processes used a fifth of a core or more: their figures are less sure. */
function noise(input: ReportInput): string {
  const busy: string[] = [];
  for (const { scenario, rows } of input.outcomes) {
    for (const row of rows) {
      const shares = Object.entries(row.combined).filter(([name]) => name.endsWith('otherCpuShare'));
      const most = Math.max(0, ...shares.map(([, share]) => share));
      if (most >= 0.2) busy.push(`(${scenario.id}) ${row.label}: ${number(most * 100)}% of a core`);
    }
  }
  if (busy.length === 0) return 'Other processes used less than a fifth of a core during every measure.';
  return `Other processes on the machine used a fifth of a core or more during these measures (median of the
repeats), which makes their figures less sure: ${busy.join('; ')}.`;
}

interface Target {
  what: string;
  hub: string;
  comparison: string;
  met: boolean | undefined;
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && b > 0 ? `${number(a / b, 2)}x` : '–';
}

function targets(input: ReportInput): Target[] {
  const list: Target[] = [];
  const v = (id: ScenarioId, server: ServerName, name: string) => value(input, id, server, name);
  const versus = (
    id: ScenarioId,
    name: string,
    what: string,
    format: (n: number | undefined) => string,
    unit: string,
  ) => {
    const hub = v(id, 'hub', name);
    const nchan = v(id, 'nchan', name);
    const floor = v(id, NODE_FLOOR, name);
    list.push({
      what: `${what}: at most nchan's`,
      hub: `${format(hub)} ${unit}`,
      comparison: `${ratio(hub, nchan)} nchan (${format(nchan)} ${unit}), ${ratio(hub, floor)} Node floor (${format(floor)} ${unit})`,
      met: hub === undefined || nchan === undefined ? undefined : hub <= nchan,
    });
  };
  if (rowOf(input, 'a', 'hub')) {
    versus('a', 'serverCpuUsPerDelivery', '(a) server CPU per delivery', us, 'µs');
    const hub = v('a', 'hub', 'serverAndSoftirqUsPerDelivery');
    const nchan = v('a', 'nchan', 'serverAndSoftirqUsPerDelivery');
    if (hub !== undefined && nchan !== undefined) {
      list.push({
        what: '(a) server + softirq CPU per delivery (not a target: the evidence behind the line above)',
        hub: `${us(hub)} µs`,
        comparison: `${ratio(hub, nchan)} nchan (${us(nchan)} µs)`,
        met: hub <= nchan,
      });
    }
  }
  if (rowOf(input, 'b', 'hub')) {
    versus('b', 'serverCpuUsPerDelivery', '(b) server CPU per delivery', us, 'µs');
    versus('b', 'p99Ms', '(b) p99 latency', ms, 'ms');
  }
  if (rowOf(input, 'c', 'hub')) {
    versus('c', 'bytesPerConnection', '(c) memory per idle connection', kb, 'KB');
    const held = v('c', 'hub', 'connected');
    const outcomeC = outcome(input, 'c');
    const asked = outcomeC?.scenario.params.kind === 'idle' ? outcomeC.scenario.params.subscribers : 19_800;
    const lost = v('c', 'hub', 'lost') ?? 0;
    list.push({
      what: '(c) 19,800 subscribers held by one process',
      hub: `${number(held)} held of ${number(asked)}`,
      comparison: `one update reached ${lost === 0 ? 'all' : `all but ${number(lost)}`}`,
      // A smaller run (--quick) cannot tell.
      met: held === undefined || asked < 19_800 ? undefined : held >= 19_800 && lost === 0,
    });
  }
  const publish = outcome(input, 'd')?.scenario.params;
  const most = publish?.kind === 'publish' ? (publish.publishers[publish.publishers.length - 1] ?? 8) : 8;
  for (const [server, name, goal] of [
    ['hub', 'memory', 10_000],
    ['hub-sqlite', 'SQLite', 3000],
  ] as const) {
    if (!rowOf(input, 'd', server)) continue;
    const updates = v('d', server, `s0p${most}.updatesPerSec`);
    list.push({
      what: `(d) publish throughput, ${name}, ${most} publishers, 0 subscribers: at least ${number(goal)}/s`,
      hub: `${rate(updates)}/s`,
      comparison: `${ratio(updates, v('d', 'nchan', `s0p${most}.updatesPerSec`))} nchan, ${ratio(updates, v('d', NODE_FLOOR, `s0p${most}.updatesPerSec`))} Node floor`,
      met: updates === undefined ? undefined : updates >= goal,
    });
  }
  if (rowOf(input, 'a', 'hub-sqlite') && rowOf(input, 'a', 'hub')) {
    const sqlite = v('a', 'hub-sqlite', 'deliveriesPerSec');
    const memory = v('a', 'hub', 'deliveriesPerSec');
    list.push({
      what: '(a) SQLite deliveries/s: at least 0.8x memory',
      hub: `${rate(sqlite)}/s`,
      comparison: `${ratio(sqlite, memory)} memory (${rate(memory)}/s)`,
      met: sqlite === undefined || memory === undefined ? undefined : sqlite >= 0.8 * memory,
    });
  }
  return list;
}

/** What made the difference, written by hand in bench/performance-notes.md and kept in every report. */
function performanceNotes(): string {
  try {
    return `\n${readFileSync(join(REPO_ROOT, 'bench', 'performance-notes.md'), 'utf8')}`;
  } catch {
    return '';
  }
}

/** The hub over HTTP/2 (h2c) against itself over HTTP/1.1, where both ran. */
function http2Lines(input: ReportInput): string[] {
  const lines: string[] = [];
  const v = (id: ScenarioId, server: ServerName, name: string) => value(input, id, server, name);
  for (const id of ['a', 'b'] as const) {
    if (!rowOf(input, id, 'hub-h2') || !rowOf(input, id, 'hub')) continue;
    const cpu2 = v(id, 'hub-h2', 'serverCpuUsPerDelivery');
    const cpu1 = v(id, 'hub', 'serverCpuUsPerDelivery');
    const p992 = v(id, 'hub-h2', 'p99Ms');
    const p991 = v(id, 'hub', 'p99Ms');
    lines.push(
      `- (${id}) over HTTP/2 (h2c): server CPU per delivery ${us(cpu2)} µs = ${ratio(cpu2, cpu1)} HTTP/1.1 (${us(cpu1)} µs); p99 ${ms(p992)} ms = ${ratio(p992, p991)} HTTP/1.1 (${ms(p991)} ms).`,
    );
  }
  return lines;
}

export function renderReport(input: ReportInput): Report {
  const charts = new Map<string, string>();
  const { machine } = input;
  const skipped = [...input.skipped].map(([server, reason]) => `- **${server} skipped**: ${reason}.`);
  const sections = [
    fanoutSection(input, charts),
    latencySection(input, charts),
    idleSection(input, charts),
    publishSection(input, charts),
    reconnectSection(input, charts),
    storesSection(input),
  ].filter((section) => section !== '');
  const goals = targets(input);
  const verdict = (met: boolean | undefined) =>
    met === undefined ? 'cannot be judged' : met ? '**met**' : '**not met**';
  const closing = goals.map(
    (goal) => `- ${goal.what} — hub ${goal.hub} = ${goal.comparison}: ${verdict(goal.met)}.`,
  );
  const markdown = `# Benchmarks

Generated by \`${input.command}\` on ${machine.date}${input.quick ? ' — a **quick** run (smaller sizes, 1 repeat): indicative only' : ''}.
Regenerate with \`npm run bench\` (about 15 minutes; \`npm run bench -- --quick\` for about a minute and a half).

## Machine

| | |
|---|---|
| CPU | ${machine.cpu}, ${machine.cores} cores (load generator and server share them) |
| Memory | ${machine.memory} |
| Kernel | ${machine.kernel} |
| Node.js | ${machine.node} |
| nginx / nchan | ${machine.nginx} / libnginx-mod-nchan ${machine.nchan} |
| better-sse | ${machine.betterSse} |
| Open files per process | ${machine.openFiles} |
| Siar | commit ${machine.commit}, copied when the run started (edits made during the run are not measured) |
| Runs | ${input.repeats} repeat(s) per scenario and server, medians; ${number(input.minutes, 1)} minutes in all, of which ${number(input.quietWaitMinutes, 1)} waiting for other programs to leave the CPUs |

## How it is measured

- **Load generator** (\`bench/loadgen/\`): a separate Node process with raw \`net\` sockets, a hand-written
  HTTP/1.1 response-head parser, chunked decoder and SSE \`data:\`/\`id:\` reader; it publishes too, so each event's
  data carries its sequence number and its publish time on the load generator's clock. Loopback only;
  subscribers come from 127.0.0.2–127.0.0.5 in turn (the hub allows 10,000 subscribers per address by
  default); at most 500 streams open at a time, under every server's listen backlog (511).
- **Servers** (\`bench/servers/\`): each restarted for every run, on a free loopback port. The peers are small
  node:http programs with \`GET /sub\` and \`POST /pub\` (answered after the broadcast loop); every server sends an
  \`id:\` with each event. The hub runs through its CLI (\`siar serve --anonymous --store …\`, from \`src/\` via tsx)
  with a JWT from \`createToken\`; nchan runs from a generated nginx config (one worker, \`master_process off\`,
  \`worker_connections\` 24,000 over 20,000 descriptors, as nchan takes connection slots that hold no descriptor;
  logs in a temporary directory).
- **CPU and memory** (\`bench/proc.ts\`): CPU time of each process tree from \`/proc/<pid>/task/*/schedstat\`
  (ns), RSS from \`/proc/<pid>/status\`, read at the load generator's phase marks. tsx's esbuild service, a child
  of the Node servers, is left out. The load generator's CPU is shown too: when it is the bottleneck (both
  share 2 cores), rates are capped by it, so compare **server CPU per delivery** and ratios within one run.
  "softirq %" is the machine's software-interrupt time (mostly the kernel's loopback TCP receive path, which
  Linux charges to no process) and "other CPU %" the rest of the machine's busy time (other processes: noise),
  both in % of one core over the measure, from \`/proc/stat\`.
- **Correctness**: every subscriber's events are checked by sequence number: lost and repeated events are
  counted per subscriber and summed over repeats (never medianed away). A stream the server closes is opened
  again with \`Last-Event-ID\`, and counted.
- KB = 1,000 bytes; "–" = not measured (the run failed or the server does not apply). Every run's figures,
  not only these medians, are in \`bench/results.json\`.

${skipped.length > 0 ? `## Skipped\n\n${skipped.join('\n')}\n\n` : ''}## Correctness

${correctness(input)}

${noise(input)}

${sections.join('\n')}
## The hub against nchan and the Node floor

Ratios are hub ÷ peer in this run (below 1x: the hub uses less, or is faster for latency). "Node floor" is the
minimal node:http fan-out with \`res.write\` (floor-res). Runs spread by about 10% here: a ratio between 0.9x
and 1.1x is within the noise, whichever way the verdict falls.${input.quick ? ' Quick run: the sizes are smaller than the targets assume.' : ''}

${closing.length > 0 ? closing.join('\n') : '- No hub figures in this run.'}
${
  http2Lines(input).length > 0
    ? `
## HTTP/2 against HTTP/1.1

The hub served over cleartext HTTP/2 (\`siar serve --h2c\`), its subscribers sharing sessions of 100 streams each
(as a browser's tabs share one connection), against the same hub over HTTP/1.1, in the same run.

${http2Lines(input).join('\n')}
`
    : ''
}${performanceNotes()}`;
  return { markdown, charts };
}
