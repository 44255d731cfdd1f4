import { type StoredUpdate, stored, type Update } from '../update.js';
import { engineUnavailable, rideThrough, StoreTimeoutError, withDeadline } from './engine.js';

/** Most publishes one node sends in one append transaction. */
const APPEND_BATCH = 256;
/** Most publishes waiting for their append on one node; more are refused with 503 at once. */
const MAX_QUEUED_APPENDS = 10_000;

interface PendingAppend {
  update: Update;
  /** `Date.now()` past which the publisher is answered 503. */
  until: number;
  resolve: (update: StoredUpdate) => void;
  reject: (error: unknown) => void;
}

/**
 * SQLSTATE classes worth trying again: connection (08), resources (53), operator intervention such
 * as a restart or a statement timeout (57), a transaction rolled back by a conflict (40). Errors
 * without a SQLSTATE are the client's (refused, reset, timed out): also transient.
 */
function transient(error: unknown): boolean {
  if (error instanceof StoreTimeoutError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return ['08', '53', '57', '40'].includes(code.slice(0, 2));
}

/**
 * One node's publishes on their way to PostgreSQL. Appends from every node commit one at a time
 * (postgres-schema.ts says why), so a node sends what arrived meanwhile as one batch, one
 * transaction at a time, instead of a transaction per publish waiting its turn. A batch that
 * fails on a transient error is sent again (the same IDs are stored once) until the deadline of
 * its oldest publish, which is then answered 503 with `Retry-After`.
 */
export class PostgresAppends {
  private readonly queue: PendingAppend[] = [];
  private sending: Promise<void> | undefined;

  constructor(
    /** Appends a batch in one transaction; resolves to each update's position. */
    private readonly send: (updates: Update[]) => Promise<number[]>,
    private readonly timeoutMs: number,
    /** `stored` says how many of the batch were stored after a try that failed (ridden through). */
    private readonly events: { stored(riddenThrough: number): void; failed(error: unknown): void },
  ) {}

  append(update: Update): Promise<StoredUpdate> {
    if (this.queue.length >= MAX_QUEUED_APPENDS) {
      return Promise.reject(
        engineUnavailable('PostgreSQL', `${MAX_QUEUED_APPENDS} publishes already waiting`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ update, until: Date.now() + this.timeoutMs, resolve, reject });
      this.start();
    });
  }

  /** Resolves once the batches under way are sent (or refused). */
  async idle(): Promise<void> {
    await this.sending;
  }

  private start(): void {
    this.sending ??= this.sendQueued().finally(() => {
      this.sending = undefined;
      // A publish queued between the last batch and now.
      if (this.queue.length > 0) this.start();
    });
  }

  private async sendQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, APPEND_BATCH);
      const until = Math.min(...batch.map((pending) => pending.until));
      try {
        const updates = batch.map((pending) => pending.update);
        let retried = false;
        // Each try within what is left of the oldest publish's deadline (one started late must not take a whole one).
        const seqs = await rideThrough(
          (remainingMs) => withDeadline(this.send(updates), remainingMs, 'an append'),
          until,
          (error) => {
            retried = true;
            return transient(error);
          },
        );
        for (const [i, pending] of batch.entries())
          pending.resolve(stored(pending.update, seqs[i] as number));
        this.events.stored(retried ? batch.length : 0);
      } catch (error) {
        this.events.failed(error);
        const refusal = engineUnavailable('PostgreSQL', error);
        for (const pending of batch) pending.reject(refusal);
      }
    }
  }
}
