import type { Logger } from '../server/logger.js';
import { BurstLog } from './burst-log.js';
import { HubError } from './errors.js';
import type { HubCounters } from './metrics.js';
import { StoreTimeoutError, withDeadline } from './stores/engine.js';
import type { HubStore, ReplayResult, SubscriptionPresence } from './stores/store.js';
import type { StoredUpdate, Update } from './update.js';

/** What a request is told when its store call failed or did not answer in time: come back in 1 s. */
const RETRY_AFTER_S = 1;

/** Whether a store call failed because a deadline passed: the hub's own, or the store's. */
function timedOut(error: unknown): boolean {
  return (
    error instanceof StoreTimeoutError ||
    (error instanceof HubError && error.cause instanceof StoreTimeoutError)
  );
}

/**
 * The hub's store with every call it waits on bounded by `storeTimeoutMs`, whatever the store: a
 * publish, a replay, a listing of the subscriptions. Past it the request gets 503 with
 * `Retry-After`. The store's own bounds (a deadline per call, riding a reconnection through) come
 * first; this one is the hub's promise that no store can make a request wait for longer, however it
 * fails. The call itself may still finish later: an append answered 503 may then be stored (a
 * publisher retrying with the same ID stores it once). Failures are counted (timeouts) and logged
 * once per burst, not once per request: an outage refuses every publish.
 */
export function boundStoreCalls(
  store: HubStore,
  timeoutMs: number,
  counters: HubCounters,
  logger: Logger,
): HubStore {
  const timeouts = new BurstLog(
    logger,
    `Store calls take longer than storeTimeoutMs (${timeoutMs} ms): requests get 503 with Retry-After.`,
  );
  const failures = new BurstLog(logger, 'The store refuses calls: requests get 503 with Retry-After.');
  const bound = <T>(call: Promise<T>, what: string): Promise<T> =>
    withDeadline(call, timeoutMs, `${store.kind} ${what}`).catch((error: unknown) => {
      const fields = { store: store.kind, call: what, error: String((error as Error)?.message ?? error) };
      // A store's refusal of the request itself (413: an update too large for it) is no failure.
      if (error instanceof HubError && error.status < 500) throw error;
      if (timedOut(error)) {
        counters.storeTimeouts++;
        timeouts.note(fields);
      } else {
        failures.note(fields);
      }
      // The cause is in the log; the client learns what it can do.
      const refusal =
        error instanceof HubError
          ? error
          : new HubError(
              'store-failed',
              timedOut(error)
                ? `The hub's store did not answer within ${timeoutMs} ms. Try again.`
                : 'The hub could not use its store: it is unavailable. Try again.',
              { 'retry-after': String(RETRY_AFTER_S) },
            );
      refusal.logged = true;
      throw refusal;
    });
  const presence = store.presence;
  const boundPresence: SubscriptionPresence | undefined = presence && {
    add: (documents) => presence.add(documents),
    remove: (ids) => presence.remove(ids),
    list: () => bound(presence.list(), 'subscriptions list'),
    nodes: () => bound(presence.nodes(), 'node list'),
  };
  return {
    kind: store.kind,
    presence: boundPresence,
    faults: store.faults,
    open: (dispatch) => store.open(dispatch),
    append: (update: Update): Promise<StoredUpdate> => bound(store.append(update), 'append'),
    replay: (lastEventId, visit): Promise<ReplayResult> => bound(store.replay(lastEventId, visit), 'replay'),
    lastEventId: () => store.lastEventId(),
    historySize: () => store.historySize(),
    health: () => store.health(),
    close: () => store.close(),
  };
}
