import { Cluster, Redis, type RedisOptions, ReplyError } from 'ioredis';
import type { Logger } from '../../server/logger.js';
import { BurstLog } from '../burst-log.js';
import { StoreTimeoutError, withDeadline } from './engine.js';
import type { StoreFaults } from './store.js';

/** A connection to one Redis server or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** The first wait before connecting again; it doubles up to the next one (ms). */
const FIRST_RECONNECT_MS = 50;
/** The longest wait before connecting again (ms): a Redis back is found within it. */
const LONGEST_RECONNECT_MS = 1000;
/** What ioredis says when it drops a connection on which nothing arrived within `socketTimeout`. */
const SOCKET_TIMEOUT = /^Socket timeout/;

const reconnectAfter = (attempt: number) =>
  Math.min(FIRST_RECONNECT_MS * 2 ** Math.min(attempt - 1, 10), LONGEST_RECONNECT_MS);

/**
 * Whether an append that failed may be sent again: any failure of the link (a reset, a dropped or
 * silent connection, a connection not ready), and Redis' own "not now" replies. The append script
 * stores an ID once, so a resent append that had been stored is not stored twice.
 */
export function retryable(error: unknown): boolean {
  if (error instanceof ReplyError)
    return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)/.test(String((error as Error).message));
  return !(error instanceof StoreTimeoutError);
}

export interface RedisLinkOptions {
  /** `redis://…` or `rediss://…`, without the prefix parameter. */
  url: string;
  cluster: boolean;
  connectTimeoutMs: number;
  /** Longest a command may wait with nothing coming from Redis before its connection is dropped. */
  storeTimeoutMs: number;
  /** How long the reader's XREAD blocks: nothing for that long is no sign of a silent link. */
  readBlockMs: number;
  logger: Logger;
  /** Where the connections replaced are counted. */
  faults: Required<StoreFaults>;
}

/**
 * One node's two connections to Redis: the commands (appends, replays, presence) and the reader's
 * one blocking XREAD. The command connection queues nothing itself (a publish waits for it, bounded,
 * with {@link ready}); the reader's XREAD waits for its own. On either, Redis sending nothing for
 * `socketTimeout` while a command waits drops the connection, which ioredis then makes again: a
 * partition is found within that time, not when TCP gives up. Both reconnect by themselves, soon.
 */
export class RedisLink {
  readonly commands: RedisClient;
  readonly reader: RedisClient;
  /** Times the command connection was lost: an append that saw it change waited for a reconnection. */
  losses = 0;
  private readonly waiters = new Set<() => void>();
  private closing = false;

  constructor(private readonly options: RedisLinkOptions) {
    this.commands = this.connection('commands', false);
    this.reader = this.connection('reader', true);
    const replaced = new BurstLog(
      options.logger,
      'Redis sent nothing on a connection with commands waiting (a partition?): it is dropped and made again.',
    );
    for (const [name, client] of [
      ['commands', this.commands],
      ['reader', this.reader],
    ] as const) {
      client.on('error', (error: Error) => {
        // Otherwise reported by the failing command or read; ioredis reconnects by itself.
        if (!SOCKET_TIMEOUT.test(error.message)) return;
        options.faults.linksReplaced++;
        replaced.note({ store: 'redis', connection: name, error: error.message });
      });
    }
    let lost = false;
    this.commands.on('close', () => {
      this.losses++;
      if (this.closing || lost) return;
      lost = true;
      options.logger.warn(
        { store: 'redis' },
        `Lost the connection to Redis: reconnecting; publishes wait for it up to ${options.storeTimeoutMs} ms (then 503), subscribers stay connected.`,
      );
    });
    this.commands.on('ready', () => {
      for (const resume of this.waiters) resume();
      this.waiters.clear();
      if (!lost) return;
      lost = false;
      options.logger.info({ store: 'redis' }, 'Connected to Redis again: publishes are accepted.');
    });
  }

  private connection(name: string, blocking: boolean): RedisClient {
    const { url, connectTimeoutMs, storeTimeoutMs, readBlockMs } = this.options;
    const options: RedisOptions = {
      connectionName: `siar-${name}`,
      lazyConnect: true,
      enableOfflineQueue: blocking,
      maxRetriesPerRequest: blocking ? null : 1,
      retryStrategy: reconnectAfter,
      connectTimeout: connectTimeoutMs,
      // A blocking read answers within readBlockMs even when nothing came (nil).
      socketTimeout: blocking ? readBlockMs + storeTimeoutMs : storeTimeoutMs,
    };
    if (!this.options.cluster) return new Redis(url, options);
    const parsed = new URL(url);
    return new Cluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], {
      redisOptions: {
        ...options,
        username: parsed.username || undefined,
        password: parsed.password || undefined,
        tls: parsed.protocol === 'rediss:' ? {} : undefined,
      },
      // The cluster's own option (redisOptions' is for its node connections): connect() connects.
      lazyConnect: true,
      enableOfflineQueue: blocking,
      clusterRetryStrategy: reconnectAfter,
    });
  }

  /** Makes both connections (the first time). */
  async connect(): Promise<void> {
    await Promise.all([this.commands.connect(), this.reader.connect()]);
  }

  /** Resolves once the command connection is ready, or rejects after `ms`. */
  ready(ms: number): Promise<void> {
    if (this.commands.status === 'ready') return Promise.resolve();
    let resume: (() => void) | undefined;
    const ready = new Promise<void>((resolve) => {
      resume = resolve;
      this.waiters.add(resolve);
    });
    return withDeadline(ready, ms, 'Redis reconnection').finally(() => {
      if (resume) this.waiters.delete(resume);
    });
  }

  /** Drops both connections (the blocked read ends with its own). */
  close(): void {
    this.closing = true;
    this.reader.disconnect();
    this.commands.disconnect();
  }
}
