/**
 * What the stores on a server of their own (PostgreSQL, NATS) share: the URL they are given, a
 * deadline on every call, riding a publish through a short outage, and health by activity.
 */
import type { Logger } from '../../server/logger.js';
import { HubError } from '../errors.js';
import type { StoreHealth } from './store.js';

/** What a publish refused because the engine did not take it in time tells its publisher: come back in 1 s. */
export const ENGINE_RETRY_AFTER_S = 1;
/** The first wait between two tries of a call the engine did not answer; it doubles up to the next limit. */
const FIRST_RETRY_MS = 50;
/** The longest wait between two tries. */
const LONGEST_RETRY_MS = 1_000;

/** A call to the engine that did not answer within its deadline. */
export class StoreTimeoutError extends Error {
  override name = 'StoreTimeoutError';
}

/**
 * `promise`, or a {@link StoreTimeoutError} once `ms` have passed. The call itself goes on (a
 * client cannot take back a request it sent): its late answer is dropped.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The 503 a publish gets when the engine did not take it within the ride-through bound. */
export function engineUnavailable(engine: string, cause: unknown): HubError {
  const refusal = new HubError(
    'store-failed',
    `The hub could not store the update: ${engine} did not take it in time (${String((cause as Error)?.message ?? cause)}). Try again.`,
    { 'retry-after': String(ENGINE_RETRY_AFTER_S) },
  );
  // The hub counts the refusals whose cause is a deadline as store timeouts (store-calls.ts).
  refusal.cause = cause;
  return refusal;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Rides through a short outage: tries `attempt` (given the ms left) until it succeeds, `retryable`
 * says an error is final, or `until` (a `Date.now()` time) has passed; rejects with the last error.
 * Only for calls the engine makes idempotent: an append carries its update's ID, stored once.
 */
export async function rideThrough<T>(
  attempt: (remainingMs: number) => Promise<T>,
  until: number,
  retryable: (error: unknown) => boolean,
): Promise<T> {
  let wait = FIRST_RETRY_MS;
  for (;;) {
    const remaining = until - Date.now();
    if (remaining <= 0) throw new StoreTimeoutError('no time left');
    try {
      return await attempt(remaining);
    } catch (error) {
      if (!retryable(error) || until - Date.now() <= wait) throw error;
      await sleep(wait);
      wait = Math.min(wait * 2, LONGEST_RETRY_MS);
    }
  }
}

/**
 * A store's URL, checked: one of `protocols` (e.g. `['postgres:', 'postgresql:']`), and its
 * `prefix` query parameter (taken out of the URL) or the default.
 */
export function engineUrl(
  raw: string,
  engine: string,
  protocols: string[],
  example: string,
  prefix: string | undefined,
): { url: URL; prefix: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HubError('invalid-option', `The ${engine} URL "${raw}" is not a URL (${example}).`);
  }
  if (!protocols.includes(url.protocol)) {
    const names = protocols.map((protocol) => `${protocol}//`).join(' or ');
    throw new HubError(
      'invalid-option',
      `The ${engine} URL must start with ${names}, got ${url.protocol}//.`,
    );
  }
  const chosen = prefix ?? url.searchParams.get('prefix') ?? 'siar';
  url.searchParams.delete('prefix');
  return { url, prefix: chosen };
}

/**
 * What is wrong with a store's link to its server, by activity (`listener`, `read`, `append`…):
 * `/healthz` says degraded while any is failing. Logs the first failure of a run and the recovery.
 */
export class EngineHealth {
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly store: string,
    private readonly logger: Logger,
  ) {}

  failed(activity: string, error: unknown, message: string): void {
    const detail = (error as Error)?.message ?? String(error);
    if (!this.failures.has(activity)) this.logger.warn({ store: this.store, error: detail }, message);
    this.failures.set(activity, detail);
  }

  recovered(activity: string, message: string): void {
    if (this.failures.delete(activity)) this.logger.info({ store: this.store }, message);
  }

  /** The server answered a heartbeat: a publish or presence write that failed before is no reason to say degraded. */
  answered(): void {
    for (const activity of ['heartbeat', 'append', 'presence'])
      this.recovered(activity, `${this.store} answers again.`);
  }

  health(): StoreHealth {
    const [activity, problem] = this.failures.entries().next().value ?? [];
    return activity === undefined ? { ok: true } : { ok: false, detail: `${activity}: ${problem}` };
  }
}

/** A history size: a positive integer, or the store's default. */
export function historyLimit(value: number | undefined, fallback: number, engine: string): number {
  const limit = value ?? fallback;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new HubError(
      'invalid-option',
      `The ${engine} historySize must be a positive integer, got ${limit}.`,
    );
  }
  return limit;
}
