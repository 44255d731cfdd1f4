// Past 400 lines: the Redis store in one class (append, the XREAD loop, replay, health); its connections,
// presence and stream layout are files beside it (redis-link.ts, redis-presence.ts, redis-stream.ts).
import { type Logger, stderrLogger } from '../../server/logger.js';
import { BurstLog } from '../burst-log.js';
import { HubError } from '../errors.js';
import { type StoredUpdate, stored, type Update, uuidv7 } from '../update.js';
import { engineUnavailable, rideThrough, withDeadline } from './engine.js';
import { type RedisClient, RedisLink, retryable } from './redis-link.js';
import { RedisPresence } from './redis-presence.js';
import { appendEntry, defineAppend, positionOf, seqOf, updateOf } from './redis-stream.js';
import {
  DEFAULT_STORE_TIMEOUT_MS,
  type Dispatch,
  type HubStore,
  type ReplayResult,
  type StoreFaults,
  type StoreHealth,
} from './store.js';

/** Default history of the Redis store: about the newest 10,000 updates (`MAXLEN ~`). */
export const DEFAULT_REDIS_HISTORY = 10_000;
/**
 * Default most publishes waiting for Redis at once (for the connection to come back, or for its
 * answer); more are refused at once (503): a long outage must not gather publishes without bound.
 */
export const DEFAULT_MAX_WAITING_APPENDS = 1000;

export interface RedisStoreOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). A `prefix` query parameter
   * sets the key prefix (`redis://host:6379/0?prefix=app1`).
   */
  url: string;
  /** Prefix of every key. The keys are `{prefix}:…`: the braces keep them in one Redis Cluster slot. Default `siar`. */
  prefix?: string;
  /** Updates kept in the stream (trimmed with `MAXLEN ~`, so a little more may be kept). Default 10,000. */
  historySize?: number;
  /** Use Redis Cluster, with the URL's host as the first node. Default false. */
  cluster?: boolean;
  /** How long a blocking read waits before it starts again, in ms. Default 5,000. */
  readBlockMs?: number;
  /** How long the subscriptions of a node that stopped answering stay listed, in ms. Default 15,000. */
  presenceTtlMs?: number;
  /** How long `open` waits for Redis before giving up, in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /**
   * Longest any call waits for Redis, in ms. A publish made while the connection is being
   * re-established waits for it up to this long (then 503); a connection on which Redis sends
   * nothing for this long while a command waits (a partition) is dropped and made again. Default 5,000.
   */
  storeTimeoutMs?: number;
  /** Most publishes waiting for Redis at once; more get 503 at once. Default 1,000. */
  maxWaitingAppends?: number;
  logger?: Logger;
}

export type { RedisClient } from './redis-link.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Stream positions (and update IDs) this node delivered last, to recognise a Redis restored from an older copy. */
const RECENT_DELIVERIES = 1024;
/** Longest `close()` waits for Redis to drop this node's entries (ms); they expire by themselves anyway. */
const CLOSE_CLEANUP_MS = 1000;
/**
 * Many hub nodes on one Redis (6.2+) or Redis Cluster. A Redis Stream is both the history and the
 * fan-out: publishing is `XADD` (the publisher hears back only once it succeeded), and every node
 * runs one blocking `XREAD` loop that dispatches to its own subscribers. When a connection is lost
 * a publish waits for it (up to `storeTimeoutMs`); when Redis stays away, or goes silent, the node
 * keeps its subscribers, refuses publishes (503), reconnects and reads on from the last position
 * it delivered, so nothing appended meanwhile is skipped. An update whose ID the history still
 * holds is stored once: a publisher that got a 503 may retry with the same `id`. The connections
 * are in redis-link.ts; the entries' layout and the append script in redis-stream.ts; the node
 * list and the subscriptions every node shares, in redis-presence.ts.
 */
export class RedisStore implements HubStore {
  readonly kind = 'redis';
  /** This node's identifier in the node list. */
  readonly nodeId = `urn:uuid:${uuidv7()}`;
  /** The subscriptions of every live node, for the subscriptions API. */
  readonly presence: RedisPresence;
  /** Appends that waited for a reconnection, links replaced: read by `/metrics`. */
  readonly faults: Required<StoreFaults> = { appendsRiddenThrough: 0, linksReplaced: 0 };
  private readonly options: Required<Omit<RedisStoreOptions, 'logger' | 'cluster'>> & { cluster: boolean };
  private readonly logger: Logger;
  private readonly keys: { stream: string; ids: string };
  private link: RedisLink | undefined;
  private dispatch: Dispatch | undefined;
  private position = '0-0';
  private lastId: string | undefined;
  /** The stream's length as of the last beat. */
  private length = 0;
  private closed = false;
  private loop: Promise<void> | undefined;
  private readerFailing: string | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  /** Stream position → update ID of the last deliveries (at most RECENT_DELIVERIES). */
  private readonly recent = new Map<string, string>();
  /** Publishes waiting for Redis now (at most `maxWaitingAppends`). */
  private waitingAppends = 0;
  private beating = false;
  private readonly waitLog: BurstLog;

  constructor(options: RedisStoreOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new HubError(
        'invalid-option',
        `The Redis URL "${options.url}" is not a URL (redis://host:6379/0).`,
      );
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new HubError(
        'invalid-option',
        `The Redis URL must start with redis:// or rediss://, got ${url.protocol}//.`,
      );
    }
    const prefix = options.prefix ?? url.searchParams.get('prefix') ?? 'siar';
    if (/[{}]/.test(prefix))
      throw new HubError('invalid-option', 'The Redis key prefix must not contain { or }.');
    url.searchParams.delete('prefix');
    const historySize = options.historySize ?? DEFAULT_REDIS_HISTORY;
    if (!Number.isSafeInteger(historySize) || historySize < 1) {
      throw new HubError(
        'invalid-option',
        `The Redis historySize must be a positive integer, got ${historySize}.`,
      );
    }
    this.options = {
      url: url.toString(),
      prefix,
      historySize,
      cluster: options.cluster ?? false,
      readBlockMs: options.readBlockMs ?? 5000,
      presenceTtlMs: options.presenceTtlMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      storeTimeoutMs: options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS,
      maxWaitingAppends: options.maxWaitingAppends ?? DEFAULT_MAX_WAITING_APPENDS,
    };
    for (const name of ['storeTimeoutMs', 'maxWaitingAppends'] as const) {
      const value = this.options[name];
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new HubError('invalid-option', `The Redis ${name} must be a positive integer, got ${value}.`);
      }
    }
    this.logger = options.logger ?? stderrLogger;
    this.waitLog = new BurstLog(
      this.logger,
      `Publishes wait for the connection to Redis to come back (up to ${this.options.storeTimeoutMs} ms, then 503).`,
    );
    // One hash tag for all keys: a Redis Cluster keeps them in one slot, so the append script may touch several.
    const tag = `{${prefix}}`;
    this.keys = { stream: `${tag}:updates`, ids: `${tag}:ids` };
    this.presence = new RedisPresence({
      tag,
      nodeId: this.nodeId,
      ttlMs: this.options.presenceTtlMs,
      client: () => this.link?.commands,
      logger: this.logger,
    });
  }

  async open(dispatch: Dispatch): Promise<void> {
    const { url, cluster, connectTimeoutMs, storeTimeoutMs, readBlockMs } = this.options;
    const link = new RedisLink({
      url,
      cluster,
      connectTimeoutMs,
      storeTimeoutMs,
      readBlockMs,
      logger: this.logger,
      faults: this.faults,
    });
    this.link = link;
    try {
      await link.connect();
    } catch (error) {
      await this.close();
      throw new HubError(
        'invalid-option',
        `Cannot connect to Redis at ${redact(this.options.url)}: ${(error as Error).message}`,
      );
    }
    const commands = link.commands;
    defineAppend(commands);
    const [last] = await commands.xrevrange(this.keys.stream, '+', '-', 'COUNT', 1);
    if (last !== undefined) {
      this.position = last[0];
      this.lastId = updateOf(last[0], last[1]).id;
    }
    this.dispatch = dispatch;
    this.loop = this.readLoop(link.reader);
    void this.beat();
    this.beatTimer = setInterval(() => void this.beat(), this.presence.renewEveryMs);
    this.beatTimer.unref();
  }

  /** The one blocking read per node: everything appended by any node, in stream order. */
  private async readLoop(reader: RedisClient): Promise<void> {
    let backoff = 100;
    while (!this.closed) {
      try {
        const reply = await reader.xread(
          'COUNT',
          1000,
          'BLOCK',
          this.options.readBlockMs,
          'STREAMS',
          this.keys.stream,
          this.position,
        );
        if (this.readerFailing !== undefined) {
          this.logger.info(
            { store: 'redis', position: this.position },
            'Reading from Redis again, from the last position delivered.',
          );
          this.readerFailing = undefined;
        }
        backoff = 100;
        if (reply === null) await this.readOnIfBehind(reader);
        for (const [, entries] of reply ?? []) {
          for (const [position, fields] of entries) {
            this.position = position;
            const update = updateOf(position, fields);
            this.lastId = update.id;
            this.recent.set(position, update.id);
            if (this.recent.size > RECENT_DELIVERIES)
              this.recent.delete(this.recent.keys().next().value as string);
            this.dispatch?.(update);
          }
        }
      } catch (error) {
        if (this.closed) return;
        const message = (error as Error).message;
        if (this.readerFailing === undefined) {
          this.logger.warn(
            { store: 'redis', error: message },
            'Lost the Redis read loop; subscribers stay connected, retrying.',
          );
        }
        this.readerFailing = message;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /**
   * Nothing came during a blocking read: checks that the stream has not gone back behind the position
   * this node read up to. It does when Redis came back without its data (or from an older copy) and
   * numbers new entries below that position (its clock behind, or the old IDs ahead): reading on from
   * there would skip them until the clock catches up.
   */
  private async readOnIfBehind(reader: RedisClient): Promise<void> {
    const [newest] = await reader.xrevrange(this.keys.stream, '+', '-', 'COUNT', 1);
    if (newest === undefined || seqOf(newest[0]) >= seqOf(this.position)) return;
    // An entry this node delivered: an older copy of the same stream, read on after it; else a new stream.
    const known = this.recent.get(newest[0]) === updateOf(newest[0], newest[1]).id;
    const from = known ? newest[0] : '0-0';
    this.logger.warn(
      { store: 'redis', position: this.position, newest: newest[0], from },
      known
        ? 'The Redis stream is behind the position this node read up to (restored from an older copy): reading on after its newest entry.'
        : 'The Redis stream is behind the position this node read up to (Redis restarted without its data): reading it from its start.',
    );
    this.position = from;
  }

  /** The command connection, or an error when the store is not open. */
  private client(): RedisClient {
    if (this.link === undefined || this.closed) throw new Error('The Redis store is not open.');
    return this.link.commands;
  }

  /**
   * Stores an update within `storeTimeoutMs`: while the connection is being made again it waits for
   * it (at most `maxWaitingAppends` publishes wait at once), and an append lost with a connection is
   * sent again (stored once: the script knows its ID). Past the deadline, a 503 with `Retry-After`.
   */
  async append(update: Update): Promise<StoredUpdate> {
    const commands = this.client();
    const link = this.link as RedisLink;
    if (this.waitingAppends >= this.options.maxWaitingAppends) {
      throw engineUnavailable('Redis', `${this.waitingAppends} publishes are waiting for it already`);
    }
    this.waitingAppends++;
    let waited = false;
    const lostBefore = link.losses;
    try {
      const position = await rideThrough(
        async (remainingMs) => {
          if (commands.status !== 'ready') {
            if (!waited) this.waitLog.note({ store: 'redis', status: commands.status });
            waited = true;
            await link.ready(remainingMs);
          }
          const { stream, ids } = this.keys;
          const appended = appendEntry(commands, stream, ids, this.options.historySize, update);
          return withDeadline(appended, Math.max(1, remainingMs), 'Redis append');
        },
        Date.now() + this.options.storeTimeoutMs,
        (error) => {
          waited = true;
          return retryable(error);
        },
      );
      // Waited for the connection, tried again, or sent on a connection lost before it answered (ioredis sends it again).
      if (waited || link.losses !== lostBefore) this.faults.appendsRiddenThrough++;
      // Dispatch comes back through the read loop, on this node as on every other.
      return stored(update, seqOf(position));
    } catch (error) {
      if (error instanceof HubError) throw error;
      throw engineUnavailable('Redis', error);
    } finally {
      this.waitingAppends--;
    }
  }

  async replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult> {
    const commands = this.client();
    let start = '-';
    let seq: number | undefined;
    if (lastEventId !== 'earliest') {
      const score = await commands.zscore(this.keys.ids, lastEventId);
      if (score !== null) {
        seq = Number(score);
        start = `(${positionOf(seq)}`;
      }
    }
    for (;;) {
      const entries = await commands.xrange(this.keys.stream, start, '+', 'COUNT', 1000);
      for (const [position, fields] of entries) visit(updateOf(position, fields));
      const last = entries.at(-1);
      if (entries.length < 1000 || last === undefined) break;
      start = `(${last[0]}`;
    }
    // This node's read loop may not have reached the requested update yet: the hub must not send it again.
    return { found: seq !== undefined, seq };
  }

  lastEventId(): string | undefined {
    return this.lastId;
  }

  historySize(): number {
    return this.length;
  }

  health(): StoreHealth {
    if (this.closed) return { ok: false, detail: 'closed' };
    const status = this.link?.commands.status;
    if (status !== 'ready') return { ok: false, detail: `Redis connection ${status ?? 'missing'}` };
    if (this.readerFailing !== undefined) return { ok: false, detail: `read loop: ${this.readerFailing}` };
    return { ok: true };
  }

  /**
   * The node's beat, every presence renewal period: keeps this node listed with its subscriptions, and
   * reads the history's length, in one round trip.
   */
  private async beat(): Promise<void> {
    const commands = this.link?.commands;
    // One beat at a time: one that waits for a silent Redis is not joined by the next ones.
    if (commands === undefined || this.closed || this.beating) return;
    this.beating = true;
    try {
      const transaction = commands.multi();
      this.presence.renew(transaction);
      transaction.xlen(this.keys.stream);
      const results = await transaction.exec();
      const length = results?.at(-1)?.[1];
      if (typeof length === 'number') this.length = length;
    } catch (error) {
      this.presence.failed(error);
    } finally {
      this.beating = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatch = undefined;
    if (this.beatTimer) clearInterval(this.beatTimer);
    const commands = this.link?.commands;
    if (commands?.status === 'ready') {
      // A Redis that stopped answering (a partition) keeps a connection 'ready' and never replies:
      // the hub's shutdown must not wait on it.
      const transaction = commands.multi();
      this.presence.leave(transaction);
      await Promise.race([transaction.exec().catch(() => undefined), sleep(CLOSE_CLEANUP_MS)]);
    }
    this.link?.close();
    await this.loop?.catch(() => undefined);
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
