import type { ReplayResult } from '../stores/store.js';
import type { StoredUpdate } from '../update.js';
import type { ToWorker, UpdateMessage } from './messages.js';
import { bytesOf, messageOf } from './update-message.js';

/** Replays a worker may have under way at the primary at once; more fail (503). */
export const MAX_REPLAYS_PER_WORKER = 1000;
/** A replay whose next page is not asked for within this time is dropped, in ms. */
const REPLAY_IDLE_MS = 10_000;
/** Most updates in one page of a replay. */
const REPLAY_PAGE_UPDATES = 500;
/** Bytes of data past which a page of a replay ends (it holds one update at least). */
const REPLAY_PAGE_BYTES = 1024 * 1024;

interface Session {
  updates: StoredUpdate[];
  next: number;
  result: ReplayResult;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The replays the primary serves one worker, page by page: the next page goes once the worker
 * asks for it, so that a long history never piles up on the channel.
 */
export class ReplayPages {
  private readonly sessions = new Map<number, Session>();

  constructor(private readonly send: (message: ToWorker) => void) {}

  /** Replays under way. */
  get size(): number {
    return this.sessions.size;
  }

  /** Starts sending, for the call `call`, the updates a store's replay visited and what it said of it. */
  start(call: number, updates: StoredUpdate[], result: ReplayResult): void {
    const session: Session = { updates, next: 0, result, timer: undefined };
    this.sessions.set(call, session);
    this.page(call, session);
  }

  /** The worker took the last page of `call`: the next one. */
  more(call: number): void {
    const session = this.sessions.get(call);
    if (session !== undefined) this.page(call, session);
  }

  clear(): void {
    for (const session of this.sessions.values()) clearTimeout(session.timer);
    this.sessions.clear();
  }

  private page(call: number, session: Session): void {
    clearTimeout(session.timer);
    const updates: UpdateMessage[] = [];
    let bytes = 0;
    while (
      session.next < session.updates.length &&
      updates.length < REPLAY_PAGE_UPDATES &&
      bytes < REPLAY_PAGE_BYTES
    ) {
      const update = session.updates[session.next++] as StoredUpdate;
      updates.push(messageOf(update));
      bytes += bytesOf(update);
    }
    const done = session.next >= session.updates.length;
    this.send({ siar: 'replayed', call, updates, done: done ? session.result : undefined });
    if (done) {
      this.sessions.delete(call);
      return;
    }
    session.timer = setTimeout(() => this.sessions.delete(call), REPLAY_IDLE_MS);
    session.timer.unref();
  }
}
