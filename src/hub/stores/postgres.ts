import pg from 'pg';
import { type Logger, stderrLogger } from '../../server/logger.js';
import { HubError } from '../errors.js';
import { type StoredUpdate, stored, type Update, uuidv7 } from '../update.js';
import { engineUnavailable, rideThrough, StoreTimeoutError, withDeadline } from './deadline.js';
import { PostgresPresence } from './postgres-presence.js';
import { namesOf, type PostgresNames, PREFIX_PATTERN, schemaStatements } from './postgres-schema.js';
import {
  DEFAULT_STORE_TIMEOUT_MS,
  type Dispatch,
  type HubStore,
  type ReplayResult,
  type StoreHealth,
} from './store.js';

/** Default history of the PostgreSQL store: the newest 10,000 updates. */
export const DEFAULT_POSTGRES_HISTORY = 10_000;
/** Default number of connections a node opens for its queries (the wake-up listener has one more). */
export const DEFAULT_POSTGRES_POOL = 4;
/** Default time after which a node reads even without a wake-up (a NOTIFY lost with a connection). */
export const DEFAULT_POSTGRES_POLL_MS = 5_000;
/** Default time the subscriptions of a node that stopped answering stay listed. */
export const DEFAULT_POSTGRES_PRESENCE_TTL_MS = 15_000;
/** Most publishes one node sends in one append transaction. */
const APPEND_BATCH = 256;
/** Most publishes waiting for their append on one node; more are refused with 503 at once. */
const MAX_QUEUED_APPENDS = 10_000;
/** Rows read per query, when dispatching and replaying. */
const READ_BATCH = 1_000;
/** Longest `close()` waits for the database to drop this node's presence rows (they expire anyway). */
const CLOSE_CLEANUP_MS = 1_000;
/** Longest wait before a node tries again to listen for wake-ups, in ms. */
const LONGEST_RECONNECT_MS = 2_000;

export interface PostgresStoreOptions {
  /**
   * `postgres://user[:password]@host:port/db` (or `postgresql://`). A `prefix` query parameter names
   * the tables (`?prefix=app1`: `app1_updates`…); other parameters go to the client (`sslmode`…).
   */
  url: string;
  /** Prefix of the tables' names: lower-case letters, digits and `_`. Default `siar`. */
  prefix?: string;
  /** Updates kept. Default 10,000. */
  historySize?: number;
  /** Updates older than this many ms are deleted too; 0 keeps them whatever their age. Default 0. */
  maxAgeMs?: number;
  /** Deadline of every call to PostgreSQL, and how long a publish rides through an outage, in ms. Default 5,000. */
  storeTimeoutMs?: number;
  /** How long the subscriptions of a node that stopped answering stay listed, in ms. Default 15,000. */
  presenceTtlMs?: number;
  /** How often a node reads without a wake-up, in ms. Default 5,000. */
  pollMs?: number;
  /** Connections for queries. Default 4. */
  poolSize?: number;
  logger?: Logger;
}

interface PendingAppend {
  update: Update;
  /** `Date.now()` past which the publisher is answered 503. */
  until: number;
  resolve: (update: StoredUpdate) => void;
  reject: (error: unknown) => void;
}

interface UpdateRow {
  seq: string;
  id: string;
  body: string;
}

function updateOf(row: UpdateRow): StoredUpdate {
  const body = JSON.parse(row.body) as Omit<Update, 'id'>;
  return stored(
    {
      id: row.id,
      topics: body.topics,
      data: body.data,
      type: body.type ?? undefined,
      retry: body.retry ?? undefined,
      private: body.private === true,
    },
    Number(row.seq),
  );
}

/**
 * SQLSTATE classes worth trying again: connection (08), resources (53), operator intervention such
 * as a restart or a statement timeout (57), a transaction rolled back by a conflict (40). Errors
 * without a SQLSTATE are the client's (refused, reset, timed out): also transient.
 */
function transient(error: unknown): boolean {
  if (error instanceof StoreTimeoutError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return ['08', '53', '57', '40'].includes(code.slice(0, 2));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Many hub nodes on one PostgreSQL (11+). A table is the history; NOTIFY wakes every node, which
 * then reads the rows after the last position it dispatched (`seq > position`, in position order),
 * so a wake-up lost (a connection dropped) loses nothing: the next read, at the latest after
 * `pollMs`, catches up. Positions are given out in commit order (see postgres-schema.ts), which is
 * what makes that read skip nothing and repeat nothing under concurrent publishers on many nodes.
 *
 * A publish is answered once its transaction has committed. While PostgreSQL is away a node keeps
 * its subscribers, tries each publish again until `storeTimeoutMs` has passed, then answers 503
 * with `Retry-After`; the same update ID is stored once, so those tries (and a publisher's retry)
 * never store an update twice.
 */
export class PostgresStore implements HubStore {
  readonly kind = 'postgres';
  /** This node's identifier in the node list. */
  readonly nodeId = `urn:uuid:${uuidv7()}`;
  readonly presence: PostgresPresence;
  private readonly names: PostgresNames;
  private readonly pool: pg.Pool;
  private readonly connection: pg.ClientConfig;
  private readonly historyLimit: number;
  private readonly maxAgeMs: number;
  private readonly timeoutMs: number;
  private readonly presenceTtlMs: number;
  private readonly pollMs: number;
  private readonly logger: Logger;
  private readonly safeUrl: string;
  private listener: pg.Client | undefined;
  private dispatch: Dispatch | undefined;
  private position = 0;
  private lastId: string | undefined;
  private count = 0;
  private closed = false;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private readonly queue: PendingAppend[] = [];
  private appending: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** What is wrong, by activity (listener, read, append, heartbeat); empty when all is well. */
  private readonly failures = new Map<string, string>();

  constructor(options: PostgresStoreOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new HubError(
        'invalid-option',
        `The PostgreSQL URL "${options.url}" is not a URL (postgres://host:5432/db).`,
      );
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new HubError(
        'invalid-option',
        `The PostgreSQL URL must start with postgres:// or postgresql://, got ${url.protocol}//.`,
      );
    }
    const prefix = options.prefix ?? url.searchParams.get('prefix') ?? 'siar';
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new HubError(
        'invalid-option',
        `The PostgreSQL table prefix must be 1 to 40 of a-z, 0-9 and _ (not starting with a digit), got "${prefix}".`,
      );
    }
    url.searchParams.delete('prefix');
    this.historyLimit = options.historySize ?? DEFAULT_POSTGRES_HISTORY;
    if (!Number.isSafeInteger(this.historyLimit) || this.historyLimit < 1) {
      throw new HubError(
        'invalid-option',
        `The PostgreSQL historySize must be a positive integer, got ${this.historyLimit}.`,
      );
    }
    this.maxAgeMs = options.maxAgeMs ?? 0;
    this.timeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.presenceTtlMs = options.presenceTtlMs ?? DEFAULT_POSTGRES_PRESENCE_TTL_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POSTGRES_POLL_MS;
    this.logger = options.logger ?? stderrLogger;
    this.names = namesOf(prefix);
    const redacted = new URL(url);
    if (redacted.password) redacted.password = '***';
    this.safeUrl = redacted.toString();
    this.connection = {
      connectionString: url.toString(),
      application_name: 'siar',
      connectionTimeoutMillis: this.timeoutMs,
      // The server ends a statement past the deadline; the client stops waiting for it at the same time.
      statement_timeout: this.timeoutMs,
      query_timeout: this.timeoutMs,
      keepAlive: true,
    };
    this.pool = new pg.Pool({ ...this.connection, max: options.poolSize ?? DEFAULT_POSTGRES_POOL });
    this.pool.on('error', () => {
      // An idle connection lost: the pool drops it and the next query opens another.
    });
    this.presence = new PostgresPresence(this.pool, this.names, this.nodeId, this.presenceTtlMs, (error) =>
      this.failed('presence', error, 'Could not update the subscription list in PostgreSQL.'),
    );
  }

  async open(dispatch: Dispatch): Promise<void> {
    try {
      await this.createSchema();
      const { rows } = await this.pool.query<{ seq: string; count: string }>(
        `SELECT h.seq, (SELECT count(*) FROM ${this.names.updates}) AS count FROM ${this.names.head} h`,
      );
      this.position = Number(rows[0]?.seq ?? 0);
      this.count = Number(rows[0]?.count ?? 0);
      const newest = await this.pool.query<UpdateRow>(
        `SELECT seq, id, body FROM ${this.names.updates} ORDER BY seq DESC LIMIT 1`,
      );
      this.lastId = newest.rows[0]?.id;
      await this.listen();
      await this.presence.beat();
    } catch (error) {
      await this.close();
      throw new HubError(
        'invalid-option',
        `Cannot open the PostgreSQL store at ${this.safeUrl}: ${(error as Error).message}`,
      );
    }
    this.dispatch = dispatch;
    this.every(this.pollMs, () => this.wake());
    this.every(Math.max(100, Math.floor(this.presenceTtlMs / 3)), () => void this.beat());
    this.wake();
  }

  private async createSchema(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.names.lockKey]);
      for (const statement of schemaStatements(this.names)) await client.query(statement);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Opens the connection that LISTENs for wake-ups; on its loss, opens another (with backoff) and reads. */
  private async listen(): Promise<void> {
    const client = new pg.Client(this.connection);
    let up = false;
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      client.end().catch(() => undefined);
      if (!up || this.closed) return;
      this.failed(
        'listener',
        error ?? new Error('connection ended'),
        'Lost the PostgreSQL connection that listens for updates; subscribers stay connected, reconnecting.',
      );
      void this.relisten();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', () => this.wake());
    try {
      await client.connect();
      await client.query(`LISTEN ${this.names.channel}`);
    } catch (error) {
      onLost();
      throw error;
    }
    up = true;
    this.listener = client;
  }

  private async relisten(): Promise<void> {
    let wait = 100;
    while (!this.closed) {
      await sleep(wait);
      if (this.closed) return;
      try {
        await this.listen();
        this.recovered(
          'listener',
          'Listening to PostgreSQL again; reading on from the last position delivered.',
        );
        this.wake();
        return;
      } catch {
        wait = Math.min(wait * 2, LONGEST_RECONNECT_MS);
      }
    }
  }

  /** Reads what was appended after this node's position (once more if woken while reading). */
  private wake(): void {
    if (this.closed || this.dispatch === undefined) return;
    this.readAgain = true;
    this.reading ??= this.readOn().finally(() => {
      this.reading = undefined;
      // Woken between the last read and now (a publish of this node): read once more.
      if (this.readAgain) this.wake();
    });
  }

  private async readOn(): Promise<void> {
    while (this.readAgain && !this.closed) {
      this.readAgain = false;
      let rows: Array<UpdateRow & { head: string }>;
      try {
        // The head too: a head behind this node's position means a database restored from an older copy.
        ({ rows } = await this.pool.query<UpdateRow & { head: string }>(
          `SELECT h.seq AS head, u.seq, u.id, u.body FROM ${this.names.head} h
           LEFT JOIN LATERAL (SELECT seq, id, body FROM ${this.names.updates} WHERE seq > $1 ORDER BY seq LIMIT $2) u ON true`,
          [this.position, READ_BATCH],
        ));
        this.recovered('read', 'Reading from PostgreSQL again.');
      } catch (error) {
        this.failed('read', error, 'Could not read updates from PostgreSQL; retrying.');
        // The poll timer reads again.
        return;
      }
      const head = Number(rows[0]?.head ?? 0);
      if (head < this.position) {
        this.logger.warn(
          { store: 'postgres', position: this.position, head },
          'The PostgreSQL history is behind the position this node read up to (restored from an older copy): reading on after its newest update.',
        );
        this.position = head;
      }
      for (const row of rows) {
        if (row.seq === null) continue;
        const update = updateOf(row);
        // Positions only grow: an update at or below the position was dispatched already.
        if (update.seq <= this.position) continue;
        this.position = update.seq;
        this.lastId = update.id;
        this.dispatch?.(update);
      }
      if (rows.length >= READ_BATCH) this.readAgain = true;
    }
  }

  append(update: Update): Promise<StoredUpdate> {
    if (this.closed || this.dispatch === undefined)
      return Promise.reject(new Error('The PostgreSQL store is not open.'));
    if (this.queue.length >= MAX_QUEUED_APPENDS) {
      return Promise.reject(
        engineUnavailable('PostgreSQL', `${MAX_QUEUED_APPENDS} publishes already waiting`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ update, until: Date.now() + this.timeoutMs, resolve, reject });
      this.startAppending();
    });
  }

  private startAppending(): void {
    this.appending ??= this.appendQueued().finally(() => {
      this.appending = undefined;
      // A publish queued between the last batch and now.
      if (this.queue.length > 0) this.startAppending();
    });
  }

  /** Sends the waiting publishes, a batch per transaction, one transaction at a time. */
  private async appendQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, APPEND_BATCH);
      const until = Math.min(...batch.map((pending) => pending.until));
      try {
        const seqs = await rideThrough(
          () => this.appendBatch(batch.map((pending) => pending.update)),
          until,
          transient,
        );
        this.recovered('append', 'Storing updates in PostgreSQL again.');
        for (const [i, pending] of batch.entries())
          pending.resolve(stored(pending.update, seqs[i] as number));
        // Dispatch comes back through the read, on this node as on every other: no need to wait for the wake-up.
        this.wake();
      } catch (error) {
        this.failed('append', error, 'Could not store updates in PostgreSQL.');
        const refusal = engineUnavailable('PostgreSQL', error);
        for (const pending of batch) pending.reject(refusal);
      }
    }
  }

  private async appendBatch(updates: Update[]): Promise<number[]> {
    const { rows } = await this.pool.query<{ update_id: string; update_seq: string }>(
      `SELECT update_id, update_seq FROM ${this.names.append}($1::text[], $2::text[], $3, $4)`,
      [
        updates.map((update) => update.id),
        updates.map((update) =>
          JSON.stringify({
            topics: update.topics,
            data: update.data,
            type: update.type,
            retry: update.retry,
            private: update.private,
          }),
        ),
        this.historyLimit,
        this.maxAgeMs,
      ],
    );
    this.count = Math.min(this.historyLimit, this.count + updates.length);
    return rows.map((row) => Number(row.update_seq));
  }

  async replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult> {
    let after = 0;
    let seq: number | undefined;
    if (lastEventId !== 'earliest') {
      const { rows } = await this.pool.query<{ seq: string }>(
        `SELECT seq FROM ${this.names.updates} WHERE id = $1`,
        [lastEventId],
      );
      if (rows[0] !== undefined) {
        seq = Number(rows[0].seq);
        after = seq;
      }
    }
    for (;;) {
      const { rows } = await this.pool.query<UpdateRow>(
        `SELECT seq, id, body FROM ${this.names.updates} WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [after, READ_BATCH],
      );
      for (const row of rows) visit(updateOf(row));
      const last = rows.at(-1);
      if (rows.length < READ_BATCH || last === undefined) break;
      after = Number(last.seq);
    }
    // This node's read may not have reached the requested update yet: the hub must not send it again.
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
    const [activity, problem] = this.failures.entries().next().value ?? [];
    return activity === undefined ? { ok: true } : { ok: false, detail: `${activity}: ${problem}` };
  }

  /** The heartbeat: presence, the age trim, and the history's size for the stats. */
  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      await withDeadline(this.presence.beat(), this.timeoutMs, 'the presence heartbeat');
      if (this.maxAgeMs > 0) {
        await this.pool.query(
          `DELETE FROM ${this.names.updates} WHERE created_at < now() - $1 * interval '1 millisecond'`,
          [this.maxAgeMs],
        );
      }
      const { rows } = await this.pool.query<{ count: string }>(
        `SELECT count(*) AS count FROM ${this.names.updates}`,
      );
      this.count = Number(rows[0]?.count ?? 0);
      // PostgreSQL answers: a publish or presence write that failed before is no longer a reason to say degraded.
      for (const activity of ['heartbeat', 'append', 'presence'])
        this.recovered(activity, 'PostgreSQL answers again.');
    } catch (error) {
      this.failed('heartbeat', error, 'The PostgreSQL heartbeat failed.');
    }
  }

  /** Records a failing activity (health says degraded), logging only the first failure of a run. */
  private failed(activity: string, error: unknown, message: string): void {
    if (this.closed) return;
    const detail = (error as Error)?.message ?? String(error);
    if (!this.failures.has(activity)) this.logger.warn({ store: 'postgres', error: detail }, message);
    this.failures.set(activity, detail);
  }

  private recovered(activity: string, message: string): void {
    if (this.failures.delete(activity)) this.logger.info({ store: 'postgres' }, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatch = undefined;
    for (const timer of this.timers) clearInterval(timer);
    await this.appending?.catch(() => undefined);
    await Promise.race([this.presence.leave().catch(() => undefined), sleep(CLOSE_CLEANUP_MS)]);
    await this.listener?.end().catch(() => undefined);
    await this.reading?.catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
