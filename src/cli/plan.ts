import { DEFAULT_HEARTBEAT_MS } from '../server/index.js';
import { drawProgress } from './bench/progress.js';
import { defineCommand } from './command.js';
import { defineFlags, type FlagValues, flagMistake } from './flags.js';
import {
  calibrate,
  calibrationSubscribers,
  MAX_CALIBRATION_SECONDS,
  MAX_CALIBRATION_SUBSCRIBERS,
  MIN_CALIBRATION_SECONDS,
} from './plan/calibrate.js';
import { readMachine } from './plan/machine.js';
import { DESCRIPTOR_RESERVE, makePlan, PlanError, type PlanRequest } from './plan/model.js';
import { renderJson, renderText } from './plan/render.js';
import { UsageError } from './usage-error.js';

/** Most subscribers a plan is made for (a hundred million: past it, plan per region). */
const MAX_SUBSCRIBERS = 100_000_000;
/** Subscribers of the calibration when not told: enough for a steady per-subscriber figure, quick to open. */
const DEFAULT_CALIBRATION_SUBSCRIBERS = 2000;
/** Seconds of the calibration when not told. */
const DEFAULT_CALIBRATION_SECONDS = 20;

const FLAGS = defineFlags({
  subscribers: {
    kind: 'integer',
    short: 's',
    value: '<n>',
    help: 'subscribers connected at once (required)',
  },
  rate: {
    kind: 'string',
    short: 'r',
    value: '<updates/s>',
    help: 'updates published per second, over all topics (required; 0.5 for one every two seconds)',
  },
  payload: { kind: 'integer', value: '<bytes>', help: 'data size of an update (required)' },
  topics: {
    kind: 'integer',
    value: '<n>',
    default: 1,
    help: 'topics the updates spread over, each subscriber following one (1: every update to everybody)',
  },
  store: {
    kind: 'string',
    value: '<store>',
    default: 'memory',
    help: 'the store to plan and calibrate with: memory, sqlite:<path> (calibrated on a file of its own), or a Redis on this machine',
  },
  heartbeat: {
    kind: 'integer',
    value: '<ms>',
    default: DEFAULT_HEARTBEAT_MS,
    help: 'the heartbeat interval the hub will run with, 0 for none',
  },
  'descriptor-limit': {
    kind: 'integer',
    value: '<n>',
    defaultText: 'the hard limit here',
    help: "plan with this per-process descriptor limit (the machines' LimitNOFILE), not this one's",
  },
  'calibrate-seconds': {
    kind: 'integer',
    value: '<s>',
    default: DEFAULT_CALIBRATION_SECONDS,
    help: `length of the calibration run (${MIN_CALIBRATION_SECONDS} to ${MAX_CALIBRATION_SECONDS})`,
  },
  'calibrate-subscribers': {
    kind: 'integer',
    value: '<n>',
    default: DEFAULT_CALIBRATION_SUBSCRIBERS,
    help: `subscribers of the calibration run (at most ${MAX_CALIBRATION_SUBSCRIBERS})`,
  },
  json: { kind: 'boolean', help: 'print the plan as one JSON object' },
});

type Values = FlagValues<typeof FLAGS>;

/** The request, checked: what a plan needs, within what it can answer. */
function planRequest(values: Values): PlanRequest {
  const mistake = (message: string) => flagMistake('plan', message);
  const { subscribers, payload, topics, heartbeat } = values;
  if (subscribers === undefined || values.rate === undefined || payload === undefined) {
    throw mistake('siar plan needs --subscribers, --rate and --payload.');
  }
  if (subscribers < 1 || subscribers > MAX_SUBSCRIBERS) {
    throw mistake(`--subscribers must be between 1 and ${MAX_SUBSCRIBERS.toLocaleString('en-US')}.`);
  }
  const rate = Number(values.rate);
  if (!/^\s*[0-9.]+\s*$/.test(values.rate) || !(rate > 0) || rate > 1_000_000) {
    throw mistake(`--rate must be a number of updates per second above 0, got "${values.rate}".`);
  }
  if (payload < 1 || payload > 1_048_576) throw mistake('--payload must be between 1 and 1,048,576 bytes.');
  if (topics < 1) throw mistake('--topics must be at least 1.');
  const descriptorLimit = values['descriptor-limit'];
  if (descriptorLimit !== undefined && descriptorLimit <= DESCRIPTOR_RESERVE) {
    throw mistake(
      `--descriptor-limit must be above the ${DESCRIPTOR_RESERVE} descriptors a hub keeps for itself.`,
    );
  }
  return {
    subscribers,
    updatesPerSecond: rate,
    payloadBytes: payload,
    topics,
    store: values.store,
    heartbeatMs: heartbeat,
    ...(descriptorLimit === undefined ? {} : { descriptorLimit }),
  };
}

async function run(values: Values): Promise<number> {
  const request = planRequest(values);
  const seconds = values['calibrate-seconds'];
  if (seconds < MIN_CALIBRATION_SECONDS || seconds > MAX_CALIBRATION_SECONDS) {
    throw flagMistake(
      'plan',
      `--calibrate-seconds must be between ${MIN_CALIBRATION_SECONDS} and ${MAX_CALIBRATION_SECONDS}.`,
    );
  }
  const wanted = values['calibrate-subscribers'];
  if (wanted < 10 || wanted > MAX_CALIBRATION_SUBSCRIBERS) {
    throw flagMistake(
      'plan',
      `--calibrate-subscribers must be between 10 and ${MAX_CALIBRATION_SUBSCRIBERS}.`,
    );
  }
  const machine = readMachine();
  const tty = process.stderr.isTTY === true && !values.json;
  let shown = '';
  const measured = await calibrate({
    store: request.store,
    payloadBytes: request.payloadBytes,
    subscribers: calibrationSubscribers(wanted, machine.descriptorSoftLimit),
    seconds,
    updatesPerSecond: request.updatesPerSecond,
    perSubscriberRate: request.updatesPerSecond / request.topics,
    onProgress: tty
      ? (phase, done, total) => {
          if (shown !== '' && phase !== shown) process.stderr.write('\n');
          shown = phase;
          drawProgress(process.stderr, phase, done, total, phase === 'idle' ? ' ms' : '');
        }
      : undefined,
  });
  if (tty) process.stderr.write('\n\n');
  if (measured.lost > 0) {
    throw new UsageError(
      `The calibration lost ${measured.lost} of ${measured.lost + measured.deliveries} deliveries: its figures would mislead. Is the machine overloaded?`,
      1,
    );
  }
  let plan: ReturnType<typeof makePlan>;
  try {
    plan = makePlan(machine, measured, request);
  } catch (error) {
    if (error instanceof PlanError) throw new UsageError(`No plan: ${error.message}`, 1);
    throw error;
  }
  const report = { machine, measured, plan };
  process.stdout.write(values.json ? renderJson(report) : renderText(report));
  return 0;
}

export const command = defineCommand({
  name: 'plan',
  usage: '--subscribers <n> --rate <updates/s> --payload <bytes> [options]',
  about: `Plans a deployment of the hub: worker processes per machine, machines like this one, memory, cores,
descriptors and egress, the store, the siar serve command lines and the system settings to change.
It reads this machine (cores, memory, descriptor limits, somaxconn, ports, TCP memory), then
calibrates on it: a short run against a hub of its own on 127.0.0.1, with the store and payload
asked for, measures memory per subscriber, CPU per update and per delivery, and connect rate.
Every figure says whether it was read here, measured, derived or assumed, and from what.`,
  flags: FLAGS,
  more: `The calibration runs one process; the plan scales its per-process figures to one worker per core
(siar serve --workers). The machines are assumed to be like this one.

Exit status: 0 with a plan; 1 when the calibration failed or no machine of this size can serve the
request (the message says why); 2 for a usage error.

Examples:
  siar plan --subscribers 100000 --rate 5 --payload 200
  siar plan -s 20000 -r 50 --payload 1000 --topics 500 --store redis://127.0.0.1:6379 --json
  siar plan -s 1000000 -r 1 --payload 100 --descriptor-limit 200000 --calibrate-seconds 30
`,
  run,
});
