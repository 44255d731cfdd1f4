import type { HubStore } from './store.js';

/** A store specification (`--store`, `SIAR_STORE`) that names no store Siar has, or names one badly. */
export class StoreSpecError extends Error {
  override name = 'StoreSpecError';
}

/** What {@link openStore} passes on to the store it opens. */
export interface OpenStoreOptions {
  /** Updates kept in the history; each store's own default when absent. */
  historySize?: number;
  /** Redis only: talk to a Redis Cluster rather than one server. */
  redisCluster?: boolean;
  /** Longest any call waits for the engine (SQLite: for the file's lock), in ms; each store's default when absent. */
  storeTimeoutMs?: number;
}

/**
 * Opens the store a specification names: `memory` (undefined: the hub's own memory store),
 * `sqlite:<path>`, `redis://…` / `rediss://…`, `postgres://…` / `postgresql://…`, `nats://…`.
 * Each store's module (and its client library) is loaded only when it is named, so a memory hub
 * starts without them.
 */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<HubStore | undefined> {
  const { historySize, storeTimeoutMs } = options;
  if (spec === 'memory') return undefined;
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (path === '')
      throw new StoreSpecError('--store sqlite: needs a file path, e.g. --store sqlite:hub.db');
    const { SqliteStore } = await import('./sqlite.js');
    return new SqliteStore({ path, historySize, storeTimeoutMs });
  }
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) {
    const { RedisStore } = await import('./redis.js');
    return new RedisStore({ url: spec, historySize, storeTimeoutMs, cluster: options.redisCluster ?? false });
  }
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://')) {
    const { PostgresStore } = await import('./postgres.js');
    return new PostgresStore({ url: spec, historySize, storeTimeoutMs });
  }
  if (spec.startsWith('nats://')) {
    const { NatsStore } = await import('./nats.js');
    return new NatsStore({ url: spec, historySize, storeTimeoutMs });
  }
  throw new StoreSpecError(
    `--store must be "memory", "sqlite:<path>", "redis://host:port[/db]", "postgres://user@host:port/db" or "nats://host:port", got "${spec}".`,
  );
}
