import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { type Logger, stderrLogger } from '../../server/logger.js';
import { HubError } from '../errors.js';
import type { SubscriptionDocument } from '../subscriptions.js';
import { type StoredUpdate, stored, type Update, uuidv7 } from '../update.js';
import type { Dispatch, HubStore, ReplayResult, StoreHealth, SubscriptionPresence } from './store.js';

/** Default history of the Redis store: about the newest 10,000 updates (`MAXLEN ~`). */
export const DEFAULT_REDIS_HISTORY = 10_000;

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
  logger?: Logger;
}

// A stream position `ms-n` as one number that sorts the same way: ms × 2048 + n. Doubles hold it
// exactly until the year 2109, for up to 2048 entries in one millisecond (Redis makes a few hundred at most).
const SEQ_PER_MS = 2048;

function seqOf(position: string): number {
  const dash = position.indexOf('-');
  return Number(position.slice(0, dash)) * SEQ_PER_MS + Number(position.slice(dash + 1));
}

function positionOf(seq: number): string {
  return `${Math.floor(seq / SEQ_PER_MS)}-${seq % SEQ_PER_MS}`;
}

/**
 * Appends an update to the stream, remembers where its ID sits (for replays from a client-chosen
 * ID), and forgets the positions of the IDs the stream trimmed away — all in one atomic step.
 * An ID the history still holds is not appended again: the client resends a command whose answer
 * was lost with its connection, and a publisher retries a 503 that came after the append.
 * KEYS: stream, ids. ARGV: maxlen, id, topics, data, type, retry, private.
 */
const APPEND_SCRIPT = `
local known = redis.call('ZSCORE', KEYS[2], ARGV[2])
if known then
  local seq = tonumber(known)
  return string.format('%.0f-%d', math.floor(seq / ${SEQ_PER_MS}), seq % ${SEQ_PER_MS})
end
local position = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  'id', ARGV[2], 'topics', ARGV[3], 'data', ARGV[4], 'type', ARGV[5], 'retry', ARGV[6], 'private', ARGV[7])
local dash = string.find(position, '-', 1, true)
local score = tonumber(string.sub(position, 1, dash - 1)) * ${SEQ_PER_MS} + tonumber(string.sub(position, dash + 1))
redis.call('ZADD', KEYS[2], score, ARGV[2])
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]
local firstDash = string.find(first, '-', 1, true)
local firstScore = tonumber(string.sub(first, 1, firstDash - 1)) * ${SEQ_PER_MS} + tonumber(string.sub(first, firstDash + 1))
-- %.0f, not '..': Lua writes a number into a string with 14 digits, too few for a score.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('(%.0f', firstScore))
return position
`;

type Client = Redis | Cluster;
type Entry = [position: string, fields: string[]];

function updateOf(position: string, fields: string[]): StoredUpdate {
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i] as string] = fields[i + 1] as string;
  const retry = values.retry;
  return stored(
    {
      id: values.id ?? position,
      topics: JSON.parse(values.topics ?? '[]') as string[],
      data: values.data ?? '',
      type: values.type ? values.type : undefined,
      retry: retry ? Number(retry) : undefined,
      private: values.private === '1',
    },
    seqOf(position),
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Stream positions (and update IDs) this node delivered last, to recognise a Redis restored from an older copy. */
const RECENT_DELIVERIES = 1024;
/** Longest `close()` waits for Redis to drop this node's entries (ms); they expire by themselves anyway. */
const CLOSE_CLEANUP_MS = 1000;

/**
 * Many hub nodes on one Redis (6.2+) or Redis Cluster. A Redis Stream is both the history and the
 * fan-out: publishing is `XADD` (the publisher hears back only once it succeeded), and every node
 * runs one blocking `XREAD` loop that dispatches to its own subscribers. When Redis goes away the
 * node keeps its subscribers, refuses publishes (503), reconnects with backoff and reads on from
 * the last position it delivered, so nothing appended meanwhile is skipped. An update whose ID the
 * history still holds is stored once: a publisher that got a 503 may retry with the same `id`.
 */
export class RedisStore implements HubStore {
  readonly kind = 'redis';
  /** This node's identifier in the node list. */
  readonly nodeId = `urn:uuid:${uuidv7()}`;
  private readonly options: Required<Omit<RedisStoreOptions, 'logger' | 'cluster'>> & { cluster: boolean };
  private readonly logger: Logger;
  private readonly keys: {
    stream: string;
    ids: string;
    nodes: string;
    subscriptions: (node: string) => string;
  };
  private commands: Client | undefined;
  private reader: Client | undefined;
  private dispatch: Dispatch | undefined;
  private position = '0-0';
  private lastId: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private readerFailing: string | undefined;
  private presenceTimer: NodeJS.Timeout | undefined;
  private readonly localSubscriptions = new Map<string, string>();
  private readonly recent = new Map<string, string>();

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
    };
    this.logger = options.logger ?? stderrLogger;
    // One hash tag for all keys: a Redis Cluster keeps them in one slot, so the append script may touch several.
    const tag = `{${prefix}}`;
    this.keys = {
      stream: `${tag}:updates`,
      ids: `${tag}:ids`,
      nodes: `${tag}:nodes`,
      subscriptions: (node) => `${tag}:subscriptions:${node}`,
    };
  }

  /** A new connection: commands fail at once while Redis is away (a publish gets 503, not a wait). */
  private connect(name: string, blocking: boolean): Client {
    const options: RedisOptions = {
      connectionName: `siar-${name}`,
      lazyConnect: true,
      enableOfflineQueue: blocking,
      maxRetriesPerRequest: blocking ? null : 1,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 5000),
      connectTimeout: this.options.connectTimeoutMs,
    };
    if (!this.options.cluster) return new Redis(this.options.url, options);
    const url = new URL(this.options.url);
    return new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
      redisOptions: {
        ...options,
        username: url.username || undefined,
        password: url.password || undefined,
        tls: url.protocol === 'rediss:' ? {} : undefined,
      },
      // The cluster's own option (redisOptions' is for its node connections): open() connects.
      lazyConnect: true,
      enableOfflineQueue: blocking,
      clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 5000),
    });
  }

  async open(dispatch: Dispatch): Promise<void> {
    this.commands = this.connect('commands', false);
    this.reader = this.connect('reader', true);
    for (const client of [this.commands, this.reader]) {
      client.on('error', () => {
        // Reported by the failing command or read; ioredis reconnects by itself.
      });
    }
    let lost = false;
    this.commands.on('close', () => {
      if (this.closed || lost) return;
      lost = true;
      this.logger.warn(
        { store: 'redis' },
        'Lost the connection to Redis: publishes get 503, subscribers stay connected; reconnecting.',
      );
    });
    this.commands.on('ready', () => {
      if (!lost) return;
      lost = false;
      this.logger.info({ store: 'redis' }, 'Connected to Redis again: publishes are accepted.');
    });
    try {
      await Promise.all([this.commands.connect(), this.reader.connect()]);
    } catch (error) {
      await this.close();
      throw new HubError(
        'invalid-option',
        `Cannot connect to Redis at ${redact(this.options.url)}: ${(error as Error).message}`,
      );
    }
    const commands = this.commands;
    commands.defineCommand('siarAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    const newest = (await commands.xrevrange(this.keys.stream, '+', '-', 'COUNT', 1)) as Entry[];
    const last = newest[0];
    if (last !== undefined) {
      this.position = last[0];
      this.lastId = updateOf(last[0], last[1]).id;
    }
    this.dispatch = dispatch;
    this.loop = this.readLoop();
    this.beatPresence();
  }

  /** The one blocking read per node: everything appended by any node, in stream order. */
  private async readLoop(): Promise<void> {
    let backoff = 100;
    while (!this.closed) {
      try {
        const reply = (await (this.reader as Client).xread(
          'COUNT',
          1000,
          'BLOCK',
          this.options.readBlockMs,
          'STREAMS',
          this.keys.stream,
          this.position,
        )) as Array<[string, Entry[]]> | null;
        if (this.readerFailing !== undefined) {
          this.logger.info(
            { store: 'redis', position: this.position },
            'Reading from Redis again, from the last position delivered.',
          );
          this.readerFailing = undefined;
        }
        backoff = 100;
        if (reply === null) await this.readOnIfBehind();
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
  private async readOnIfBehind(): Promise<void> {
    const reader = this.reader as Client;
    const newest = ((await reader.xrevrange(this.keys.stream, '+', '-', 'COUNT', 1)) as Entry[])[0];
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

  async append(update: Update): Promise<StoredUpdate> {
    const commands = this.commands;
    if (commands === undefined || this.closed) throw new Error('The Redis store is not open.');
    const position = (await (
      commands as Client & { siarAppend: (...args: unknown[]) => Promise<string> }
    ).siarAppend(
      this.keys.stream,
      this.keys.ids,
      this.options.historySize,
      update.id,
      JSON.stringify(update.topics),
      update.data,
      update.type ?? '',
      update.retry === undefined ? '' : String(update.retry),
      update.private ? '1' : '0',
    )) as string;
    // Dispatch comes back through the read loop, on this node as on every other.
    return stored(update, seqOf(position));
  }

  async replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult> {
    const commands = this.commands as Client;
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
      const entries = (await commands.xrange(this.keys.stream, start, '+', 'COUNT', 1000)) as Entry[];
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
    return this.cachedLength;
  }

  private cachedLength = 0;

  health(): StoreHealth {
    if (this.closed) return { ok: false, detail: 'closed' };
    const status = this.commands?.status;
    if (status !== 'ready') return { ok: false, detail: `Redis connection ${status ?? 'missing'}` };
    if (this.readerFailing !== undefined) return { ok: false, detail: `read loop: ${this.readerFailing}` };
    return { ok: true };
  }

  /** The subscriptions of every live node, for the subscriptions API. */
  readonly presence: SubscriptionPresence = {
    add: (documents: SubscriptionDocument[]) => {
      for (const document of documents) this.localSubscriptions.set(document.id, JSON.stringify(document));
      const commands = this.commands;
      if (commands === undefined || documents.length === 0) return;
      const key = this.keys.subscriptions(this.nodeId);
      commands
        .hset(key, ...documents.flatMap((document) => [document.id, JSON.stringify(document)]))
        .then(() => commands.pexpire(key, this.options.presenceTtlMs))
        .catch((error: unknown) => this.presenceFailed(error));
    },
    remove: (ids: string[]) => {
      for (const id of ids) this.localSubscriptions.delete(id);
      if (this.commands === undefined || ids.length === 0) return;
      this.commands
        .hdel(this.keys.subscriptions(this.nodeId), ...ids)
        .catch((error: unknown) => this.presenceFailed(error));
    },
    list: async () => {
      const commands = this.commands as Client;
      const now = Date.now();
      const nodes = await commands.zrangebyscore(this.keys.nodes, now, '+inf');
      const documents: SubscriptionDocument[] = [];
      for (const node of nodes) {
        const values = await commands.hvals(this.keys.subscriptions(node));
        for (const value of values) documents.push(JSON.parse(value) as SubscriptionDocument);
      }
      return documents;
    },
    nodes: async () => {
      const commands = this.commands as Client;
      const now = Date.now();
      const nodes = await commands.zrangebyscore(this.keys.nodes, now, '+inf');
      return Promise.all(
        nodes.map(async (id) => ({
          id,
          subscriptions: await commands.hlen(this.keys.subscriptions(id)),
          self: id === this.nodeId,
        })),
      );
    },
  };

  private presenceFailed(error: unknown): void {
    this.logger.warn(
      { store: 'redis', error: String(error) },
      'Could not update the subscription list in Redis.',
    );
  }

  /** Keeps this node listed (and its subscriptions alive); a node that stops beating drops out after presenceTtlMs. */
  private beatPresence(): void {
    const beat = async () => {
      const commands = this.commands;
      if (commands === undefined || this.closed) return;
      const ttl = this.options.presenceTtlMs;
      const key = this.keys.subscriptions(this.nodeId);
      try {
        const pipeline = commands.multi();
        pipeline.zadd(this.keys.nodes, Date.now() + ttl, this.nodeId);
        pipeline.zremrangebyscore(this.keys.nodes, '-inf', Date.now());
        // After an outage Redis may have dropped this node's list: write it again whole.
        if (this.localSubscriptions.size > 0) pipeline.hset(key, ...[...this.localSubscriptions].flat());
        pipeline.pexpire(key, ttl);
        pipeline.xlen(this.keys.stream);
        const results = await pipeline.exec();
        const length = results?.at(-1)?.[1];
        if (typeof length === 'number') this.cachedLength = length;
      } catch (error) {
        this.presenceFailed(error);
      }
    };
    void beat();
    this.presenceTimer = setInterval(beat, Math.max(100, Math.floor(this.options.presenceTtlMs / 3)));
    this.presenceTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatch = undefined;
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    const commands = this.commands;
    if (commands?.status === 'ready') {
      // A Redis that stopped answering (a partition) keeps a connection 'ready' and never replies:
      // the hub's shutdown must not wait on it.
      await Promise.race([
        commands
          .multi()
          .zrem(this.keys.nodes, this.nodeId)
          .del(this.keys.subscriptions(this.nodeId))
          .exec()
          .catch(() => undefined),
        sleep(CLOSE_CLEANUP_MS),
      ]);
    }
    // The blocked read ends when its connection does.
    this.reader?.disconnect();
    commands?.disconnect();
    await this.loop?.catch(() => undefined);
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
