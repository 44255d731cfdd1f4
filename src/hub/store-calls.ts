import type { Logger } from '../server/logger.js';
import { BurstLog } from './burst-log.js';
import { HubError } from './errors.js';
import type { HubCounters } from './metrics.js';
import { StoreTimeoutError, withDeadline } from './stores/engine.js';
import type { HubStore, ReplayResult, SubscriptionPresence } from './stores/store.js';
import type { StoredUpdate, Update } from './update.js';

/** What a request is told when its store call did not answer in time: come back in 1 s. */
const TIMED_OUT_RETRY_AFTER_S = 1;

/**
 * The hub's store with every call it waits on bounded by `storeTimeoutMs`, whatever the store: a
 * publish, a replay, a listing of the subscriptions. Past it the request gets 503 with
 * `Retry-After`, the timeout is counted and logged once per burst. The store's own bounds (a
 * deadline per call, riding a reconnection through) come first; this one is the hub's promise that
 * no store can make a request wait for longer, however it fails. The call itself may still finish
 * later: an append answered 503 may then be stored (a publisher retrying with the same ID stores it
 * once).
 */
export function boundStoreCalls(
  store: HubStore,
  timeoutMs: number,
  counters: HubCounters,
  logger: Logger,
): HubStore {
  const log = new BurstLog(
    logger,
    `The store did not answer within storeTimeoutMs (${timeoutMs} ms): requests get 503 with Retry-After.`,
  );
  const bound = <T>(call: Promise<T>, what: string): Promise<T> =>
    withDeadline(call, timeoutMs, `${store.kind} ${what}`).catch((error: unknown) => {
      if (!(error instanceof StoreTimeoutError)) throw error;
      counters.storeTimeouts++;
      log.note({ store: store.kind, call: what });
      const refusal = new HubError(
        'store-failed',
        `The hub could not reach its store in time (${error.message}). Try again.`,
        { 'retry-after': String(TIMED_OUT_RETRY_AFTER_S) },
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
