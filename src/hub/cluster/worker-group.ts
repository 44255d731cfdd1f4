import { Counter, Gauge, type Registry } from 'prom-client';
import { HubError } from '../errors.js';
import { TOP_SELECTORS } from '../health.js';
import type { HubCounters } from '../metrics.js';
import type { HealthAnswer, HubGroup, ProcessFigures } from './hub-group.js';
import { type CounterFigures, type MemberFigures, NO_COUNTERS } from './messages.js';
import type { Answer, WorkerLink } from './worker-link.js';

/** How often a worker sends its figures to the primary, in ms. */
export const FIGURES_INTERVAL_MS = 1000;
/** Subscribers a worker asks the primary to admit in one message, at most. */
const ADMIT_BATCH = 1000;
/** How long a refused subscriber is told to wait, in seconds. */
const REFUSED_RETRY_AFTER = '10';

/** What a process sends of its figures. */
function memberFigures(local: ProcessFigures): MemberFigures {
  return {
    subscribers: local.subscribers,
    subscribersTotal: local.subscribersTotal,
    updatesPublished: local.updatesPublished,
    updatesDispatched: local.updatesDispatched,
    deliveries: local.deliveries,
    publishRefused: local.publishRefused,
    slowConsumersClosed: local.slowConsumersClosed,
    topSelectors: local.topSelectors,
    rssBytes: process.memoryUsage.rss(),
  };
}

/** One worker's figures, this one's now and the others' last. */
interface Member {
  worker: number;
  pid: number;
  figures: MemberFigures;
}

interface Admitting {
  address: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A worker's {@link HubGroup}: it sends its figures to the primary once a second and reads the
 * others' from the primary's `peers` notice; it admits subscribers through the primary, asking for
 * those of one event-loop turn in one message. Counters of the whole hub are this worker's, plus
 * the others' last figures, plus what the workers that exited had counted; `updatesDispatched`,
 * which every worker counts for every update, is the highest of them.
 */
export class WorkerGroup implements HubGroup {
  readonly member: string;
  private local: (() => ProcessFigures) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private admitting: Admitting[] = [];
  private leaving: string[] = [];
  private flushing = false;

  constructor(
    private readonly link: WorkerLink,
    readonly worker: number,
  ) {
    this.member = String(worker);
  }

  attach(local: () => ProcessFigures): void {
    this.local = local;
    this.push();
    this.timer = setInterval(() => this.push(), FIGURES_INTERVAL_MS);
    this.timer.unref();
  }

  drained(): Promise<void> {
    return this.link.call({ siar: 'drained' }, (answer) => answer.siar === 'all-drained');
  }

  close(): void {
    clearInterval(this.timer);
  }

  private push(): void {
    if (this.local !== undefined) this.link.send({ siar: 'figures', figures: memberFigures(this.local()) });
  }

  admit(address: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.admitting.push({ address, resolve, reject });
      this.schedule();
    });
  }

  leave(address: string): void {
    this.leaving.push(address);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  /** Sends what left, then what asks to join (so that the primary counts the leaving first). */
  private flush(): void {
    this.flushing = false;
    if (this.leaving.length > 0) {
      this.link.send({ siar: 'leave', addresses: this.leaving });
      this.leaving = [];
    }
    while (this.admitting.length > 0) this.ask(this.admitting.splice(0, ADMIT_BATCH));
  }

  private ask(batch: Admitting[]): void {
    const addresses = batch.map(({ address }) => address);
    const answered = (answer: Answer) => {
      if (answer.siar !== 'admitted') return false;
      batch.forEach(({ resolve, reject }, i) => {
        const refusal = answer.refusals[i];
        if (refusal === null) resolve();
        else
          reject(
            new HubError(
              refusal?.code ?? 'unavailable',
              refusal?.message ?? 'The hub refused the subscriber.',
              {
                'retry-after': REFUSED_RETRY_AFTER,
              },
            ),
          );
      });
      return true;
    };
    // Admitted after its deadline (the subscribers were refused meanwhile): let the primary know they left.
    const late = (answer: Answer) => {
      if (answer.siar !== 'admitted') return;
      const admitted = addresses.filter((_, i) => answer.refusals[i] === null);
      if (admitted.length > 0) this.link.send({ siar: 'leave', addresses: admitted });
    };
    this.link.call({ siar: 'admit', addresses }, answered, late).catch((error: Error) => {
      for (const { reject } of batch) reject(error);
    });
  }

  /** Every worker's figures: this one's now, the others' as the primary last told them. */
  private members(local: ProcessFigures): Member[] {
    const members: Member[] = [{ worker: this.worker, pid: process.pid, figures: memberFigures(local) }];
    for (const { worker, pid, figures } of this.link.peers?.peers ?? []) {
      if (worker !== this.worker && figures !== undefined) members.push({ worker, pid, figures });
    }
    return members;
  }

  /** The sum of a counter over every worker, those that exited included. */
  private total(name: keyof CounterFigures, local: number): number {
    let total = local + (this.link.peers?.retired ?? NO_COUNTERS)[name];
    for (const { worker, figures } of this.link.peers?.peers ?? []) {
      if (worker !== this.worker && figures !== undefined) total += figures[name];
    }
    return total;
  }

  /** Subscribers connected to the other workers now (as they last said). */
  private othersConnected(): number {
    let total = 0;
    for (const { worker, figures } of this.link.peers?.peers ?? []) {
      if (worker !== this.worker && figures !== undefined) total += figures.subscribers;
    }
    return total;
  }

  /** The most updates any worker dispatched: each dispatches every update. */
  private dispatched(local: number): number {
    let most = local;
    for (const { worker, figures } of this.link.peers?.peers ?? []) {
      if (worker !== this.worker && figures !== undefined) most = Math.max(most, figures.updatesDispatched);
    }
    return most;
  }

  figures(local: ProcessFigures): ProcessFigures {
    const members = this.members(local);
    // Each worker sends its top selectors: their sum is the hub's, but for selectors outside a
    // worker's top ones, which it does not count there.
    const selectors = new Map<string, number>();
    for (const { figures } of members) {
      for (const { selector, subscribers } of figures.topSelectors) {
        selectors.set(selector, (selectors.get(selector) ?? 0) + subscribers);
      }
    }
    return {
      ...local,
      subscribers: local.subscribers + this.othersConnected(),
      subscribersTotal: this.total('subscribersTotal', local.subscribersTotal),
      updatesPublished: this.total('updatesPublished', local.updatesPublished),
      updatesDispatched: this.dispatched(local.updatesDispatched),
      deliveries: this.total('deliveries', local.deliveries),
      publishRefused: this.total('publishRefused', local.publishRefused),
      slowConsumersClosed: this.total('slowConsumersClosed', local.slowConsumersClosed),
      topSelectors: [...selectors]
        .sort((a, b) => b[1] - a[1])
        .slice(0, TOP_SELECTORS)
        .map(([selector, subscribers]) => ({ selector, subscribers })),
    };
  }

  counters(local: HubCounters): HubCounters {
    const group = this;
    return {
      get subscribersConnected() {
        return local.subscribersConnected + group.othersConnected();
      },
      get subscribersTotal() {
        return group.total('subscribersTotal', local.subscribersTotal);
      },
      get updatesPublished() {
        return group.total('updatesPublished', local.updatesPublished);
      },
      get updatesDispatched() {
        return group.dispatched(local.updatesDispatched);
      },
      get deliveries() {
        return group.total('deliveries', local.deliveries);
      },
      get publishRefused() {
        return group.total('publishRefused', local.publishRefused);
      },
      // This process's own: its capacity, its refusals, its store's faults.
      get subscriberCapacity() {
        return local.subscriberCapacity;
      },
      get subscribersRefusedCapacity() {
        return local.subscribersRefusedCapacity;
      },
      get storeTimeouts() {
        return local.storeTimeouts;
      },
      storeFaults: local.storeFaults,
      historySize: local.historySize,
      storeUp: local.storeUp,
    };
  }

  registerMetrics(registry: Registry): void {
    const group = this;
    const labelNames = ['worker'];
    const eachWorker = (visit: (labels: { worker: string }, figures: MemberFigures) => void) => {
      const local = group.local?.();
      if (local === undefined) return;
      for (const { worker, figures } of group.members(local)) visit({ worker: String(worker) }, figures);
    };
    new Gauge({
      name: 'siar_workers',
      help: 'Worker processes of the hub that sent their figures.',
      registers: [registry],
      collect() {
        let count = 0;
        eachWorker(() => count++);
        this.set(count);
      },
    });
    new Counter({
      name: 'siar_workers_exited_total',
      help: 'Worker processes that exited (or were stopped as stuck) while the hub ran.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(group.link.peers?.exited ?? 0);
      },
    });
    new Gauge({
      name: 'siar_worker_subscribers_connected',
      help: 'Subscribers connected to each worker now.',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        eachWorker((labels, figures) => this.set(labels, figures.subscribers));
      },
    });
    new Gauge({
      name: 'siar_worker_resident_memory_bytes',
      help: 'Resident memory of each worker process.',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        eachWorker((labels, figures) => this.set(labels, figures.rssBytes));
      },
    });
    // Counters of one worker process: another one in its place starts again from 0, as a restarted process's do.
    new Counter({
      name: 'siar_worker_updates_published_total',
      help: 'Updates each worker accepted, since that process started.',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        eachWorker((labels, figures) => this.inc(labels, figures.updatesPublished));
      },
    });
    new Counter({
      name: 'siar_worker_deliveries_total',
      help: 'Update frames each worker wrote to its subscribers, since that process started.',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        eachWorker((labels, figures) => this.inc(labels, figures.deliveries));
      },
    });
  }

  health(answer: HealthAnswer): HealthAnswer {
    const local = this.local?.();
    const workers =
      local === undefined
        ? []
        : this.members({ ...local, subscribers: answer.subscribers })
            .map(({ worker, pid, figures }) => ({ worker, pid, subscribers: figures.subscribers }))
            .sort((a, b) => a.worker - b.worker);
    return {
      ...answer,
      subscribers: answer.subscribers + this.othersConnected(),
      worker: this.worker,
      workers,
    };
  }
}
