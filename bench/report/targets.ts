/**
 * The hub against nchan and the Node floor: its ratios to them, each against its target of issue 7
 * (met, not met, or cannot be judged), and the hub over HTTP/2 against itself over HTTP/1.1.
 */
import type { ScenarioName } from '../lib/scenarios.js';
import type { ServerName } from '../servers/index.js';
import { kb, ms, number, rate, ratio, us } from './format.js';
import { NODE_FLOOR, outcome, type ReportInput, rowOf, value } from './outcomes.js';

export interface Target {
  what: string;
  hub: string;
  comparison: string;
  met: boolean | undefined;
}

export function targets(input: ReportInput): Target[] {
  const list: Target[] = [];
  const v = (scenario: ScenarioName, server: ServerName, name: string) =>
    value(input, scenario, server, name);
  const versus = (
    scenario: ScenarioName,
    name: string,
    what: string,
    format: (n: number | undefined) => string,
    unit: string,
  ) => {
    const hub = v(scenario, 'hub', name);
    const nchan = v(scenario, 'nchan', name);
    const floor = v(scenario, NODE_FLOOR, name);
    list.push({
      what: `${what}: at most nchan's`,
      hub: `${format(hub)} ${unit}`,
      comparison: `${ratio(hub, nchan)} nchan (${format(nchan)} ${unit}), ${ratio(hub, floor)} Node floor (${format(floor)} ${unit})`,
      met: hub === undefined || nchan === undefined ? undefined : hub <= nchan,
    });
  };
  if (rowOf(input, 'fanout', 'hub')) {
    versus('fanout', 'serverCpuUsPerDelivery', '(a) server CPU per delivery', us, 'µs');
    const hub = v('fanout', 'hub', 'serverAndSoftirqUsPerDelivery');
    const nchan = v('fanout', 'nchan', 'serverAndSoftirqUsPerDelivery');
    if (hub !== undefined && nchan !== undefined) {
      list.push({
        what: '(a) server + softirq CPU per delivery (not a target: the evidence behind the line above)',
        hub: `${us(hub)} µs`,
        comparison: `${ratio(hub, nchan)} nchan (${us(nchan)} µs)`,
        met: hub <= nchan,
      });
    }
  }
  if (rowOf(input, 'latency', 'hub')) {
    versus('latency', 'serverCpuUsPerDelivery', '(b) server CPU per delivery', us, 'µs');
    versus('latency', 'p99Ms', '(b) p99 latency', ms, 'ms');
  }
  if (rowOf(input, 'idle', 'hub')) {
    versus('idle', 'bytesPerConnection', '(c) memory per idle connection', kb, 'KB');
    const held = v('idle', 'hub', 'connected');
    const outcomeC = outcome(input, 'idle');
    const asked = outcomeC?.scenario.params.kind === 'idle' ? outcomeC.scenario.params.subscribers : 19_800;
    const lost = v('idle', 'hub', 'lost') ?? 0;
    list.push({
      what: '(c) 19,800 subscribers held by one process',
      hub: `${number(held)} held of ${number(asked)}`,
      comparison: `one update reached ${lost === 0 ? 'all' : `all but ${number(lost)}`}`,
      // A smaller run (--quick) cannot tell.
      met: held === undefined || asked < 19_800 ? undefined : held >= 19_800 && lost === 0,
    });
  }
  const publish = outcome(input, 'publish')?.scenario.params;
  const most = publish?.kind === 'publish' ? (publish.publishers[publish.publishers.length - 1] ?? 8) : 8;
  for (const [server, name, goal] of [
    ['hub', 'memory', 10_000],
    ['hub-sqlite', 'SQLite', 3000],
  ] as const) {
    if (!rowOf(input, 'publish', server)) continue;
    const updates = v('publish', server, `s0p${most}.updatesPerSec`);
    list.push({
      what: `(d) publish throughput, ${name}, ${most} publishers, 0 subscribers: at least ${number(goal)}/s`,
      hub: `${rate(updates)}/s`,
      comparison: `${ratio(updates, v('publish', 'nchan', `s0p${most}.updatesPerSec`))} nchan, ${ratio(updates, v('publish', NODE_FLOOR, `s0p${most}.updatesPerSec`))} Node floor`,
      met: updates === undefined ? undefined : updates >= goal,
    });
  }
  if (rowOf(input, 'fanout', 'hub-sqlite') && rowOf(input, 'fanout', 'hub')) {
    const sqlite = v('fanout', 'hub-sqlite', 'deliveriesPerSec');
    const memory = v('fanout', 'hub', 'deliveriesPerSec');
    list.push({
      what: '(a) SQLite deliveries/s: at least 0.8x memory',
      hub: `${rate(sqlite)}/s`,
      comparison: `${ratio(sqlite, memory)} memory (${rate(memory)}/s)`,
      met: sqlite === undefined || memory === undefined ? undefined : sqlite >= 0.8 * memory,
    });
  }
  return list;
}

/** The hub over HTTP/2 (h2c) against itself over HTTP/1.1, where both ran. */
export function http2Lines(input: ReportInput): string[] {
  const lines: string[] = [];
  const v = (scenario: ScenarioName, server: ServerName, name: string) =>
    value(input, scenario, server, name);
  for (const name of ['fanout', 'latency'] as const) {
    if (!rowOf(input, name, 'hub-h2') || !rowOf(input, name, 'hub')) continue;
    const cpu2 = v(name, 'hub-h2', 'serverCpuUsPerDelivery');
    const cpu1 = v(name, 'hub', 'serverCpuUsPerDelivery');
    const p992 = v(name, 'hub-h2', 'p99Ms');
    const p991 = v(name, 'hub', 'p99Ms');
    lines.push(
      `- (${outcome(input, name)?.scenario.id}) over HTTP/2 (h2c): server CPU per delivery ${us(cpu2)} µs = ${ratio(cpu2, cpu1)} HTTP/1.1 (${us(cpu1)} µs); p99 ${ms(p992)} ms = ${ratio(p992, p991)} HTTP/1.1 (${ms(p991)} ms).`,
    );
  }
  return lines;
}
