/**
 * One of bench/workers.ts's load generators: a process of its own holding as many subscribers as
 * it is told (one process's descriptors bound what it can hold, so several of them hold 40,000),
 * on raw sockets (src/cli/bench/), driven over Node IPC. The orchestrator publishes; each load
 * generator counts, per subscriber, what arrived in a phase's range of sequence numbers, and
 * returns its latencies. It exits when the orchestrator goes away.
 */
import type { Endpoints } from '../src/cli/bench/endpoints.js';
import { clockNs } from '../src/cli/bench/payload.js';
import { Recorder, type Tally } from '../src/cli/bench/recorder.js';
import { openAll, Subscriber } from '../src/cli/bench/subscribers.js';

export type ToLoadgen =
  /** Open subscribers `first` to `first + count - 1` (the index chooses the source address). */
  | { type: 'connect'; endpoints: Endpoints; first: number; count: number; window: number }
  /** Count the sequence numbers [from, to); keep latencies when `latency`. Answered `armed`, then `measured`. */
  | { type: 'measure'; from: number; to: number; latency: boolean; timeoutMs: number }
  | { type: 'close' };

export type FromLoadgen =
  /** `startedNs`: where its clock (clockNs) starts, on the machine's monotonic clock. */
  | { type: 'ready'; startedNs: number }
  | { type: 'connected'; connected: number; failed: number; errors: Record<string, number>; ms: number }
  | { type: 'armed' }
  | {
      type: 'measured';
      complete: boolean;
      /** Events of the range received once. */
      deliveries: number;
      lost: number;
      dups: number;
      /** When the last of them came, on this process's clock (ns). */
      lastNs: number;
      /** Publish-to-receive of each, in ns of this process's clock minus the publisher's. */
      latenciesNs: number[];
      serverCloses: number;
    }
  | { type: 'closed' };

/** A recorder that also counts one phase's range and times its last delivery. */
class PhaseRecorder extends Recorder {
  from = 0;
  to = 0;
  inRange = 0;
  lastNs = 0;
  latency = false;
  latenciesNs: number[] = [];
  phaseTarget = Number.POSITIVE_INFINITY;
  phaseReached: (() => void) | undefined;

  override receive(tally: Tally, seq: number, timeNs: number): void {
    const before = tally.unique;
    super.receive(tally, seq, timeNs);
    if (tally.unique === before || seq < this.from || seq >= this.to) return;
    this.lastNs = this.now;
    if (this.latency) this.latenciesNs.push(this.now - timeNs);
    if (++this.inRange >= this.phaseTarget) this.phaseReached?.();
  }
}

const recorder = new PhaseRecorder();
let subscribers: Subscriber[] = [];
let endpoints: Endpoints | undefined;
let serverCloses = 0;
let closing = false;

function send(message: FromLoadgen): void {
  process.send?.(message);
}

async function connect(message: ToLoadgen & { type: 'connect' }): Promise<void> {
  endpoints = message.endpoints;
  const created = Array.from({ length: message.count }, (_, i) => {
    const subscriber = new Subscriber(message.first + i, recorder);
    // A stream the server ends is opened again with Last-Event-ID, as a browser would.
    subscriber.onServerClose = (closed) => {
      if (closing || endpoints === undefined) return;
      serverCloses++;
      closed.open(endpoints, closed.lastEventId).catch(() => {});
    };
    return subscriber;
  });
  const outcome = await openAll(created, message.endpoints, message.window);
  subscribers = created.filter((subscriber) => subscriber.isOpen);
  send({ type: 'connected', ...outcome });
}

async function measure({ from, to, latency, timeoutMs }: ToLoadgen & { type: 'measure' }): Promise<void> {
  const dupsBefore = recorder.dups;
  Object.assign(recorder, { from, to, latency, inRange: 0, lastNs: 0, latenciesNs: [] });
  recorder.phaseTarget = subscribers.length * (to - from);
  const complete = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    recorder.phaseReached = () => {
      clearTimeout(timer);
      resolve(true);
    };
    send({ type: 'armed' });
  });
  recorder.phaseReached = undefined;
  recorder.phaseTarget = Number.POSITIVE_INFINITY;
  let lost = 0;
  for (const subscriber of subscribers) lost += subscriber.tally.missing(from, to);
  send({
    type: 'measured',
    complete,
    deliveries: recorder.inRange,
    lost,
    dups: recorder.dups - dupsBefore,
    lastNs: recorder.lastNs,
    latenciesNs: recorder.latenciesNs,
    serverCloses,
  });
}

process.on('message', (message: ToLoadgen) => {
  if (message.type === 'connect') {
    closing = false;
    serverCloses = 0;
    connect(message).catch((error: Error) =>
      send({
        type: 'connected',
        connected: 0,
        failed: message.count,
        errors: { [error.message]: message.count },
        ms: 0,
      }),
    );
  } else if (message.type === 'measure') {
    void measure(message);
  } else {
    closing = true;
    for (const subscriber of subscribers) subscriber.close();
    subscribers = [];
    send({ type: 'closed' });
  }
});

// Bounded: without its orchestrator it has nothing to do.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', startedNs: Number(process.hrtime.bigint()) - clockNs() });
