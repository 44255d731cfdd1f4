import { HubError } from '../errors.js';
import { type StoredUpdate, stored, type Update } from '../update.js';
import { UpdateRing } from './ring.js';
import { openSqlite, type SqliteDatabase, type SqliteStatement } from './sqlite-binding.js';
import {
  DEFAULT_STORE_TIMEOUT_MS,
  type Dispatch,
  type HubStore,
  type ReplayResult,
  type StoreHealth,
} from './store.js';

/** Default history of the SQLite store: the newest 100,000 updates. */
export const DEFAULT_SQLITE_HISTORY = 100_000;
/** Default number of the newest updates the SQLite store also keeps in memory, to replay without reading the disk. */
export const DEFAULT_SQLITE_CACHE = 10_000;

export interface SqliteStoreOptions {
  /** The database file (created when missing). */
  path: string;
  /** Updates kept; older ones are deleted. Default 100,000. */
  historySize?: number;
  /** Updates older than this many ms are deleted too; 0 keeps them whatever their age. Default 0. */
  maxAgeMs?: number;
  /** Newest updates also kept in memory for replays. Default 10,000 (at most historySize). */
  cacheSize?: number;
  /**
   * `normal` (default): an acknowledged update survives the hub process being killed, not a power
   * loss. `full`: it survives a power loss too, at a cost in publish rate.
   */
  synchronous?: 'normal' | 'full';
  /**
   * Longest a call waits for the database file's lock (another process writing it, a checkpoint),
   * in ms: SQLite's busy timeout. Past it the call fails (a publish gets 503). Default 5,000.
   */
  storeTimeoutMs?: number;
}

interface Row {
  seq: number;
  id: string;
  topics: string;
  data: string;
  type: string | null;
  retry: number | null;
  private: number;
}

const REPLAY_BATCH = 1000;
// Old rows are deleted every so many appends, in one statement, rather than one by one.
const CLEANUP_EVERY = 256;

function fromRow(row: Row): StoredUpdate {
  return stored(
    {
      id: row.id,
      topics: JSON.parse(row.topics) as string[],
      data: row.data,
      type: row.type ?? undefined,
      retry: row.retry ?? undefined,
      private: row.private === 1,
    },
    row.seq,
  );
}

/**
 * A durable history in one SQLite file (WAL mode): an update is written before the publisher is
 * told it was accepted, and replays survive restarts and crashes. One hub process per file.
 */
export class SqliteStore implements HubStore {
  readonly kind = 'sqlite';
  private readonly db: SqliteDatabase;
  private readonly ring: UpdateRing;
  private readonly historyLimit: number;
  private readonly maxAgeMs: number;
  private readonly insert: SqliteStatement;
  private readonly bySeq: SqliteStatement;
  private readonly seqOfId: SqliteStatement;
  private readonly atSeq: SqliteStatement;
  private dispatch: Dispatch | undefined;
  private count = 0;
  private lastId: string | undefined;
  private lastSeq = 0;
  private appendsSinceCleanup = 0;
  private failure: string | undefined;

  constructor(options: SqliteStoreOptions) {
    this.historyLimit = options.historySize ?? DEFAULT_SQLITE_HISTORY;
    if (!Number.isSafeInteger(this.historyLimit) || this.historyLimit < 1) {
      throw new HubError(
        'invalid-option',
        `The SQLite historySize must be a positive integer, got ${this.historyLimit}.`,
      );
    }
    this.maxAgeMs = options.maxAgeMs ?? 0;
    try {
      this.db = openSqlite(options.path);
    } catch (error) {
      if (error instanceof HubError) throw error;
      throw new HubError(
        'invalid-option',
        `Cannot open the SQLite store at ${options.path}: ${(error as Error).message}`,
      );
    }
    const busyMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    if (!Number.isSafeInteger(busyMs) || busyMs < 1) {
      throw new HubError(
        'invalid-option',
        `The SQLite storeTimeoutMs must be a positive integer, got ${busyMs}.`,
      );
    }
    // Calls are synchronous: the busy timeout is what bounds one waiting for the file's lock.
    this.db.exec(`PRAGMA busy_timeout = ${busyMs}`);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS updates (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        topics TEXT NOT NULL,
        data TEXT NOT NULL,
        type TEXT,
        retry INTEGER,
        private INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS updates_id ON updates (id);
    `);
    this.insert = this.db.prepare(
      'INSERT INTO updates (id, topics, data, type, retry, private, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.bySeq = this.db.prepare('SELECT * FROM updates WHERE seq > ? ORDER BY seq LIMIT ?');
    this.seqOfId = this.db.prepare('SELECT seq FROM updates WHERE id = ? ORDER BY seq DESC LIMIT 1');
    this.atSeq = this.db.prepare('SELECT * FROM updates WHERE seq = ?');
    this.ring = new UpdateRing(Math.min(options.cacheSize ?? DEFAULT_SQLITE_CACHE, this.historyLimit));
  }

  async open(dispatch: Dispatch): Promise<void> {
    this.cleanup();
    this.count = (this.db.prepare('SELECT COUNT(*) AS n FROM updates').get() as { n: number }).n;
    const newest = this.db
      .prepare('SELECT * FROM updates ORDER BY seq DESC LIMIT ?')
      .all(this.ring.capacity) as Row[];
    for (const row of newest.reverse()) this.ring.push(fromRow(row));
    this.lastId = this.ring.newest()?.id;
    this.lastSeq =
      (this.db.prepare('SELECT MAX(seq) AS seq FROM updates').get() as { seq: number | null }).seq ?? 0;
    this.dispatch = dispatch;
  }

  async append(update: Update): Promise<StoredUpdate> {
    let seq: number;
    try {
      // An ID the history holds is stored once (a publisher retrying after a 503 may send it again).
      const kept = this.kept(update.id);
      if (kept !== undefined) return kept;
      const result = this.insert.run(
        update.id,
        JSON.stringify(update.topics),
        update.data,
        update.type ?? null,
        update.retry ?? null,
        update.private ? 1 : 0,
        Date.now(),
      );
      seq = Number(result.lastInsertRowid);
      this.failure = undefined;
    } catch (error) {
      this.failure = (error as Error).message;
      throw error;
    }
    const entry = stored(update, seq);
    this.count++;
    this.ring.push(entry);
    this.lastId = entry.id;
    this.lastSeq = seq;
    if (++this.appendsSinceCleanup >= CLEANUP_EVERY) this.cleanup();
    this.dispatch?.(entry);
    return entry;
  }

  async replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult> {
    // Deletes are batched (see cleanup): rows past the history size may still be there, but are not history.
    const floor = Math.max(0, this.lastSeq - this.historyLimit);
    let after = floor;
    let found = false;
    if (lastEventId !== 'earliest') {
      const seq =
        this.ring.seqOf(lastEventId) ?? (this.seqOfId.get(lastEventId) as { seq: number } | undefined)?.seq;
      if (seq !== undefined && seq > floor) {
        after = seq;
        found = true;
      }
    }
    // Read from disk what the memory cache no longer holds, then the cache.
    const cachedFrom = this.ring.oldest()?.seq ?? Number.POSITIVE_INFINITY;
    while (after + 1 < cachedFrom) {
      const rows = this.bySeq.all(after, REPLAY_BATCH) as Row[];
      if (rows.length === 0) break;
      for (const row of rows) {
        if (row.seq >= cachedFrom) break;
        visit(fromRow(row));
        after = row.seq;
      }
      if (rows.length < REPLAY_BATCH || (rows.at(-1) as Row).seq >= cachedFrom) break;
    }
    this.ring.forEachAfter(after, visit);
    return { found };
  }

  lastEventId(): string | undefined {
    return this.lastId;
  }

  /** The update with this ID, when the history holds it. */
  private kept(id: string): StoredUpdate | undefined {
    const cached = this.ring.find(id);
    if (cached !== undefined) return cached;
    const seq = (this.seqOfId.get(id) as { seq: number } | undefined)?.seq;
    // Deletes are batched (see cleanup): a row past the history size is no longer history.
    if (seq === undefined || seq <= this.lastSeq - this.historyLimit) return undefined;
    return fromRow(this.atSeq.get(seq) as Row);
  }

  historySize(): number {
    return Math.min(this.count, this.historyLimit);
  }

  health(): StoreHealth {
    if (!this.db.isOpen) return { ok: false, detail: 'closed' };
    return this.failure === undefined ? { ok: true } : { ok: false, detail: this.failure };
  }

  async close(): Promise<void> {
    this.dispatch = undefined;
    if (this.db.isOpen) this.db.close();
    this.ring.clear();
  }

  /** Deletes the updates beyond the history size and age. */
  private cleanup(): void {
    this.appendsSinceCleanup = 0;
    let deleted = this.db
      .prepare('DELETE FROM updates WHERE seq <= (SELECT MAX(seq) FROM updates) - ?')
      .run(this.historyLimit).changes;
    if (this.maxAgeMs > 0) {
      deleted += this.db
        .prepare('DELETE FROM updates WHERE created_at < ?')
        .run(Date.now() - this.maxAgeMs).changes;
    }
    if (deleted > 0) {
      this.count = Math.max(0, this.count - deleted);
      const oldest = this.db.prepare('SELECT MIN(seq) AS seq FROM updates').get() as { seq: number | null };
      this.ring.dropBefore(oldest.seq ?? Number.POSITIVE_INFINITY);
    }
  }
}
