import type { SubscriptionDocument } from '../subscriptions.js';
import type { StoredUpdate, Update } from '../update.js';

/**
 * How long a store waits for its engine (Redis, PostgreSQL, NATS; SQLite's lock) on any one call,
 * in ms, unless told otherwise (`storeTimeoutMs`); the hub bounds every call it waits on by the
 * same. A publish the engine has not taken within it is answered 503 with `Retry-After`: short
 * outages are ridden through, longer ones are told to the publisher.
 */
export const DEFAULT_STORE_TIMEOUT_MS = 5_000;

/** What a store says of a replay. */
export interface ReplayResult {
  /** Whether the requested ID was found in the history (`earliest` is never "found"). */
  found: boolean;
  /**
   * The `seq` of the requested update, when found. A store whose nodes dispatch behind its history
   * (Redis: each node reads the stream at its own pace) sets it: the hub then drops live updates up
   * to it, which the client already has.
   */
  seq?: number;
}

/** A store's view of its own health, for `/healthz`, `/metrics` and the dashboard. */
export interface StoreHealth {
  ok: boolean;
  /** A short description of the problem when not ok. */
  detail?: string;
}

/** One node of a hub spread over several processes. */
export interface HubNode {
  id: string;
  /** Subscriptions listed by that node. */
  subscriptions: number;
  /** True for the node answering. */
  self: boolean;
}

/**
 * Active subscriptions shared by every node of a hub (for the subscriptions API): a store for many
 * nodes provides it; a hub on one node lists its own subscribers.
 */
export interface SubscriptionPresence {
  add(documents: SubscriptionDocument[]): void;
  remove(ids: string[]): void;
  /** The subscriptions of every live node. */
  list(): Promise<SubscriptionDocument[]>;
  /** The live nodes. */
  nodes(): Promise<HubNode[]>;
}

/** What a store counts of the faults it rode through, for `/metrics` (live figures: read, do not write). */
export interface StoreFaults {
  /** Appends that waited for the link to the engine to come back, and were then stored. */
  appendsRiddenThrough: number;
  /**
   * Links to the engine dropped and made again because nothing came on them in time (a partition),
   * for a store that finds them itself (Redis; the NATS and PostgreSQL clients do it their own way).
   */
  linksReplaced?: number;
}

/** Where a store hands every update appended to it (by this node or, for shared stores, any node). */
export type Dispatch = (update: StoredUpdate) => void;

/**
 * The history and the fan-out behind a hub: memory (one process), SQLite (durable), Redis,
 * PostgreSQL and NATS JetStream (many nodes). Every update the hub accepts goes through `append`;
 * every update any node appended comes back through `dispatch`, once per node, in history order
 * (`seq` increasing).
 */
export interface HubStore {
  /** A short name for logs and metrics: `memory`, `sqlite`, `redis`, `postgres`, `nats`. */
  readonly kind: string;
  /** Starts the store; from then on it calls `dispatch` for every update. */
  open(dispatch: Dispatch): Promise<void>;
  /**
   * Appends an update. Resolves once the store has accepted it (written to disk, or to Redis):
   * only then may the publisher be told it succeeded. Rejects when the store cannot take it, within
   * `storeTimeoutMs` (riding a short outage through meanwhile). An ID the history holds is stored
   * once: appending it again resolves with the update kept, and dispatches nothing.
   */
  append(update: Update): Promise<StoredUpdate>;
  /**
   * Calls `visit` with every update after the one whose ID is `lastEventId`, oldest first; with
   * `earliest`, or an ID not in the history, with every update kept.
   */
  replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult>;
  /** The ID of the newest update in the history, or undefined when it is empty. */
  lastEventId(): string | undefined;
  /** How many updates the history holds now. */
  historySize(): number;
  health(): StoreHealth;
  /** Subscriptions shared across nodes; absent for stores of one process. */
  readonly presence?: SubscriptionPresence;
  /** The faults it rode through; absent for stores that count none (memory, SQLite). */
  readonly faults?: StoreFaults;
  /** Stops the store and releases what it holds. */
  close(): Promise<void>;
}
