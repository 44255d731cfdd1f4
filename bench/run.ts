/**
 * The SSE benchmark: the Siar hub and siar/server side by side with nchan, the Node floor and
 * better-sse, in the scenarios of issue 7, on this machine, in one run.
 *
 *   npm run bench                          all scenarios, 3 repeats (about 15 minutes); writes BENCHMARKS.md,
 *                                          bench/charts/*.svg and bench/results.json (every run's figures)
 *   npm run bench -- --quick               smaller sizes, 1 repeat (about a minute and a half); prints the tables
 *   npm run bench -- --only a,hub,nchan    a subset: scenarios (a–f or their names) and/or servers
 *   npm run bench -- --repeats 5           more repeats
 *   npm run bench -- --profile             also write V8 CPU profiles of the hub and print their top functions
 *   npm run bench -- --write               write BENCHMARKS.md and bench/charts/ even for a quick or partial run
 *   npm run bench -- --no-wait             do not wait for other programs to leave the CPUs idle (a full run waits
 *                                          up to 30 s before each run, 10 minutes in all)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SOURCE_ADDRESSES } from '../src/cli/bench/subscribers.js';
// Descriptors a process needs beyond its sockets: the hub keeps this many (stdio, IPC, libuv, files, publishers).
import { DESCRIPTOR_RESERVE } from '../src/hub/capacity.js';
import { installCleanup, REPO_ROOT, setCodeRoot } from './lib/children.js';
import { keepingSection } from './lib/kept-section.js';
import { machineFacts } from './lib/machine.js';
import { combine, type MarkSample, type Metrics, measure } from './lib/measure.js';
import { openFileLimits, sampleMachine, sampleTree, type TreeSample } from './lib/proc.js';
import { waitForQuiet } from './lib/quiet.js';
import {
  type Scenario,
  type ScenarioName,
  STORE_SCENARIOS,
  STORE_SERVERS,
  scenarios,
} from './lib/scenarios.js';
import { snapshotSources } from './lib/snapshot.js';
import { waitForTimeWait } from './lib/time-wait.js';
import { LoadGenerator } from './loadgen/load-generator.js';
import { renderReport } from './report/index.js';
import type { Row, ScenarioOutcome } from './report/outcomes.js';
import { describeProfile } from './report/profile.js';
import { SERVER_NAMES, type ServerName, type ServerUnderTest, serversUnderTest } from './servers/index.js';

/** Client-side TIME_WAIT connections tolerated before a run (each holds an ephemeral port for 60 s). */
const TIME_WAIT_LIMIT = 10_000;
/**
 * Busy cores of other programs tolerated before a run of a full benchmark, the longest wait for
 * them to go quiet before one run, and in all (a quick run, or `--no-wait`, waits not).
 */
const QUIET_CORES = 0.3;
const QUIET_WAIT_MS = 30_000;
const QUIET_BUDGET_MS = 10 * 60_000;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      repeats: { type: 'string' },
      profile: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return values;
}

/** Raises this process's descriptor limit to the hard one (children inherit it) by running again under `ulimit`. */
function ensureDescriptorLimit(): void {
  const { soft, hard } = openFileLimits();
  if (soft >= hard || process.env.SIAR_BENCH_ULIMIT === '1') return;
  const limit = Number.isFinite(hard) ? String(hard) : 'unlimited';
  const result = spawnSync(
    '/bin/sh',
    [
      '-c',
      `ulimit -n ${limit} && exec "$0" "$@"`,
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, SIAR_BENCH_ULIMIT: '1' } },
  );
  process.exit(result.status ?? 1);
}

interface Selection {
  scenarios: Scenario[];
  servers: (scenario: Scenario) => ServerName[];
}

/** `--only`: scenario letters or names (f = the hub's stores) and server names, comma-separated; none = all. */
function select(all: Scenario[], only: string[] | undefined): Selection {
  const tokens = (only ?? [])
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter(Boolean);
  const wantedScenarios = new Set<ScenarioName>();
  const wantedServers = new Set<ServerName>();
  let stores = false;
  for (const token of tokens) {
    const scenario = all.find((item) => item.id === token || item.name === token);
    if (scenario) wantedScenarios.add(scenario.name);
    else if (token === 'f' || token === 'stores') stores = true;
    else if ((SERVER_NAMES as readonly string[]).includes(token)) wantedServers.add(token as ServerName);
    else {
      throw new Error(
        `--only: "${token}" is neither a scenario (a–f, ${all.map((item) => item.name).join(', ')}, stores) nor a server (${SERVER_NAMES.join(', ')}).`,
      );
    }
  }
  if (stores) {
    for (const name of STORE_SCENARIOS) wantedScenarios.add(name);
    if (wantedServers.size === 0) for (const server of STORE_SERVERS) wantedServers.add(server);
  }
  return {
    scenarios: all.filter((scenario) => wantedScenarios.size === 0 || wantedScenarios.has(scenario.name)),
    servers: (scenario) =>
      scenario.servers.filter((server) => wantedServers.size === 0 || wantedServers.has(server)),
  };
}

/** Sizes that fit this machine's descriptor limit (one socket per subscriber on each side). */
function fitToDescriptors(list: Scenario[]): string[] {
  const { hard } = openFileLimits();
  const most = hard - DESCRIPTOR_RESERVE;
  const notes: string[] = [];
  for (const scenario of list) {
    const params = scenario.params;
    if (
      (params.kind === 'idle' || params.kind === 'latency' || params.kind === 'reconnect') &&
      params.subscribers > most
    ) {
      notes.push(
        `(${scenario.id}) ${params.subscribers} subscribers cut to ${most}: a process may hold ${hard} descriptors here`,
      );
      params.subscribers = most;
    }
  }
  return notes;
}

function sampleNow(server: number, loadgen: number, store: (() => TreeSample) | undefined): MarkSample {
  return {
    atNs: Number(process.hrtime.bigint()),
    machine: sampleMachine(),
    server: sampleTree(server),
    loadgen: sampleTree(loadgen),
    store: store?.(),
  };
}

function summary(scenario: Scenario, metrics: Metrics): string {
  const f = (value: number | undefined, digits = 1) =>
    value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
  const lost = `lost ${metrics.lost ?? 0}, dup ${metrics.dups ?? 0}`;
  switch (scenario.params.kind) {
    case 'fanout':
      return `${f(metrics.deliveriesPerSec, 0)} deliveries/s, ${f(metrics.serverCpuUsPerDelivery)} µs/delivery (load gen ${f(metrics.loadgenCpuUsPerDelivery)}), p99 ${f(metrics.p99Ms)} ms, ${lost}`;
    case 'latency':
      return `p50 ${f(metrics.p50Ms)} ms, p99 ${f(metrics.p99Ms)} ms, ${f(metrics.serverCpuUsPerDelivery)} µs/delivery (load gen ${f(metrics.loadgenCpuUsPerDelivery)}), ${lost}`;
    case 'idle':
      return `${metrics.connected} held (${metrics.connectFailed} failed), ${f((metrics.bytesPerConnection ?? Number.NaN) / 1000)} KB/connection, ${f(metrics.connectPerSec, 0)} connect/s, ${lost}`;
    case 'publish': {
      const parts = Object.keys(metrics)
        .filter((name) => name.endsWith('.updatesPerSec'))
        .map((name) => `${name.replace('.updatesPerSec', '')} ${f(metrics[name], 0)}/s`);
      return parts.join(', ');
    }
    case 'reconnect':
      return `${f((metrics.stormMs ?? Number.NaN) / 1000, 2)} s, ${f(metrics.replayedPerSec, 0)} replayed/s, ${f(metrics.serverCpuUsPerReplayed)} µs/replayed, ${lost}`;
  }
}

async function runOnce(
  scenario: Scenario,
  server: ServerUnderTest,
  loadgen: LoadGenerator,
  timeoutMs: number,
  profiled: Map<number, string>,
  label: string,
): Promise<Metrics> {
  const started = await server.start();
  if (server.name.startsWith('hub')) profiled.set(started.child.pid, label);
  try {
    const samples = new Map<string, MarkSample>();
    const result = await loadgen.run(
      scenario.params,
      started.endpoints,
      (name) => samples.set(name, sampleNow(started.child.pid, loadgen.pid, started.sampleStore)),
      timeoutMs,
    );
    if (Object.keys(result.connectErrors).length > 0) {
      process.stderr.write(`    streams that failed to open: ${JSON.stringify(result.connectErrors)}\n`);
    }
    return measure(scenario.params, result, samples);
  } finally {
    // The server goes first, so the connections' TIME_WAIT is on its side (see loadgen/scripts.ts).
    await started.stop();
    await loadgen.reset();
  }
}

async function main(): Promise<void> {
  const flags = options();
  if (flags.help) {
    const text = (await import('node:fs')).readFileSync(new URL(import.meta.url), 'utf8');
    process.stdout.write(`${text.slice(text.indexOf('/**'), text.indexOf('*/') + 2)}\n`);
    return;
  }
  ensureDescriptorLimit();
  installCleanup();
  const quick = flags.quick ?? false;
  const repeats = flags.repeats === undefined ? (quick ? 1 : 3) : Number(flags.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error('--repeats must be a positive integer');
  const all = scenarios(quick);
  const selection = select(all, flags.only);
  const notes = fitToDescriptors(selection.scenarios);
  const profileDir = flags.profile ? join(tmpdir(), `siar-bench-profiles-${Date.now()}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const servers = serversUnderTest({ profileDir });
  const wanted = new Set(selection.scenarios.flatMap((scenario) => selection.servers(scenario)));
  const skipped = new Map<ServerName, string>();
  for (const name of wanted) {
    const reason = await (servers.get(name) as ServerUnderTest).unavailable();
    if (reason !== undefined) {
      skipped.set(name, reason);
      process.stderr.write(`skipping ${name}: ${reason}\n`);
    }
  }
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  const machine = machineFacts();
  // From here on, the servers run the code as it is now, whatever is edited meanwhile.
  setCodeRoot(snapshotSources());
  const began = Date.now();
  const timeoutMs = quick ? 180_000 : 600_000;
  const profiled = new Map<number, string>();
  let quietWaitMs = 0;
  let loadgen = await LoadGenerator.start();
  const outcomes: ScenarioOutcome[] = [];
  try {
    for (const scenario of selection.scenarios) {
      const names = selection.servers(scenario).filter((name) => !skipped.has(name));
      const rows = new Map<ServerName, Row>(
        names.map((name) => {
          const server = servers.get(name) as ServerUnderTest;
          return [name, { server: name, label: server.label, runs: [], combined: {}, failures: [] }];
        }),
      );
      for (let repeat = 0; repeat < repeats; repeat++) {
        // Each repeat starts with another server, so slow drift of the machine hits all alike.
        const order = names.map((_, i) => names[(i + repeat) % names.length] as ServerName);
        for (const name of order) {
          const server = servers.get(name) as ServerUnderTest;
          const row = rows.get(name) as Row;
          const label = `(${scenario.id}) ${scenario.title}, ${server.label}, run ${repeat + 1}/${repeats}`;
          const waited = await waitForTimeWait(SOURCE_ADDRESSES, TIME_WAIT_LIMIT, 65_000);
          if (waited > 1000)
            process.stderr.write(`(waited ${(waited / 1000).toFixed(0)} s for TIME_WAIT ports to expire)\n`);
          if (!quick && !flags['no-wait'] && quietWaitMs < QUIET_BUDGET_MS) {
            const quiet = await waitForQuiet(
              QUIET_CORES,
              Math.min(QUIET_WAIT_MS, QUIET_BUDGET_MS - quietWaitMs),
            );
            quietWaitMs += quiet.waitedMs;
            if (quiet.busy > QUIET_CORES) {
              process.stderr.write(`(other programs use ${quiet.busy.toFixed(1)} cores; running anyway) `);
            }
          }
          process.stderr.write(`${label} … `);
          const runStarted = Date.now();
          try {
            if (!loadgen.alive) loadgen = await LoadGenerator.start();
            const metrics = await runOnce(scenario, server, loadgen, timeoutMs, profiled, label);
            row.runs.push(metrics);
            process.stderr.write(
              `${summary(scenario, metrics)} [${((Date.now() - runStarted) / 1000).toFixed(1)} s]\n`,
            );
          } catch (error) {
            const message = (error as Error).message.split('\n')[0] ?? String(error);
            row.failures.push(message);
            process.stderr.write(`FAILED: ${(error as Error).message}\n`);
          }
        }
      }
      for (const row of rows.values()) row.combined = combine(row.runs);
      outcomes.push({ scenario, rows: [...rows.values()] });
    }
  } finally {
    await loadgen.stop();
  }
  const partial = quick || flags.only !== undefined;
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const report = renderReport({
    machine,
    quick,
    repeats,
    command,
    minutes: (Date.now() - began) / 60_000,
    quietWaitMinutes: quietWaitMs / 60_000,
    outcomes,
    skipped,
  });
  const markdown = notes.length > 0 ? `${report.markdown}\nNotes: ${notes.join('; ')}.\n` : report.markdown;
  process.stdout.write(`\n${markdown}`);
  if (!partial || flags.write) {
    // Charts of a former run would sit beside this one's, and be taken for its own.
    rmSync(join(REPO_ROOT, 'bench/charts'), { recursive: true, force: true });
    mkdirSync(join(REPO_ROOT, 'bench/charts'), { recursive: true });
    for (const [file, svg] of report.charts) writeFileSync(join(REPO_ROOT, 'bench/charts', file), svg);
    // The workers section is bench/workers.ts's: kept as it was.
    const benchmarks = join(REPO_ROOT, 'BENCHMARKS.md');
    writeFileSync(benchmarks, keepingSection(markdown, readFileSync(benchmarks, 'utf8'), 'workers'));
    // Every run's figures, not only the medians: to compare two runs figure by figure.
    const results = {
      machine,
      quick,
      repeats,
      scenarios: outcomes.map(({ scenario, rows }) => ({ ...scenario, rows })),
      skipped: Object.fromEntries(skipped),
    };
    const resultsFile = join(REPO_ROOT, 'bench/results.json');
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    // In the repository's own JSON style, so that `npm run lint` passes on a regenerated file.
    spawnSync(join(REPO_ROOT, 'node_modules/.bin/biome'), ['format', '--write', resultsFile], {
      stdio: 'ignore',
    });
    process.stderr.write('\nWrote BENCHMARKS.md, bench/results.json and bench/charts/.\n');
  } else {
    process.stderr.write(
      '\nA quick or partial run: BENCHMARKS.md left as it was (add --write to replace it).\n',
    );
  }
  if (profileDir) {
    process.stdout.write(`\nCPU profiles of the hub in ${profileDir}:\n`);
    // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the main thread (the others load modules).
    const files = readdirSync(profileDir).filter(
      (name) => name.endsWith('.cpuprofile') && name.split('.')[4] === '0',
    );
    for (const file of files) {
      const pid = Number(file.split('.')[3]);
      process.stdout.write(
        `\n${profiled.get(pid) ?? 'hub'}\n${describeProfile(join(profileDir, file), 15)}\n`,
      );
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
