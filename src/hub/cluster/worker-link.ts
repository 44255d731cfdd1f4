import { HubError } from '../errors.js';
import type { ToPrimary, ToWorker } from './messages.js';
import { isClusterMessage } from './messages.js';

/** Longest a worker waits for an answer of the primary (each page of a replay too), in ms, unless told. */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;
/** Calls a worker may have waiting for the primary at once; past it a call fails at once (503). */
export const MAX_PENDING_CALLS = 10_000;
/** Calls that timed out whose late answer is still awaited (to undo what it did); the oldest are forgotten. */
const MAX_LATE_CALLS = 1000;

/** The primary's messages that answer a call. */
export type Answer = Extract<ToWorker, { call: number }>;
/** The worker's messages that are calls, without their number (the link gives it). */
export type CallMessage =
  Extract<ToPrimary, { call: number }> extends infer M
    ? M extends { call: number }
      ? Omit<M, 'call'>
      : never
    : never;
type Notice = Exclude<ToWorker, { call: number }>;
type NoticeOf<T extends Notice['siar']> = Extract<Notice, { siar: T }>;

interface Pending {
  /** Takes an answer; true once the call is done. */
  take(answer: Answer): boolean;
  fail(error: Error): void;
  timer: NodeJS.Timeout;
  late: ((answer: Answer) => void) | undefined;
}

/** The 503 of a primary that did not answer in time. */
function noAnswer(timeoutMs: number): HubError {
  return new HubError(
    'unavailable',
    `The hub's primary process did not answer within ${timeoutMs / 1000} s. Try again.`,
    { 'retry-after': '1' },
  );
}

/**
 * A worker's end of the cluster channel: calls to the primary, each with a deadline and under a
 * limit of calls at once, and the primary's notices (updates, figures, shutdown) handed to whoever
 * listens for their type.
 */
export class WorkerLink {
  private nextCall = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly late = new Map<number, (answer: Answer) => void>();
  private readonly listeners = new Map<string, Array<(message: Notice) => void>>();
  /** The primary's last figures of every worker (once a second). */
  peers: NoticeOf<'peers'> | undefined;

  constructor(readonly callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS) {
    process.on('message', (message: unknown) => {
      if (isClusterMessage(message)) this.receive(message as ToWorker);
    });
  }

  /** Whether the channel to the primary is open. */
  get connected(): boolean {
    return process.connected === true;
  }

  /** Sends a message that expects no answer; dropped when the primary is gone (the worker is exiting). */
  send(message: ToPrimary): void {
    if (this.connected) process.send?.(message);
  }

  /** Hands every notice of type `type` to `listener`. */
  on<T extends Notice['siar']>(type: T, listener: (message: NoticeOf<T>) => void): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener as (message: Notice) => void);
    this.listeners.set(type, list);
  }

  /**
   * Sends a call and hands each answer to `take` until it returns true. Rejects with a 503 when the
   * primary does not answer within the deadline (counted again from each answer, so a long replay
   * goes page by page), when it says the call failed, or when too many calls wait already. `late`
   * receives an answer that comes after the deadline, to undo what the call did.
   */
  call(
    message: CallMessage,
    take: (answer: Answer) => boolean,
    late?: (answer: Answer) => void,
  ): Promise<void> {
    if (!this.connected) return Promise.reject(noAnswer(0));
    if (this.pending.size >= MAX_PENDING_CALLS) {
      return Promise.reject(
        new HubError(
          'unavailable',
          `The hub has ${MAX_PENDING_CALLS} calls to its primary waiting. Try again.`,
          {
            'retry-after': '1',
          },
        ),
      );
    }
    const call = this.nextCall++;
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        take: (answer) => {
          if (answer.siar === 'call-failed') {
            reject(new HubError('store-failed', answer.failure.message, { 'retry-after': '1' }));
            return true;
          }
          const done = take(answer);
          if (done) resolve();
          return done;
        },
        fail: reject,
        timer: this.deadline(call),
        late,
      };
      this.pending.set(call, pending);
      process.send?.({ ...message, call } as ToPrimary);
    });
  }

  /** The deadline of a call's next answer: past it the call fails, and a late answer goes to its `late`. */
  private deadline(call: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const pending = this.pending.get(call);
      if (pending === undefined) return;
      this.pending.delete(call);
      if (pending.late !== undefined) {
        this.late.set(call, pending.late);
        if (this.late.size > MAX_LATE_CALLS) this.late.delete(this.late.keys().next().value as number);
      }
      pending.fail(noAnswer(this.callTimeoutMs));
    }, this.callTimeoutMs);
    timer.unref();
    return timer;
  }

  private receive(message: ToWorker): void {
    if ('call' in message) {
      const pending = this.pending.get(message.call);
      if (pending === undefined) {
        const late = this.late.get(message.call);
        this.late.delete(message.call);
        late?.(message);
        return;
      }
      clearTimeout(pending.timer);
      if (pending.take(message)) this.pending.delete(message.call);
      else pending.timer = this.deadline(message.call);
      return;
    }
    if (message.siar === 'peers') this.peers = message;
    for (const listener of this.listeners.get(message.siar) ?? []) listener(message);
  }
}
