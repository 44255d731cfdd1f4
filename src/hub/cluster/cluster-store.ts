import { UpdateRing } from '../stores/ring.js';
import type {
  Dispatch,
  HubNode,
  HubStore,
  ReplayResult,
  StoreHealth,
  SubscriptionPresence,
} from '../stores/store.js';
import type { SubscriptionDocument } from '../subscriptions.js';
import { type StoredUpdate, stored, type Update } from '../update.js';
import type { HistoryState, UpdateMessage } from './messages.js';
import { fieldsOf, fromMessage } from './update-message.js';
import type { WorkerLink } from './worker-link.js';

/** How often a worker tells the primary how far it has handled the updates it was sent, in ms. */
const ACK_INTERVAL_MS = 100;

/** The name the dashboard and the node list give a worker. */
export function workerName(worker: number): string {
  return `worker-${worker}`;
}

/**
 * Every worker's subscriptions, kept by the primary (the subscriptions API lists them all); the node
 * list is the workers', with the subscriptions each listed, from the primary's figures.
 */
class ClusterPresence implements SubscriptionPresence {
  constructor(
    private readonly link: WorkerLink,
    private readonly worker: number,
  ) {}

  add(documents: SubscriptionDocument[]): void {
    if (documents.length > 0) this.link.send({ siar: 'presence-add', documents });
  }

  remove(ids: string[]): void {
    if (ids.length > 0) this.link.send({ siar: 'presence-remove', ids });
  }

  async list(): Promise<SubscriptionDocument[]> {
    let documents: SubscriptionDocument[] = [];
    await this.link.call({ siar: 'presence-list' }, (answer) => {
      if (answer.siar === 'presence-listed') documents = answer.documents;
      return true;
    });
    return documents;
  }

  async nodes(): Promise<HubNode[]> {
    return (this.link.peers?.peers ?? []).map(({ worker, subscriptions }) => ({
      id: workerName(worker),
      subscriptions,
      self: worker === this.worker,
    }));
  }
}

/**
 * A worker's store when the primary holds the history (memory or SQLite: one writer, in the
 * primary). Appends go to the primary, which stores each update, gives it its place and sends it
 * to every worker, in one order; replays are served from the newest updates this worker keeps
 * itself (it got them all) and, for an older or unknown ID, by the primary, page by page. Every
 * call has a deadline (worker-link.ts): past it the publisher or subscriber gets 503.
 */
export class ClusterStore implements HubStore {
  readonly kind: string;
  readonly presence: SubscriptionPresence;
  private readonly replica: UpdateRing;
  private dispatch: Dispatch | undefined;
  private lastId: string | undefined;
  private size: number;
  /** The byte count of the updates handled, and the last one told to the primary. */
  private at: number;
  private ackedAt: number;
  private ackTimer: NodeJS.Timeout | undefined;
  private primaryHealth: StoreHealth = { ok: true };
  private closed = false;
  /** Appends waiting for their answer, by update ID, with the entry dispatched for each once it came. */
  private readonly appending = new Map<string, StoredUpdate | undefined>();

  constructor(
    private readonly link: WorkerLink,
    history: HistoryState,
    at: number,
    worker: number,
  ) {
    this.kind = history.kind;
    this.presence = new ClusterPresence(link, worker);
    this.replica = new UpdateRing(history.replicaSize);
    this.lastId = history.lastEventId;
    this.size = history.historySize;
    this.at = at;
    this.ackedAt = at;
    link.on('update', (message) => this.receive(message.update, message.historySize, message.at));
    link.on('peers', (message) => {
      if (message.store !== undefined) this.primaryHealth = message.store;
      if (message.historySize !== undefined) this.size = message.historySize;
    });
  }

  async open(dispatch: Dispatch): Promise<void> {
    this.dispatch = dispatch;
    this.ackTimer = setInterval(() => {
      if (this.at === this.ackedAt) return;
      this.ackedAt = this.at;
      this.link.send({ siar: 'ack', at: this.at });
    }, ACK_INTERVAL_MS);
    this.ackTimer.unref();
  }

  /** An update the primary stored (this worker's or another's), in history order. */
  private receive(message: UpdateMessage, historySize: number, at: number): void {
    if (this.closed) return;
    const entry = fromMessage(message);
    this.replica.push(entry);
    this.lastId = entry.id;
    this.size = historySize;
    this.at = at;
    if (this.appending.has(entry.id)) this.appending.set(entry.id, entry);
    this.dispatch?.(entry);
  }

  async append(update: Update): Promise<StoredUpdate> {
    if (this.closed) throw new Error('The cluster store is closed.');
    this.appending.set(update.id, undefined);
    let result: StoredUpdate | undefined;
    try {
      await this.link.call({ siar: 'append', update: fieldsOf(update) }, (answer) => {
        if (answer.siar !== 'appended') return false;
        const dispatched = this.appending.get(update.id);
        // The entry dispatched here, frame and all; else (an ID the store kept already) the answer's.
        result =
          dispatched?.seq === answer.seq ? dispatched : stored({ ...update, id: answer.id }, answer.seq);
        return true;
      });
    } finally {
      this.appending.delete(update.id);
    }
    return result as StoredUpdate;
  }

  async replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult> {
    const seq = lastEventId === 'earliest' ? undefined : this.replica.seqOf(lastEventId);
    if (seq !== undefined) {
      // Everything after it that the primary has sent this worker is here; what is on its way
      // comes through dispatch, held for the subscriber until this replay is written.
      this.replica.forEachAfter(seq, visit);
      return { found: true, seq };
    }
    let result: ReplayResult = { found: false };
    await this.link.call({ siar: 'replay', lastEventId }, (answer) => {
      if (answer.siar !== 'replayed') return false;
      for (const message of answer.updates) visit(fromMessage(message));
      if (answer.done !== undefined) {
        result = answer.done;
        return true;
      }
      this.link.send({ siar: 'replay-more', call: answer.call });
      return false;
    });
    return result;
  }

  lastEventId(): string | undefined {
    return this.lastId;
  }

  historySize(): number {
    return this.size;
  }

  health(): StoreHealth {
    if (this.closed) return { ok: false, detail: 'closed' };
    if (!this.link.connected) return { ok: false, detail: 'the primary process is gone' };
    return this.primaryHealth;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dispatch = undefined;
    clearInterval(this.ackTimer);
    this.replica.clear();
  }
}
