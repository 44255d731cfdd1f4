import type { StoredUpdate } from '../update.js';

/**
 * The newest `capacity` updates, in history order, with an index from update ID to position.
 * Used by the memory store as its history and by the SQLite store as its read cache.
 */
export class UpdateRing {
  private readonly slots: Array<StoredUpdate | undefined>;
  private start = 0;
  private length = 0;
  // The stores keep an ID once while it is in the history; one reused after it left is the newest.
  private readonly byId = new Map<string, StoredUpdate>();

  constructor(readonly capacity: number) {
    this.slots = new Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  /** The oldest update kept, if any. */
  oldest(): StoredUpdate | undefined {
    return this.length === 0 ? undefined : this.slots[this.start];
  }

  newest(): StoredUpdate | undefined {
    return this.length === 0 ? undefined : this.slots[(this.start + this.length - 1) % this.capacity];
  }

  push(update: StoredUpdate): void {
    if (this.capacity === 0) return;
    if (this.length === this.capacity) {
      const evicted = this.slots[this.start];
      if (evicted && this.byId.get(evicted.id) === evicted) this.byId.delete(evicted.id);
      this.slots[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.length--;
    }
    this.slots[(this.start + this.length) % this.capacity] = update;
    this.length++;
    this.byId.set(update.id, update);
  }

  /** The newest update kept with this ID. */
  find(id: string): StoredUpdate | undefined {
    return this.byId.get(id);
  }

  /** The position of the newest update with this ID, if it is kept. */
  seqOf(id: string): number | undefined {
    return this.byId.get(id)?.seq;
  }

  /** Visits the updates whose seq is greater than `afterSeq`, oldest first. */
  forEachAfter(afterSeq: number, visit: (update: StoredUpdate) => void): void {
    for (let i = 0; i < this.length; i++) {
      const update = this.slots[(this.start + i) % this.capacity] as StoredUpdate;
      if (update.seq > afterSeq) visit(update);
    }
  }

  /** Drops every update older than `minSeq`. */
  dropBefore(minSeq: number): void {
    while (this.length > 0) {
      const oldest = this.slots[this.start] as StoredUpdate;
      if (oldest.seq >= minSeq) return;
      if (this.byId.get(oldest.id) === oldest) this.byId.delete(oldest.id);
      this.slots[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.length--;
    }
  }

  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.length = 0;
    this.byId.clear();
  }
}
