// Past 400 lines: the PostgreSQL store in one class (append, the LISTEN/NOTIFY reader, replay, health);
// its schema (and why positions come in commit order) and batching are files beside it (postgres-*.ts).
import pg from 'pg';
import { type Logger, stderrLogger } from '../../server/logger.js';
import { HubError } from '../errors.js';
import { type StoredUpdate, stored, type Update, uuidv7 } from '../update.js';
import { EngineHealth, engineUrl, historyLimit, withDeadline } from './engine.js';
import { PostgresAppends } from './postgres-append.js';
import { PostgresPresence } from './postgres-presence.js';
import { namesOf, type PostgresNames, PREFIX_PATTERN, schemaStatements } from './postgres-schema.js';
import {
  DEFAULT_STORE_TIMEOUT_MS,
  type Dispatch,
  type HubStore,
  type ReplayResult,
  type StoreFaults,
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
/** Rows read per query, when dispatching and replaying. */
const READ_BATCH = 1_000;
/** Longest `close()` waits for the database to drop this node's presence rows (they expire anyway), then to say goodbye. */
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Many hub nodes on one PostgreSQL (11+). A table is the history; NOTIFY wakes every node, which
 * then reads the rows after the last position it dispatched (`seq > position`, in position order),
 * so a wake-up lost (a connection dropped) loses nothing: the next read, at the latest after
 * `pollMs`, catches up. Positions are given out in commit order (see postgres-schema.ts), which is
 * what makes that read skip nothing and repeat nothing under concurrent publishers on many nodes.
 *
 * A publish is answered once its transaction has committed (postgres-append.ts: concurrent
 * publishes share one). While PostgreSQL is away a node keeps its subscribers, and its publishes
 * are tried again until `storeTimeoutMs` has passed, then answered 503 with `Retry-After`.
 */
export class PostgresStore implements HubStore {
  readonly kind = 'postgres';
  /** This node's identifier in the node list. */
  readonly nodeId = `urn:uuid:${uuidv7()}`;
  readonly presence: PostgresPresence;
  /** Appends that waited for PostgreSQL to come back: read by `/metrics`. */
  readonly faults: StoreFaults = { appendsRiddenThrough: 0 };
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
  /** The pool's connections, to cut them if the server does not answer a goodbye. */
  private readonly poolClients = new Set<pg.PoolClient>();
  private dispatch: Dispatch | undefined;
  private position = 0;
  private lastId: string | undefined;
  private count = 0;
  private closed = false;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private readonly appends: PostgresAppends;
  private timers: NodeJS.Timeout[] = [];
  private readonly link: EngineHealth;

  constructor(options: PostgresStoreOptions) {
    const { url, prefix } = engineUrl(
      options.url,
      'PostgreSQL',
      ['postgres:', 'postgresql:'],
      'postgres://user@host:5432/db',
      options.prefix,
    );
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new HubError(
        'invalid-option',
        `The PostgreSQL table prefix must be 1 to 40 of a-z, 0-9 and _ (not starting with a digit), got "${prefix}".`,
      );
    }
    this.historyLimit = historyLimit(options.historySize, DEFAULT_POSTGRES_HISTORY, 'PostgreSQL');
    this.maxAgeMs = options.maxAgeMs ?? 0;
    this.timeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.presenceTtlMs = options.presenceTtlMs ?? DEFAULT_POSTGRES_PRESENCE_TTL_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POSTGRES_POLL_MS;
    this.logger = options.logger ?? stderrLogger;
    this.link = new EngineHealth('postgres', this.logger);
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
    this.pool.on('connect', (client) => this.poolClients.add(client));
    this.pool.on('remove', (client) => this.poolClients.delete(client));
    this.appends = new PostgresAppends((updates) => this.appendBatch(updates), this.timeoutMs, {
      stored: (riddenThrough) => {
        this.faults.appendsRiddenThrough += riddenThrough;
        this.link.recovered('append', 'Storing updates in PostgreSQL again.');
        // Dispatch comes back through the read, on this node as on every other: no need to wait for the wake-up.
        this.wake();
      },
      failed: (error) => this.failed('append', error, 'Could not store updates in PostgreSQL.'),
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
        this.link.recovered(
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
        this.link.recovered('read', 'Reading from PostgreSQL again.');
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
    if (this.closed || this.dispatch === undefined) {
      return Promise.reject(new Error('The PostgreSQL store is not open.'));
    }
    return this.appends.append(update);
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
    return this.link.health();
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
      this.link.answered();
    } catch (error) {
      this.failed('heartbeat', error, 'The PostgreSQL heartbeat failed.');
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
    for (const timer of this.timers) clearInterval(timer);
    await this.appends.idle();
    await Promise.race([this.presence.leave().catch(() => undefined), sleep(CLOSE_CLEANUP_MS)]);
    await this.reading?.catch(() => undefined);
    // A server that stopped answering (a partition) never acknowledges a goodbye: the connections
    // are given as long as the cleanup, then cut, so that the hub's shutdown never waits on it.
    const ended = Promise.all([this.listener?.end(), this.pool.end()]).catch(() => undefined);
    if ((await Promise.race([ended.then(() => true), sleep(CLOSE_CLEANUP_MS).then(() => false)])) === false) {
      for (const client of [this.listener, ...this.poolClients]) client?.connection.stream.destroy();
    }
  }
}
