// Past 400 lines: the NATS JetStream store in one class (append, the ordered consumer, replay, health);
// its presence and shared engine helpers are files beside it (nats-*.ts, engine.ts).
import {
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Logger, stderrLogger } from '../../server/logger.js';
import { HubError } from '../errors.js';
import { type StoredUpdate, stored, type Update, uuidv7 } from '../update.js';
import {
  EngineHealth,
  engineUnavailable,
  engineUrl,
  historyLimit,
  rideThrough,
  StoreTimeoutError,
  withDeadline,
} from './engine.js';
import { NatsPresence } from './nats-presence.js';
import {
  ensureStream,
  READ_BATCH,
  READER_INACTIVE_MS,
  SHORTEST_PULL_MS,
  subjectToken,
  updatesStream,
} from './nats-streams.js';
import {
  DEFAULT_STORE_TIMEOUT_MS,
  type Dispatch,
  type HubStore,
  type ReplayResult,
  type StoreFaults,
  type StoreHealth,
} from './store.js';

/** Default history of the NATS store: the newest 10,000 updates (the stream's `max_msgs`). */
export const DEFAULT_NATS_HISTORY = 10_000;
/** Default time the subscriptions of a node that stopped answering stay listed. */
export const DEFAULT_NATS_PRESENCE_TTL_MS = 15_000;
/** Longest `close()` waits for the server to drop this node's presence (it expires anyway). */
const CLOSE_CLEANUP_MS = 1_000;
/** Longest wait before a node makes its consumer again after it failed. */
const LONGEST_RETRY_MS = 2_000;
/** The server's code for "the subject already holds a message" (Nats-Expected-Last-Subject-Sequence). */
const WRONG_LAST_SEQUENCE = 10_071;

const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

export interface NatsStoreOptions {
  /** `nats://[user:password@]host:port`; a `prefix` query parameter names the streams (`?prefix=app1`). */
  url: string;
  /** Prefix of the streams' names and subjects: letters, digits, `_` and `-`. Default `siar`. */
  prefix?: string;
  /** Updates kept (the stream's `max_msgs`). Default 10,000. */
  historySize?: number;
  /** Updates older than this many ms are dropped (`max_age`); 0 keeps them whatever their age. Default 0. */
  maxAgeMs?: number;
  /** Deadline of every call to NATS, and how long a publish rides through an outage, in ms. Default 5,000. */
  storeTimeoutMs?: number;
  /** How long the subscriptions of a node that stopped answering stay listed, in ms. Default 15,000. */
  presenceTtlMs?: number;
  logger?: Logger;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function updateOf(data: string, seq: number): StoredUpdate {
  const body = JSON.parse(data) as Update;
  return stored(
    {
      id: body.id,
      topics: body.topics,
      data: body.data,
      type: body.type ?? undefined,
      retry: body.retry ?? undefined,
      private: body.private === true,
    },
    seq,
  );
}

/** A JetStream API answer is final (a refused configuration, a missing stream); the rest may pass. */
function transient(error: unknown): boolean {
  return error instanceof StoreTimeoutError || !(error instanceof JetStreamApiError);
}

/**
 * Many hub nodes on one NATS server or cluster with JetStream (2.9+). A stream is the history, in
 * one total order (its sequence numbers); every node reads it with an ordered consumer from the
 * position after the last update it dispatched, so it dispatches each update once, in that order,
 * and after an outage resumes where it stopped. A publish is answered once JetStream acknowledged
 * it (stored, and replicated if the stream is).
 *
 * Each update goes to a subject of its own ID (`<prefix>.updates.<hash of the ID>`), published with
 * `Nats-Expected-Last-Subject-Sequence: 0`: the server refuses an ID its history still holds, so the
 * same ID is stored once while in the history, whatever the time between the two publishes, and
 * `Nats-Msg-Id` makes a retried publish whose acknowledgement was lost cheap to recognise. The same
 * subject finds an ID's position for `Last-Event-ID`, on any node, with one lookup.
 */
export class NatsStore implements HubStore {
  readonly kind = 'nats';
  /** This node's identifier in the node list. */
  readonly nodeId = `urn:uuid:${uuidv7()}`;
  private readonly server: { servers: string; user?: string; pass?: string };
  private readonly stream: string;
  private readonly subject: string;
  private readonly historyLimit: number;
  private readonly maxAgeMs: number;
  private readonly timeoutMs: number;
  private readonly presenceTtlMs: number;
  private readonly logger: Logger;
  private connection: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  /** The subscriptions of every live node. */
  readonly presence: NatsPresence;
  /** Appends that waited for NATS to come back: read by `/metrics`. */
  readonly faults: StoreFaults = { appendsRiddenThrough: 0 };
  private dispatch: Dispatch | undefined;
  private position = 0;
  private lastId: string | undefined;
  private count = 0;
  private closed = false;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disconnected = false;
  private readonly link: EngineHealth;

  constructor(options: NatsStoreOptions) {
    const { url, prefix } = engineUrl(options.url, 'NATS', ['nats:'], 'nats://host:4222', options.prefix);
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new HubError(
        'invalid-option',
        `The NATS prefix must be 1 to 40 of letters, digits, _ and -, got "${prefix}".`,
      );
    }
    this.historyLimit = historyLimit(options.historySize, DEFAULT_NATS_HISTORY, 'NATS');
    this.server = {
      servers: `${url.hostname}:${url.port || 4222}`,
      user: url.username ? decodeURIComponent(url.username) : undefined,
      pass: url.password ? decodeURIComponent(url.password) : undefined,
    };
    this.stream = `${prefix}-updates`;
    this.subject = `${prefix}.updates`;
    this.maxAgeMs = options.maxAgeMs ?? 0;
    this.timeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.presenceTtlMs = options.presenceTtlMs ?? DEFAULT_NATS_PRESENCE_TTL_MS;
    this.logger = options.logger ?? stderrLogger;
    this.link = new EngineHealth('nats', this.logger);
    this.presence = new NatsPresence(
      () => {
        if (this.js === undefined || this.jsm === undefined) throw new Error('The NATS store is not open.');
        return { js: this.js, jsm: this.jsm };
      },
      prefix,
      this.nodeId,
      this.presenceTtlMs,
      this.timeoutMs,
      (error) => this.failed('presence', error, 'Could not update the subscription list in NATS.'),
    );
  }

  async open(dispatch: Dispatch): Promise<void> {
    try {
      const connection = await connect({
        ...this.server,
        name: 'siar',
        timeout: this.timeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // A server that stopped answering (a partition) is noticed within about three pings.
        pingInterval: Math.max(1_000, Math.floor(this.timeoutMs / 2)),
        maxPingOut: 3,
      });
      this.connection = connection;
      this.js = jetstream(connection, { timeout: this.timeoutMs });
      this.jsm = await jetstreamManager(connection, { timeout: this.timeoutMs });
      const configs = [
        updatesStream(this.stream, this.subject, this.historyLimit, this.maxAgeMs),
        ...this.presence.configs(),
      ];
      for (const config of configs) await ensureStream(this.jsm, config);
      const { state } = await this.jsm.streams.info(this.stream);
      this.position = state.last_seq;
      this.count = state.messages;
      if (state.messages > 0) {
        const newest = await this.jsm.streams.getMessage(this.stream, { seq: state.last_seq });
        if (newest !== null) this.lastId = updateOf(newest.string(), newest.seq).id;
      }
      await this.presence.beat();
    } catch (error) {
      await this.close();
      throw new HubError(
        'invalid-option',
        `Cannot open the NATS store at nats://${this.server.servers}: ${(error as Error).message}`,
      );
    }
    this.watchConnection(this.connection);
    this.dispatch = dispatch;
    this.loop = this.consumeLoop();
    this.timer = setInterval(() => void this.beat(), Math.max(100, Math.floor(this.presenceTtlMs / 3)));
    this.timer.unref();
  }

  private watchConnection(connection: NatsConnection): void {
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === 'disconnect') {
          this.disconnected = true;
          if (!this.closed)
            this.logger.warn(
              { store: 'nats' },
              'Lost the connection to NATS: publishes wait, then get 503; subscribers stay connected; reconnecting.',
            );
        } else if (status.type === 'reconnect') {
          this.disconnected = false;
          this.logger.info({ store: 'nats' }, 'Connected to NATS again.');
          // A pull sent before the loss may be gone with it, and the consumer would wait for missed
          // heartbeats to notice: start a new one at once, from the last position dispatched.
          this.messages?.stop();
        }
      }
    })();
  }

  /** The one ordered consumer per node: everything appended by any node, in stream order. */
  private async consumeLoop(): Promise<void> {
    let wait = 100;
    while (!this.closed) {
      try {
        const consumer = await (this.js as JetStreamClient).consumers.get(this.stream, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.position + 1,
          inactive_threshold: READER_INACTIVE_MS,
        });
        // Pulls as long as the deadline: a stalled one (its heartbeats missed) is noticed within about two.
        const messages = await consumer.consume({
          max_messages: READ_BATCH,
          expires: Math.max(SHORTEST_PULL_MS, this.timeoutMs),
        });
        this.messages = messages;
        if (this.closed) messages.stop();
        this.link.recovered('consumer', 'Reading from NATS again, from the last position delivered.');
        wait = 100;
        for await (const message of messages) {
          // Positions only grow: a message at or below the position was dispatched already.
          if (message.seq <= this.position) continue;
          this.position = message.seq;
          const update = updateOf(message.string(), message.seq);
          this.lastId = update.id;
          this.dispatch?.(update);
        }
      } catch (error) {
        if (this.closed) return;
        this.failed('consumer', error, 'Lost the NATS consumer; subscribers stay connected, retrying.');
        await sleep(wait);
        wait = Math.min(wait * 2, LONGEST_RETRY_MS);
      }
    }
  }

  async append(update: Update): Promise<StoredUpdate> {
    const js = this.js;
    const jsm = this.jsm;
    if (this.closed || js === undefined || jsm === undefined || this.dispatch === undefined) {
      throw new Error('The NATS store is not open.');
    }
    const subject = `${this.subject}.${subjectToken(update.id)}`;
    const body = JSON.stringify({
      id: update.id,
      topics: update.topics,
      data: update.data,
      type: update.type,
      retry: update.retry,
      private: update.private,
    });
    const maxPayload = this.connection?.info?.max_payload;
    if (maxPayload !== undefined && Buffer.byteLength(body) > maxPayload) {
      throw new HubError(
        'payload-too-large',
        `The update is larger than the NATS server takes (max_payload ${maxPayload} bytes).`,
      );
    }
    let retried = false;
    try {
      const seq = await rideThrough(
        async (remainingMs) => {
          try {
            const ack = await js.publish(subject, body, {
              msgID: subjectToken(update.id),
              expect: { lastSubjectSequence: 0 },
              timeout: Math.min(remainingMs, this.timeoutMs),
            });
            return ack.seq;
          } catch (error) {
            if (!(error instanceof JetStreamApiError) || error.code !== WRONG_LAST_SEQUENCE) throw error;
            // The history holds this ID: the answer is where it is.
            const existing = await jsm.streams.getMessage(this.stream, { last_by_subj: subject });
            if (existing === null) throw error;
            return existing.seq;
          }
        },
        Date.now() + this.timeoutMs,
        (error) => {
          retried = true;
          return transient(error);
        },
      );
      if (retried) this.faults.appendsRiddenThrough++;
      this.link.recovered('append', 'Storing updates in NATS again.');
      return stored(update, seq);
    } catch (error) {
      this.failed('append', error, 'Could not store an update in NATS.');
      throw engineUnavailable('NATS', error);
    }
  }

  async replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult> {
    const js = this.js as JetStreamClient;
    const jsm = this.jsm as JetStreamManager;
    let seq: number | undefined;
    if (lastEventId !== 'earliest') {
      const found = await jsm.streams.getMessage(this.stream, {
        last_by_subj: `${this.subject}.${subjectToken(lastEventId)}`,
      });
      if (found !== null) seq = found.seq;
    }
    const { state } = await jsm.streams.info(this.stream);
    const from = (seq ?? 0) + 1;
    if (state.messages > 0 && state.last_seq >= from) {
      const consumer = await js.consumers.get(this.stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: from,
        inactive_threshold: READER_INACTIVE_MS,
      });
      try {
        let reached = false;
        while (!reached) {
          let got = 0;
          const messages = await consumer.fetch({
            max_messages: READ_BATCH,
            expires: Math.max(SHORTEST_PULL_MS, this.timeoutMs),
          });
          for await (const message of messages) {
            got++;
            visit(updateOf(message.string(), message.seq));
            // Up to the newest update when the replay began; the live dispatch has the rest.
            if (message.seq >= state.last_seq || message.info.pending === 0) {
              reached = true;
              break;
            }
          }
          if (got === 0) break;
        }
      } finally {
        await consumer.delete().catch(() => undefined);
      }
    }
    // This node's consumer may not have reached the requested update yet: the hub must not send it again.
    return { found: seq !== undefined, seq };
  }

  lastEventId(): string | undefined {
    return this.lastId;
  }

  historySize(): number {
    return this.count;
  }

  health(): StoreHealth {
    if (this.closed) return { ok: false, detail: 'closed' };
    if (this.disconnected) return { ok: false, detail: 'NATS connection lost' };
    return this.link.health();
  }

  /** The heartbeat: presence, and the history's size for the stats. */
  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      await withDeadline(this.presence.beat(), this.timeoutMs, 'the presence heartbeat');
      const { state } = await (this.jsm as JetStreamManager).streams.info(this.stream);
      this.count = state.messages;
      this.link.answered();
    } catch (error) {
      this.failed('heartbeat', error, 'The NATS heartbeat failed.');
    }
  }

  /** Records a failing activity (`/healthz` says degraded until it recovers). */
  private failed(activity: string, error: unknown, message: string): void {
    if (!this.closed) this.link.failed(activity, error, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatch = undefined;
    if (this.timer) clearInterval(this.timer);
    this.messages?.stop();
    if (this.js !== undefined && !this.disconnected) {
      await Promise.race([this.presence.leave().catch(() => undefined), sleep(CLOSE_CLEANUP_MS)]);
    }
    await this.loop?.catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}
