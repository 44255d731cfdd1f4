import { HubError } from '../errors.js';
import { type StoredUpdate, stored, type Update } from '../update.js';
import { UpdateRing } from './ring.js';
import type { Dispatch, HubStore, ReplayResult, StoreHealth } from './store.js';

/** Default history of the memory store: the newest 10,000 updates. */
export const DEFAULT_MEMORY_HISTORY = 10_000;

export interface MemoryStoreOptions {
  /** Updates kept for replay (the newest ones). 0 keeps none. Default 10,000. */
  historySize?: number;
}

/**
 * The default store: a bounded history ring in this process. Nothing to install, nothing survives a
 * restart. Its calls never wait: each is done when it returns.
 */
export class MemoryStore implements HubStore {
  readonly kind = 'memory';
  private readonly ring: UpdateRing;
  private seq = 0;
  private dispatch: Dispatch | undefined;
  private lastId: string | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    const historySize = options.historySize ?? DEFAULT_MEMORY_HISTORY;
    if (!Number.isSafeInteger(historySize) || historySize < 0) {
      throw new HubError('invalid-option', `historySize must be a non-negative integer, got ${historySize}.`);
    }
    this.ring = new UpdateRing(historySize);
  }

  async open(dispatch: Dispatch): Promise<void> {
    this.dispatch = dispatch;
  }

  async append(update: Update): Promise<StoredUpdate> {
    // An ID the history holds is stored once (a publisher retrying after a 503 may send it again).
    const kept = this.ring.find(update.id);
    if (kept !== undefined) return kept;
    const entry = stored(update, ++this.seq);
    this.ring.push(entry);
    this.lastId = entry.id;
    this.dispatch?.(entry);
    return entry;
  }

  async replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult> {
    const seq = lastEventId === 'earliest' ? undefined : this.ring.seqOf(lastEventId);
    this.ring.forEachAfter(seq ?? 0, visit);
    return { found: seq !== undefined };
  }

  lastEventId(): string | undefined {
    return this.lastId;
  }

  historySize(): number {
    return this.ring.size;
  }

  health(): StoreHealth {
    return { ok: true };
  }

  async close(): Promise<void> {
    this.dispatch = undefined;
    this.ring.clear();
  }
}
