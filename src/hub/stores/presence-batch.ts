import type { SubscriptionDocument } from '../subscriptions.js';

/** How one node's share of the subscription list is written to a shared engine. */
export interface PresenceWriter {
  /** Writes these subscriptions (`null`: remove the one with that ID). */
  write(changes: ReadonlyMap<string, SubscriptionDocument | null>): Promise<void>;
  /** Replaces this node's whole share with these subscriptions. */
  replace(all: ReadonlyMap<string, SubscriptionDocument>): Promise<void>;
}

/**
 * This node's active subscriptions, and the changes not yet written to the engine. The hub adds
 * and removes them one subscriber at a time, without waiting: the changes are gathered and written
 * by one writer at a time, so a burst of subscribers is a few writes, not one query each, and the
 * queue holds at most one entry per subscription. A write that failed makes the next one rewrite
 * the node's whole share, as does {@link resync} (the engine may have dropped it meanwhile).
 */
export class PresenceBatch {
  /** The active subscriptions of this node, by ID. */
  readonly local = new Map<string, SubscriptionDocument>();
  private pending = new Map<string, SubscriptionDocument | null>();
  private whole = false;
  private writing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly writer: PresenceWriter,
    private readonly failed: (error: unknown) => void,
  ) {}

  add(documents: SubscriptionDocument[]): void {
    for (const document of documents) {
      this.local.set(document.id, document);
      this.pending.set(document.id, document);
    }
    this.flush();
  }

  remove(ids: string[]): void {
    for (const id of ids) {
      this.local.delete(id);
      this.pending.set(id, null);
    }
    this.flush();
  }

  /** Rewrites this node's whole share on the next write (after an outage, or once taken for dead). */
  resync(): void {
    this.whole = true;
    this.flush();
  }

  /** Starts writing what is pending, unless a write is under way (it writes the rest when done). */
  flush(): void {
    if (this.writing !== undefined || this.stopped) return;
    if (!this.whole && this.pending.size === 0) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = undefined;
    });
  }

  /** Stops writing; resolves once the write under way (if any) is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.writing;
  }

  private async writeAll(): Promise<void> {
    while (!this.stopped && (this.whole || this.pending.size > 0)) {
      const changes = this.pending;
      this.pending = new Map();
      const whole = this.whole;
      this.whole = false;
      try {
        if (whole) await this.writer.replace(new Map(this.local));
        else await this.writer.write(changes);
      } catch (error) {
        // Which of the changes landed is unknown: the next write (a heartbeat's resync) sends it all.
        this.whole = true;
        this.failed(error);
        return;
      }
    }
  }
}
