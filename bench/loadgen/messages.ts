/** Messages between the orchestrator and a load generator process (Node IPC). */
import type { Endpoints } from '../../src/cli/bench/endpoints.js';
import type { ScenarioParams } from '../lib/scenarios.js';

/** What one scripted run measured, by name (see scripts.ts), and why streams failed to open. */
export interface LoadgenResult {
  values: Record<string, number>;
  connectErrors: Record<string, number>;
}

export type ToLoadgen =
  | { type: 'run'; params: ScenarioParams; endpoints: Endpoints }
  /** The orchestrator has sampled the processes for the last mark. */
  | { type: 'marked' }
  /** Close what the last run left open (the server has been stopped first). */
  | { type: 'reset' };

export type FromLoadgen =
  | { type: 'ready' }
  /** Asks the orchestrator to sample CPU and memory now; the script goes on at `marked`. */
  | { type: 'mark'; name: string }
  | { type: 'result'; result: LoadgenResult }
  | { type: 'reset-done' }
  | { type: 'failed'; message: string };
