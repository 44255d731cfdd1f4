/** The most events a subscription holds for a consumer that has not asked for them. */
export const DEFAULT_MAX_QUEUED_EVENTS = 1000;

interface Waiter<T> {
  resolve: (result: IteratorResult<T, undefined>) => void;
  reject: (reason: unknown) => void;
}

/**
 * The queue between a producer (a stream being read) and an async iterator's consumer: `next()` takes
 * what is queued or waits for it; once the producer has ended, what is queued is still delivered, then
 * its error (if any) is thrown, once. `room()` lets the producer wait while `limit` items are queued,
 * so a slow consumer holds the producer back instead of filling memory. `close()` (the consumer's
 * `return()`) drops everything at once.
 */
export class EventQueue<T> {
  readonly #limit: number;
  readonly #items: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  /** No item will be added any more. */
  #ended = false;
  /** Closed by its consumer: nothing more is delivered. */
  #closed = false;
  /** The error to throw once the queue is empty; thrown once. */
  #error: { reason: unknown } | undefined;
  /** Set while the producer waits for room. */
  #room: (() => void) | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Whether the consumer closed it. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether `limit` items (or more) are queued. */
  get full(): boolean {
    return this.#items.length >= this.#limit;
  }

  /** Whether the producer is waiting for the consumer to take something. */
  get waitingForRoom(): boolean {
    return this.#room !== undefined;
  }

  /** Adds an item, or hands it to a waiting consumer; ignored once ended or closed. */
  push(item: T): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve({ value: item, done: false });
    else this.#items.push(item);
  }

  /** Resolves while fewer than `limit` items are queued; else once the consumer takes one (or closes). */
  room(): Promise<void> {
    if (!this.full || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#room = resolve;
    });
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift() as T;
      if (this.#items.length < this.#limit) this.#release();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return this.#settle();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** The producer has finished: what is queued is still delivered, then `error` (if any) is thrown. */
  end(error: { reason: unknown } | undefined): void {
    if (this.#closed) return;
    this.#ended = true;
    this.#error = error;
    this.#settleWaiters();
  }

  /** The consumer has finished: queued items are dropped; `error` (if any) is thrown once. */
  close(error: { reason: unknown } | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    this.#error = error;
    this.#items.length = 0;
    this.#release();
    this.#settleWaiters();
  }

  #release(): void {
    const room = this.#room;
    this.#room = undefined;
    room?.();
  }

  #settle(): Promise<IteratorResult<T, undefined>> {
    const error = this.#error;
    this.#error = undefined;
    return error ? Promise.reject(error.reason) : Promise.resolve({ value: undefined, done: true });
  }

  #settleWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) this.#settle().then(waiter.resolve, waiter.reject);
  }
}
