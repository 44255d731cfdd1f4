/**
 * The runs' figures as the report reads them: for each scenario, found by its name, a row per server
 * with its runs, their medians and its failures.
 */
import type { MachineFacts } from '../lib/machine.js';
import type { Metrics } from '../lib/measure.js';
import type { Scenario, ScenarioName } from '../lib/scenarios.js';
import type { ServerName } from '../servers/index.js';

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

/** The minimal node:http fan-out (`res.write`) the hub is held against. */
export const NODE_FLOOR: ServerName = 'floor-res';

export function outcome(input: ReportInput, name: ScenarioName): ScenarioOutcome | undefined {
  return input.outcomes.find((item) => item.scenario.name === name);
}

export function rowOf(input: ReportInput, name: ScenarioName, server: ServerName): Row | undefined {
  return outcome(input, name)?.rows.find((row) => row.server === server && row.runs.length > 0);
}

export function value(
  input: ReportInput,
  name: ScenarioName,
  server: ServerName,
  metric: string,
): number | undefined {
  const found = rowOf(input, name, server)?.combined[metric];
  return found !== undefined && Number.isFinite(found) ? found : undefined;
}

/** The rows a table shows: those with a run or a failed run. */
export function shownRows(found: ScenarioOutcome): Row[] {
  return found.rows.filter((row) => row.runs.length > 0 || row.failures.length > 0);
}

/** Siar's own rows (the hub and siar/server's Channel): in bold, and in the accent colour. */
export function isSiar(row: Row): boolean {
  return row.server.startsWith('hub') || row.server === 'siar-channel';
}
