import { HubError } from '../errors.js';

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
  return new HubError(
    'store-failed',
    `The hub could not store the update: ${engine} did not take it in time (${String((cause as Error)?.message ?? cause)}). Try again.`,
    { 'retry-after': String(ENGINE_RETRY_AFTER_S) },
  );
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
