/**
 * Is a plan as good as its prediction? Plans for N subscribers from a calibration with fewer (what
 * `siar plan` does), then runs N on one hub process with the same load generator, and compares the
 * plan's memory per process and CPU per delivery with what the run measured. Prints a Markdown
 * table of the ratios (measured ÷ predicted; the target is within 25%) and the figures as JSON.
 *
 *   npm run bench:plan -- [--subscribers 5000] [--calibrate-subscribers 2000] [--rate 10]
 *                         [--payload 200] [--seconds 20] [--runs 2]
 */
import { parseArgs } from 'node:util';
import { calibrate } from '../src/cli/plan/calibrate.js';
import { readMachine } from '../src/cli/plan/machine.js';
import { type Measurement, makePlan, type PlanRequest } from '../src/cli/plan/model.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '5000' },
    'calibrate-subscribers': { type: 'string', default: '2000' },
    rate: { type: 'string', default: '10' },
    payload: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    runs: { type: 'string', default: '2' },
  },
});
const subscribers = Number(values.subscribers);
const calibrationSubscribers = Number(values['calibrate-subscribers']);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const runs = Number(values.runs);

const request: PlanRequest = {
  subscribers,
  updatesPerSecond: rate,
  payloadBytes: Number(values.payload),
  topics: 1,
  store: 'memory',
  heartbeatMs: 15_000,
};

/** One process's memory with `count` subscribers, by the model: base, growth while delivering, subscribers. */
const memoryAt = (measured: Measurement, count: number) =>
  measured.baseRssBytes + measured.activeRssBytes + count * measured.bytesPerSubscriber;

function run(count: number): Promise<Measurement> {
  return calibrate({
    store: request.store,
    payloadBytes: request.payloadBytes,
    subscribers: count,
    seconds,
    updatesPerSecond: rate,
    perSubscriberRate: rate,
  });
}

const machine = readMachine();
/** Predicted and measured, for one figure. */
interface Pair {
  predicted: number;
  measured: number;
}
const rows: Array<{ memory: Pair; bytesPerSubscriber: Pair; cpuPerDelivery: Pair; cpuCores: Pair }> = [];
for (let i = 0; i < runs; i++) {
  const calibration = await run(calibrationSubscribers);
  const plan = makePlan(machine, calibration, request);
  if (plan.figures.processes.value !== 1) {
    throw new Error(
      `The plan wants ${plan.figures.processes.value} processes: check with fewer subscribers.`,
    );
  }
  const measured = await run(subscribers);
  if (calibration.lost > 0 || measured.lost > 0)
    throw new Error('A run lost deliveries: its figures would mislead.');
  const predictedCpu = plan.figures.cpuCoresPerProcess.value;
  const measuredCpu = makePlan(machine, measured, request).figures.cpuCoresPerProcess.value;
  rows.push({
    memory: {
      predicted: plan.figures.memoryBytesPerProcess.value,
      measured: memoryAt(measured, subscribers),
    },
    bytesPerSubscriber: { predicted: calibration.bytesPerSubscriber, measured: measured.bytesPerSubscriber },
    cpuPerDelivery: { predicted: calibration.cpuMicrosPerDelivery, measured: measured.cpuMicrosPerDelivery },
    cpuCores: { predicted: predictedCpu, measured: measuredCpu },
  });
  process.stderr.write(`run ${i + 1} of ${runs} done\n`);
}

const cells = ({ predicted, measured }: Pair, scale: number, digits: number) =>
  `${(predicted / scale).toFixed(digits)} | ${(measured / scale).toFixed(digits)} | ${(measured / predicted).toFixed(2)}x`;
const count = (value: number) => value.toLocaleString('en-US');
const lines = [
  `Plan for ${count(subscribers)} subscribers from a calibration with ${count(calibrationSubscribers)} (one process, memory store, ${rate} updates/s to all, ${request.payloadBytes} B, ${seconds} s each), then a run with ${count(subscribers)}; ratio = measured ÷ predicted:`,
  '',
  '| run | memory predicted MB | measured MB | ratio | KB/subscriber predicted | measured | ratio | CPU µs/delivery predicted | measured | ratio | CPU cores predicted | measured | ratio |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (row, i) =>
      `| ${i + 1} | ${cells(row.memory, 1e6, 1)} | ${cells(row.bytesPerSubscriber, 1000, 1)} | ${cells(row.cpuPerDelivery, 1, 2)} | ${cells(row.cpuCores, 1, 3)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n\n${JSON.stringify({ request, calibrationSubscribers, rows })}\n`);
