/**
 * This machine may be shared: other programs' builds and tests take the cores the server and the
 * load generator need, and the figures of a run measured then are worth less. Before each run
 * the bench waits, for a bounded time, until the machine is quiet.
 */
import { sampleMachine } from './proc.js';

/** Busy CPU of the whole machine over `ms`, in cores (1 = one core fully used). */
async function busyCores(ms: number): Promise<number> {
  const before = sampleMachine();
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = sampleMachine();
  return (after.busyNs - before.busyNs) / Number(process.hrtime.bigint() - started);
}

/**
 * Waits until the machine uses at most `cores` over one second, at most `maxMs`. Returns how
 * long it waited (ms) and how busy the machine was when the wait ended.
 */
export async function waitForQuiet(
  cores: number,
  maxMs: number,
): Promise<{ waitedMs: number; busy: number }> {
  const started = Date.now();
  let busy = await busyCores(1000);
  while (busy > cores && Date.now() - started < maxMs) busy = await busyCores(1000);
  return { waitedMs: Date.now() - started, busy };
}
