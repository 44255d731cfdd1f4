// Past 400 lines: the primary's side of every message of the cluster channel, in one class; its parts
// are files beside it (admission.ts, replay-pages.ts, drain-barrier.ts, update-message.ts).
import cluster, { type Worker } from 'node:cluster';
import { type Logger, stderrLogger } from '../../server/logger.js';
import { HubError } from '../errors.js';
import {
  DEFAULT_MAX_SUBSCRIBERS,
  DEFAULT_MAX_SUBSCRIBERS_PER_ADDRESS,
  hubIntegerOption,
} from '../hub-options.js';
import { MemoryStore } from '../stores/memory.js';
import type { HubStore, ReplayResult } from '../stores/store.js';
import type { SubscriptionDocument } from '../subscriptions.js';
import type { StoredUpdate } from '../update.js';
import { HubAdmission } from './admission.js';
import { DrainBarrier } from './drain-barrier.js';
import {
  type CounterFigures,
  isClusterMessage,
  type MemberFigures,
  NO_COUNTERS,
  type PeerFigures,
  type ToPrimary,
  type ToWorker,
  type UpdateFields,
} from './messages.js';
import { MAX_REPLAYS_PER_WORKER, ReplayPages } from './replay-pages.js';
import { bytesOf, messageOf } from './update-message.js';

/** Default updates each worker keeps itself, to replay from without asking the primary. */
export const DEFAULT_REPLICA_SIZE = 10_000;
/** Default bytes of updates a worker may leave unhandled on its channel before it counts as stuck: 64 MiB. */
export const DEFAULT_MAX_WORKER_BACKLOG_BYTES = 64 * 1024 * 1024;
/** How often the primary tells every worker the others' figures, in ms. */
export const PEERS_INTERVAL_MS = 1000;
/** A worker that sends nothing for this long (its figures come once a second) counts as stuck. */
export const WORKER_SILENCE_MS = 30_000;

/** Options of {@link HubPrimary.open}. */
export interface HubPrimaryOptions {
  /**
   * The history every worker shares, held here: one writer, whatever the number of workers. A
   * MemoryStore (the default, keeping `historySize` updates) or a SqliteStore; `false` when each
   * worker opens a store shared by nodes itself (Redis), the primary then holding no history.
   */
  store?: HubStore | false;
  /** History of the default memory store. Default 10,000 updates. */
  historySize?: number;
  /** Updates each worker keeps itself for replays (older IDs are asked of the primary). Default 10,000. */
  replicaSize?: number;
  /** Subscribers of the whole hub at once; more get 503 with Retry-After. Default 50,000. */
  maxSubscribers?: number;
  /** Subscribers of the whole hub from one address at once; more get 429. Default 10,000. */
  maxSubscribersPerAddress?: number;
  /** Bytes of updates a worker may leave unhandled before it is stopped (SIGKILL) as stuck. Default 64 MiB. */
  maxWorkerBacklogBytes?: number;
  /** What every worker receives when it joins (`joinHubPrimary()` returns it): anything JSON can carry. */
  setup?: unknown;
  logger?: Logger;
}

/** A worker process, from its fork on. */
interface Member {
  readonly forked: Worker;
  /** Its number (1…), given when it joins: the lowest one free, so a worker replacing another takes its number. */
  worker: number;
  pid: number;
  /** The byte count of update messages it said it handled. */
  acked: number;
  lastHeard: number;
  figures: MemberFigures | undefined;
  readonly presence: Map<string, SubscriptionDocument>;
  readonly replays: ReplayPages;
  stopping: boolean;
}

/**
 * The primary process of a hub whose workers (node:cluster) serve as one: it holds the history —
 * the memory ring or the SQLite file, one writer — and gives every update its place and its ID
 * once, sending it to every worker in that order; it admits every subscriber against the whole
 * hub's limits (admission.ts); it keeps every worker's subscriptions for the subscriptions API;
 * and it tells every worker the others' figures once a second. It adopts each worker node:cluster
 * forks; forking them, and starting another when one exits, is the application's (`siar serve
 * --workers` does both). A worker that falls behind by more than `maxWorkerBacklogBytes`, or says
 * nothing for {@link WORKER_SILENCE_MS}, is stopped (SIGKILL): its clients come back with
 * Last-Event-ID, to whichever worker takes them.
 */
export class HubPrimary {
  private readonly store: HubStore | undefined;
  private readonly admission: HubAdmission;
  private readonly members = new Map<Worker, Member>();
  private readonly replicaSize: number;
  private readonly maxBacklog: number;
  private readonly setup: unknown;
  private readonly logger: Logger;
  /** The byte count of update messages sent so far (what acknowledgements are counted in). */
  private at = 0;
  /** The seq of the newest update dispatched. */
  private lastSeq = 0;
  private retired: CounterFigures = { ...NO_COUNTERS };
  private exited = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set by shutdown(): the workers done with their publishes in flight wait there for the others. */
  private stopping: DrainBarrier<Member> | undefined;
  private readonly onFork = (worker: Worker) => this.adopt(worker);
  private readonly onExit = (worker: Worker) => this.gone(worker);

  private constructor(options: HubPrimaryOptions) {
    this.store =
      options.store === false
        ? undefined
        : (options.store ?? new MemoryStore({ historySize: options.historySize }));
    this.admission = new HubAdmission({
      maxSubscribers: hubIntegerOption('maxSubscribers', options.maxSubscribers, DEFAULT_MAX_SUBSCRIBERS),
      maxSubscribersPerAddress: hubIntegerOption(
        'maxSubscribersPerAddress',
        options.maxSubscribersPerAddress,
        DEFAULT_MAX_SUBSCRIBERS_PER_ADDRESS,
      ),
    });
    this.replicaSize = hubIntegerOption('replicaSize', options.replicaSize, DEFAULT_REPLICA_SIZE);
    this.maxBacklog = hubIntegerOption(
      'maxWorkerBacklogBytes',
      options.maxWorkerBacklogBytes,
      DEFAULT_MAX_WORKER_BACKLOG_BYTES,
      { min: 1 },
    );
    this.setup = options.setup;
    this.logger = options.logger ?? stderrLogger;
  }

  /**
   * Opens the history and starts adopting the workers node:cluster forks (those forked already
   * too). Call it in the primary process, before forking.
   */
  static async open(options: HubPrimaryOptions = {}): Promise<HubPrimary> {
    if (!cluster.isPrimary) {
      throw new HubError('invalid-option', 'HubPrimary.open() runs in the primary process of node:cluster.');
    }
    const primary = new HubPrimary(options);
    await primary.store?.open((update) => primary.broadcast(update));
    for (const worker of Object.values(cluster.workers ?? {})) if (worker) primary.adopt(worker);
    cluster.on('fork', primary.onFork);
    cluster.on('exit', primary.onExit);
    primary.timer = setInterval(() => primary.tell(), PEERS_INTERVAL_MS);
    primary.timer.unref();
    return primary;
  }

  /** Subscribers admitted now, over every worker. */
  get subscribers(): number {
    return this.admission.size;
  }

  /** The workers that joined, by number. */
  workers(): Array<{ worker: number; pid: number }> {
    return this.joined()
      .map(({ worker, pid }) => ({ worker, pid }))
      .sort((a, b) => a.worker - b.worker);
  }

  /**
   * Shuts the hub down as one: every worker is told to close its hub (`HubWorker.shutdown`). Each
   * stops taking requests and finishes its publishes in flight (within `graceMs`), and once all have
   * (or the grace, and a second more, ran out) every worker ends its streams, with `retry:`: every
   * subscriber has every update acknowledged before. The workers then exit by themselves; how long
   * to wait for them is the application's.
   */
  shutdown(graceMs: number): void {
    if (this.stopping !== undefined) return;
    this.stopping = new DrainBarrier(graceMs, () => this.joined());
    for (const member of this.joined()) this.send(member, { siar: 'shutdown', graceMs });
  }

  /** The workers that joined. */
  private joined(): Member[] {
    return [...this.members.values()].filter((member) => member.worker > 0);
  }

  /** Stops adopting workers and closes the history. Call it once the workers have exited. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.stopping?.dispose();
    cluster.off('fork', this.onFork);
    cluster.off('exit', this.onExit);
    for (const member of this.members.values()) this.forget(member);
    await this.store?.close();
  }

  private adopt(forked: Worker): void {
    if (this.members.has(forked)) return;
    const member: Member = {
      forked,
      worker: 0,
      pid: forked.process.pid ?? 0,
      acked: 0,
      lastHeard: Date.now(),
      figures: undefined,
      presence: new Map(),
      replays: new ReplayPages((message) => this.send(member, message)),
      stopping: false,
    };
    this.members.set(forked, member);
    forked.on('message', (message: unknown) => {
      if (isClusterMessage(message)) this.receive(member, message as ToPrimary);
    });
  }

  /** A worker exited: its subscribers are gone, its counts go to the hub's totals. */
  private gone(forked: Worker): void {
    const member = this.members.get(forked);
    if (member === undefined) return;
    this.members.delete(forked);
    if (member.worker === 0) return;
    this.exited++;
    const figures = member.figures;
    if (figures !== undefined) {
      for (const name of Object.keys(this.retired) as Array<keyof CounterFigures>)
        this.retired[name] += figures[name];
    }
    this.forget(member);
  }

  private forget(member: Member): void {
    this.admission.drop(member.worker);
    this.stopping?.leave(member);
    member.replays.clear();
    member.presence.clear();
  }

  private send(member: Member, message: ToWorker): void {
    if (member.forked.isConnected()) member.forked.send(message);
  }

  private receive(member: Member, message: ToPrimary): void {
    member.lastHeard = Date.now();
    switch (message.siar) {
      case 'join':
        this.join(member, message.pid, message.capacity);
        break;
      case 'append':
        this.append(member, message.call, message.update);
        break;
      case 'replay':
        void this.replay(member, message.call, message.lastEventId);
        break;
      case 'replay-more':
        member.replays.more(message.call);
        break;
      case 'admit':
        this.send(member, {
          siar: 'admitted',
          call: message.call,
          refusals: message.addresses.map((address) => this.admission.admit(member.worker, address)),
        });
        break;
      case 'leave':
        for (const address of message.addresses) this.admission.leave(member.worker, address);
        break;
      case 'presence-add':
        for (const document of message.documents) member.presence.set(document.id, document);
        break;
      case 'presence-remove':
        for (const id of message.ids) member.presence.delete(id);
        break;
      case 'presence-list': {
        const documents = [...this.members.values()].flatMap((each) => [...each.presence.values()]);
        this.send(member, { siar: 'presence-listed', call: message.call, documents });
        break;
      }
      case 'figures':
        member.figures = message.figures;
        break;
      case 'ack':
        member.acked = message.at;
        break;
      case 'drained': {
        const call = message.call;
        const go = () => this.send(member, { siar: 'all-drained', call });
        if (this.stopping === undefined) go();
        else this.stopping.arrive(member, go);
        break;
      }
      default:
        // The application's own messages (siar serve's 'listening', say) are not the primary's.
        break;
    }
  }

  private join(member: Member, pid: number, capacity: number): void {
    const taken = new Set([...this.members.values()].map(({ worker }) => worker));
    let worker = 1;
    while (taken.has(worker)) worker++;
    member.worker = worker;
    member.pid = pid;
    member.acked = this.at;
    this.admission.join(worker, capacity);
    const store = this.store;
    this.send(member, {
      siar: 'setup',
      worker,
      history:
        store === undefined
          ? undefined
          : {
              kind: store.kind,
              lastEventId: store.lastEventId(),
              historySize: store.historySize(),
              replicaSize: this.replicaSize,
            },
      at: this.at,
      setup: this.setup,
    });
    // A worker that joins while the hub shuts down (one started in place of another) stops too.
    if (this.stopping !== undefined) this.send(member, { siar: 'shutdown', graceMs: 0 });
  }

  /** The store dispatched an update: every worker gets it, in this order. */
  private broadcast(update: StoredUpdate): void {
    this.lastSeq = update.seq;
    this.at += bytesOf(update);
    const message: ToWorker = {
      siar: 'update',
      update: messageOf(update),
      historySize: this.store?.historySize() ?? 0,
      at: this.at,
    };
    for (const member of this.members.values()) {
      if (member.worker === 0) continue;
      this.send(member, message);
      if (this.at - member.acked > this.maxBacklog) {
        this.stop(member, `it has not handled ${this.maxBacklog} bytes of updates sent to it`);
      }
    }
  }

  private append(member: Member, call: number, fields: UpdateFields): void {
    const store = this.store;
    if (store === undefined) {
      this.send(member, { siar: 'call-failed', call, failure: { message: 'The primary holds no history.' } });
      return;
    }
    const { id, topics, data, type, retry } = fields;
    store.append({ id, topics, data, type, retry, private: fields.private }).then(
      (stored) => this.send(member, { siar: 'appended', call, seq: stored.seq, id: stored.id }),
      (error: unknown) => {
        this.logger.error({ error: String(error) }, 'The store failed.');
        this.send(member, {
          siar: 'call-failed',
          call,
          failure: { message: 'The hub could not store the update: its store is unavailable. Try again.' },
        });
      },
    );
  }

  private async replay(member: Member, call: number, lastEventId: string): Promise<void> {
    const store = this.store;
    const fail = (message: string) => this.send(member, { siar: 'call-failed', call, failure: { message } });
    if (store === undefined) return fail('The primary holds no history.');
    if (member.replays.size >= MAX_REPLAYS_PER_WORKER) {
      return fail(`The hub replays ${MAX_REPLAYS_PER_WORKER} histories for this worker already. Try again.`);
    }
    // Everything dispatched before the replay began is in it, or older than the ID asked for.
    const dispatchedBefore = this.lastSeq;
    const updates: StoredUpdate[] = [];
    let result: ReplayResult;
    try {
      result = await store.replay(lastEventId, (update) => updates.push(update));
    } catch (error) {
      this.logger.error({ error: String(error) }, 'The store failed.');
      return fail('The hub could not read its history: its store is unavailable. Try again.');
    }
    // The worker must not send live what its subscriber had: the ID asked for, and before.
    if (result.found && result.seq === undefined && updates.length === 0) {
      result = { ...result, seq: dispatchedBefore };
    }
    member.replays.start(call, updates, result);
  }

  /** Once a second: every worker's figures to every worker; a worker silent for too long is stopped. */
  private tell(): void {
    const joined = this.joined();
    const peers: PeerFigures[] = joined.map(({ worker, pid, presence, figures }) => ({
      worker,
      pid,
      subscriptions: presence.size,
      figures,
    }));
    const message: ToWorker = {
      siar: 'peers',
      peers,
      retired: this.retired,
      exited: this.exited,
      store: this.store?.health(),
      historySize: this.store?.historySize(),
    };
    const now = Date.now();
    for (const member of joined) {
      this.send(member, message);
      if (now - member.lastHeard > WORKER_SILENCE_MS) {
        this.stop(member, `it said nothing for ${WORKER_SILENCE_MS / 1000} s`);
      }
    }
  }

  /** Stops a stuck worker; its clients come back, with Last-Event-ID, to the others. */
  private stop(member: Member, why: string): void {
    if (member.stopping) return;
    member.stopping = true;
    this.logger.warn({ worker: member.worker, pid: member.pid }, `Stopping worker ${member.worker}: ${why}.`);
    member.forked.process.kill('SIGKILL');
  }
}
