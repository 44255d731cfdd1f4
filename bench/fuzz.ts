/**
 * A longer fuzz run of the hub over the wire than `npm test` makes (test/reliability/helpers/fuzz.ts
 * has the generators and the oracle, which test/reliability/fuzz.test.ts uses too): random
 * publishes, subscriptions and mutated heads against a hub behind createHubServer in this process,
 * until the time or the count runs out.
 *
 *   npm run fuzz                          60 seconds
 *   npm run fuzz -- --seconds 600         ten minutes
 *   npm run fuzz -- --runs 5000           at most 5000 requests (whichever bound comes first)
 *   npm run fuzz -- --seed 42             replay a run (the seed of a failure is printed)
 *
 * Prints the requests sent, their statuses and any failure (shrunk to a small request), and exits 1
 * on a failure: an answer other than 200 or 4xx, no answer, an accepted update the watching
 * subscriber did not get, the watcher dropped, an error logged by the hub, an unhandled rejection.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { fuzzRequest, startFuzzTarget, visible } from '../test/reliability/helpers/fuzz.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '10000000' },
    seed: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);
if (!(seconds > 0) || !(runs > 0)) {
  process.stderr.write('fuzz: --seconds and --runs take positive numbers\n');
  process.exit(2);
}

const target = await startFuzzTarget();
const statuses = new Map<string, number>();
const started = performance.now();
let sent = 0;
process.stdout.write(
  `Fuzzing the hub on 127.0.0.1:${target.port} for ${seconds} s (at most ${runs} requests)…\n`,
);
const progress = setInterval(() => {
  process.stdout.write(`  ${Math.round((performance.now() - started) / 1000)} s: ${sent} requests\n`);
}, 10_000);
const details = await fc.check(
  fc.asyncProperty(fuzzRequest(target.tokens), async (request) => {
    sent++;
    const answer = await target.check(request);
    const key = `${request.kind} ${answer.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }),
  {
    numRuns: runs,
    interruptAfterTimeLimit: seconds * 1000,
    markInterruptAsFailure: false,
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
  },
);
clearInterval(progress);
const elapsed = (performance.now() - started) / 1000;
const watcherEvents = target.watcher.events.length;
const watcherOpen = !target.watcher.isEnded();
await target.close();

process.stdout.write(`\n${details.numRuns} requests in ${elapsed.toFixed(1)} s (seed ${details.seed})\n\n`);
process.stdout.write('| request | status | count |\n|---|---:|---:|\n');
for (const [key, count] of [...statuses].sort()) {
  const [kind, status] = key.split(' ');
  process.stdout.write(`| ${kind} | ${status} | ${count} |\n`);
}
process.stdout.write(
  `\nAccepted updates delivered to the watcher: ${watcherEvents}; watcher still connected: ${watcherOpen ? 'yes' : 'no'}\n`,
);
const problems = [...target.problems];
if (!watcherOpen) problems.push('the watcher was disconnected');
if (details.failed) {
  process.stdout.write(
    `\nFAILED after ${details.numRuns} requests, ${details.numShrinks} shrinks (replay: npm run fuzz -- --seed ${details.seed}):\n` +
      `${details.errorInstance instanceof Error ? details.errorInstance.message : visible(details.errorInstance)}\n`,
  );
  process.exitCode = 1;
} else if (problems.length > 0) {
  process.stdout.write(`\nFAILED: ${problems.join('; ')}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write('\nNo failure: every request answered 200 or 4xx, nothing lost, nothing unhandled.\n');
}
