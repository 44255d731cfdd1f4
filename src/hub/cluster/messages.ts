/**
 * Every message between the primary of a hub spread over worker processes and its workers, on
 * node:cluster's IPC channel (JSON). Each names its type in `siar`, so that nothing else on the
 * channel (node:cluster's own messages, an application's) is taken for one. A worker's calls carry
 * a `call` number, and the primary's answer the same one.
 */
import type { HubErrorCode } from '../errors.js';
import type { StoreHealth } from '../stores/store.js';
import type { SubscriptionDocument } from '../subscriptions.js';

/** An update as it crosses the channel, before it has a place in the history. */
export interface UpdateFields {
  id: string;
  topics: readonly string[];
  data: string;
  type?: string;
  retry?: number;
  private: boolean;
}

/** A stored update as it crosses the channel: its frame is encoded once by each worker on arrival. */
export interface UpdateMessage extends UpdateFields {
  seq: number;
}

/** Figures of one process of the hub, sent to the primary once a second (see dashboard-figures.ts). */
export interface MemberFigures {
  subscribers: number;
  subscribersTotal: number;
  updatesPublished: number;
  updatesDispatched: number;
  deliveries: number;
  publishRefused: number;
  slowConsumersClosed: number;
  /** Selectors in use there, most used first (at most 20). */
  topSelectors: Array<{ selector: string; subscribers: number }>;
  /** The process's resident memory. */
  rssBytes: number;
}

/** The counters of a figure set: what the processes that exited leave to the hub's totals. */
export type CounterFigures = Pick<
  MemberFigures,
  'subscribersTotal' | 'updatesPublished' | 'deliveries' | 'publishRefused' | 'slowConsumersClosed'
>;

/** The counters of no process at all. */
export const NO_COUNTERS: Readonly<CounterFigures> = {
  subscribersTotal: 0,
  updatesPublished: 0,
  deliveries: 0,
  publishRefused: 0,
  slowConsumersClosed: 0,
};

/** One worker, as the primary tells every other. */
export interface PeerFigures {
  worker: number;
  pid: number;
  /** Its subscriptions listed for the subscriptions API (only with `subscriptions` on). */
  subscriptions: number;
  /** Its last figures; undefined until it sent some. */
  figures?: MemberFigures;
}

/** Why the primary refused a subscriber: the code and message of the HubError the worker answers. */
export interface Refusal {
  code: Extract<HubErrorCode, 'unavailable' | 'too-many-requests'>;
  message: string;
}

/** What a call that failed answers. */
export interface CallFailure {
  message: string;
}

/** What the history looks like when a worker joins. */
export interface HistoryState {
  lastEventId?: string;
  historySize: number;
  /** The store's kind (`memory`, `sqlite`), for logs and metrics. */
  kind: string;
  /** Updates the worker keeps itself, to replay from without asking. */
  replicaSize: number;
}

/** A worker's messages to the primary. */
export type ToPrimary =
  /** The worker is ready to receive: the primary answers `setup`. */
  | { siar: 'join'; pid: number; capacity: number }
  | { siar: 'append'; call: number; update: UpdateFields }
  | { siar: 'replay'; call: number; lastEventId: string }
  /** The worker took the last page of a replay: the next one, please. */
  | { siar: 'replay-more'; call: number }
  /** Subscribers to admit, one per address given (the same address may come several times). */
  | { siar: 'admit'; call: number; addresses: string[] }
  /** Subscribers admitted before that have left. */
  | { siar: 'leave'; addresses: string[] }
  | { siar: 'presence-add'; documents: SubscriptionDocument[] }
  | { siar: 'presence-remove'; ids: string[] }
  | { siar: 'presence-list'; call: number }
  | { siar: 'figures'; figures: MemberFigures }
  /** The worker has handled every update up to `at` (the byte count of `update` messages). */
  | { siar: 'ack'; at: number }
  /** The worker's hub is closing and its publishes in flight have ended: it waits for every worker's. */
  | { siar: 'drained'; call: number }
  /** `siar serve`: the worker listens. */
  | { siar: 'listening'; port: number }
  /** `siar serve`: the worker could not start. */
  | { siar: 'start-failed'; message: string };

/** The primary's messages to a worker. */
export type ToWorker =
  | {
      siar: 'setup';
      worker: number;
      /** Undefined when the workers open a store shared by nodes themselves. */
      history?: HistoryState;
      /** The byte count of `update` messages so far: the worker acknowledges from there. */
      at: number;
      /** What the application gave the primary for its workers. */
      setup: unknown;
    }
  /** An update stored, for every worker, in history order. `at`: the byte count with it. */
  | { siar: 'update'; update: UpdateMessage; historySize: number; at: number }
  | { siar: 'appended'; call: number; seq: number; id: string }
  /** A page of a replay; the last one says what the store said of it. */
  | {
      siar: 'replayed';
      call: number;
      updates: UpdateMessage[];
      done?: { found: boolean; seq?: number };
    }
  /** One answer per address of the `admit` call, in order: undefined (JSON null) when admitted. */
  | { siar: 'admitted'; call: number; refusals: Array<Refusal | null> }
  | { siar: 'presence-listed'; call: number; documents: SubscriptionDocument[] }
  | { siar: 'call-failed'; call: number; failure: CallFailure }
  /** Every worker's publishes in flight have ended (or their grace ran out): streams may end. */
  | { siar: 'all-drained'; call: number }
  /** Once a second: every worker's last figures, and what those that exited counted. */
  | {
      siar: 'peers';
      peers: PeerFigures[];
      retired: CounterFigures;
      /** Workers that exited (or were stopped as stuck) since the primary started. */
      exited: number;
      /** The health of the store the primary holds; undefined when it holds none. */
      store?: StoreHealth;
      historySize?: number;
    }
  /** The hub shuts down: close the hub (publishes in flight get `graceMs`), then exit. */
  | { siar: 'shutdown'; graceMs: number };

/** Whether a message off the channel is one of these. */
export function isClusterMessage(message: unknown): message is { siar: string } {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { siar?: unknown }).siar === 'string'
  );
}
