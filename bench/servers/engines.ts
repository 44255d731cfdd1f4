/**
 * The engines of the hub's shared stores (Redis, PostgreSQL, NATS JetStream) in the benchmark: is
 * one there, a space of the run's own on it (a prefix), the engine's own CPU working for the hub
 * (it is not in the hub's process tree, so it is sampled apart), and removing the space after the
 * run. Each is reached with the client library its store uses.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sampleProcesses, sampleTree, type TreeSample } from '../lib/proc.js';
import { childrenOf, listeningPid, localPortsTo } from '../lib/sockets.js';

export type EngineName = 'redis' | 'postgres' | 'nats';

/** Deadline of every call the benchmark makes to an engine (checking it, reading it, cleaning up). */
const ENGINE_TIMEOUT_MS = 5_000;
/** How long the availability check waits for a connection. */
const CONNECT_TIMEOUT_MS = 2_000;

export interface Engine {
  /** Undefined when the engine answers, else why not (the report prints it). */
  unavailable(): Promise<string | undefined>;
  /** A new space for one run. */
  newSpace(): EngineSpace;
  /**
   * Samples the engine's CPU that works for the hub `hubPid`, read at each of the load generator's
   * marks; undefined when the engine does not run on this machine (or cannot be seen).
   */
  sampler(hubPid: number): Promise<(() => TreeSample) | undefined>;
}

/** One run's space on an engine: a prefix of its own. */
export interface EngineSpace {
  /** What `--store` is given. */
  url: string;
  /** Removes what the run left there. */
  drop(): Promise<void>;
}

interface EngineParts {
  unavailable(): Promise<string | undefined>;
  sampler(hubPid: number): Promise<(() => TreeSample) | undefined>;
  /** The engine's URL, a space's `prefix` added. */
  url: string;
  newPrefix(): string;
  drop(prefix: string): Promise<void>;
}

function engine(parts: EngineParts): Engine {
  return {
    unavailable: parts.unavailable,
    sampler: parts.sampler,
    newSpace() {
      const prefix = parts.newPrefix();
      const url = new URL(parts.url);
      url.searchParams.set('prefix', prefix);
      return { url: url.toString(), drop: () => parts.drop(prefix) };
    },
  };
}

const hex = () => randomBytes(6).toString('hex');

function isLocal(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function redisClient(): Redis {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: ENGINE_TIMEOUT_MS,
  });
  client.on('error', () => {});
  return client;
}

async function withRedis<T>(use: (client: Redis) => Promise<T>): Promise<T> {
  const client = redisClient();
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** Redis: the whole server counts (one process; the run's keys are `{prefix}:…`). */
const redis = engine({
  url: REDIS_URL,
  async unavailable() {
    try {
      await withRedis((client) => client.ping());
      return undefined;
    } catch (error) {
      return `no Redis at ${REDIS_URL} (${(error as Error).message}); set REDIS_URL`;
    }
  },
  newPrefix: () => `siarbench-${hex()}`,
  async sampler() {
    if (!isLocal(REDIS_URL)) return undefined;
    const info = await withRedis((client) => client.info('server'));
    const match = info.match(/^process_id:(\d+)/m);
    if (!match) return undefined;
    const pid = Number(match[1]);
    return () => sampleTree(pid);
  },
  async drop(prefix) {
    await withRedis(async (client) => {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
    });
  },
});

const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function withPostgres<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: POSTGRES_URL,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: ENGINE_TIMEOUT_MS,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * PostgreSQL: a process per connection, so what counts is the backends serving the hub's
 * connections (a backend's title names its client's address and port), not the whole server,
 * which other programs on this machine may use meanwhile. Read at each mark, since the hub's pool
 * opens connections as it needs them. The WAL writer and checkpointer, shared by all, are left out.
 */
const postgres = engine({
  url: POSTGRES_URL,
  async unavailable() {
    try {
      await withPostgres((client) => client.query('SELECT 1'));
      return undefined;
    } catch (error) {
      return `no PostgreSQL at ${POSTGRES_URL} (${(error as Error).message}); set POSTGRES_URL`;
    }
  },
  // Table names: lower-case letters, digits and `_`.
  newPrefix: () => `siarbench_${hex()}`,
  async sampler(hubPid) {
    if (!isLocal(POSTGRES_URL)) return undefined;
    const port = Number(new URL(POSTGRES_URL).port || 5432);
    const postmaster = listeningPid(port);
    if (postmaster === undefined) return undefined;
    return () => {
      const ports = localPortsTo(hubPid, port);
      const backends = childrenOf(postmaster).filter((child) => {
        const client = child.commandLine.match(/\((\d+)\)/);
        return client !== null && ports.has(Number(client[1]));
      });
      return sampleProcesses(backends.map((backend) => backend.pid));
    };
  },
  async drop(prefix) {
    await withPostgres(async (client) => {
      const tables = await client.query<{ name: string }>(
        `SELECT quote_ident(tablename) AS name FROM pg_tables
         WHERE schemaname = current_schema() AND starts_with(tablename, $1)`,
        [`${prefix}_`],
      );
      for (const { name } of tables.rows) await client.query(`DROP TABLE IF EXISTS ${name}`);
      const functions = await client.query<{ name: string }>(
        `SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = current_schema() AND starts_with(p.proname, $1)`,
        [`${prefix}_`],
      );
      for (const { name } of functions.rows) await client.query(`DROP FUNCTION IF EXISTS ${name}`);
    });
  },
});

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

async function withNats<T>(
  use: (jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>,
): Promise<T> {
  const connection = await natsConnect({
    servers: new URL(NATS_URL).host,
    timeout: CONNECT_TIMEOUT_MS,
    reconnect: false,
  });
  try {
    return await use(await jetstreamManager(connection, { timeout: ENGINE_TIMEOUT_MS }));
  } finally {
    await connection.close();
  }
}

/** NATS: the whole server counts (one process; the run's streams are `<prefix>-…`). */
const nats = engine({
  url: NATS_URL,
  async unavailable() {
    try {
      await withNats((jsm) => jsm.getAccountInfo());
      return undefined;
    } catch (error) {
      return `no NATS with JetStream at ${NATS_URL} (${(error as Error).message}); set NATS_URL`;
    }
  },
  newPrefix: () => `siarbench-${hex()}`,
  async sampler() {
    if (!isLocal(NATS_URL)) return undefined;
    const pid = listeningPid(Number(new URL(NATS_URL).port || 4222));
    return pid === undefined ? undefined : () => sampleTree(pid);
  },
  async drop(prefix) {
    await withNats(async (jsm) => {
      const names: string[] = [];
      for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}-`)) names.push(name);
      for (const name of names) await jsm.streams.delete(name);
    });
  },
});

export const ENGINES: Record<EngineName, Engine> = { redis, postgres, nats };
