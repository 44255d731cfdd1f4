/**
 * The soak (test/reliability/helpers/soak.ts): the real `siar serve` in a child process under a steady
 * publisher and churning subscribers, checking that nothing is lost or duplicated and that the
 * hub's RSS and event-loop delay stay flat.
 *
 *   npm run soak                          10 minutes
 *   npm run soak -- --minutes 30          longer
 *   npm run soak -- --seconds 60          what CI runs (test/reliability/soak.test.ts)
 *   npm run soak -- --rate 200 --subscribers 200 --topics 10 --store sqlite:/tmp/soak.db --history-size 10000
 *
 * Prints a sample every 5 s, then a table of the start and end figures, and exits 1 when an update
 * was lost or duplicated, or RSS or event-loop delay grew past the tolerance it states.
 */
import { parseArgs } from 'node:util';
import { renderSoakReport, runSoak } from '../test/reliability/helpers/soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string', default: '50' },
    subscribers: { type: 'string', default: '50' },
    topics: { type: 'string', default: '5' },
    store: { type: 'string', default: 'memory' },
    'history-size': { type: 'string', default: '1000' },
  },
});
const seconds =
  values.seconds !== undefined
    ? Number(values.seconds)
    : values.minutes !== undefined
      ? Number(values.minutes) * 60
      : 600;
const numbers = [
  seconds,
  Number(values.rate),
  Number(values.subscribers),
  Number(values.topics),
  Number(values['history-size']),
];
if (numbers.some((value) => !(value > 0))) {
  process.stderr.write(
    'soak: --minutes, --seconds, --rate, --subscribers and --topics take positive numbers\n',
  );
  process.exit(2);
}
process.stdout.write(`Soaking siar serve for ${seconds} s…\n`);
const report = await runSoak({
  durationMs: seconds * 1000,
  publishRate: Number(values.rate),
  subscribers: Number(values.subscribers),
  topics: Number(values.topics),
  store: values.store,
  historySize: Number(values['history-size']),
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`\n${renderSoakReport(report)}\n`);
process.exitCode = report.failures.length === 0 ? 0 : 1;
