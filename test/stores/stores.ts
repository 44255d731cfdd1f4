/**
 * Every store the contract suite runs against, each made in one place: its engine (checked once
 * per test file: a store whose engine does not answer is skipped, or fails under CI=true), a space
 * of its own per test (a file, a key prefix, a table prefix, a stream name) removed afterwards,
 * and the options to make one more node on that space, in this process or in a child.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import pg from 'pg';
import type { HubStore } from '../../src/hub/index.js';
import type { Logger } from '../../src/server/index.js';
import { deleteKeys, REDIS_URL, redisClient } from '../helpers/redis.js';
import { makeStore, type StoreName, type StoreSpec } from '../helpers/store-spec.js';
import type { Teardown } from '../helpers/teardown.js';

/** What a test may ask of a node's store; each store takes what it has. */
export interface NodeOptions {
  historySize?: number;
  presenceTtlMs?: number;
  storeTimeoutMs?: number;
  /** The engine's port on 127.0.0.1 (a TCP proxy in front of it), instead of its own. */
  port?: number;
}

/** One test's space on a store's engine. */
export interface StoreSpace {
  spec(options?: NodeOptions): StoreSpec;
  /** A new store on this space: for a shared store, one more node of the same hub. */
  make(options?: NodeOptions, logger?: Logger): HubStore;
}

export interface StoreFactory {
  name: StoreName;
  /** Several nodes share one history and one order. */
  shared: boolean;
  /** What was published survives closing the store (a new one on the same space has it). */
  durable: boolean;
  /** Keeps exactly historySize updates (Redis trims about it: MAXLEN ~). */
  exactHistory: boolean;
  /** The engine's own port (what a proxy forwards to), for shared stores. */
  enginePort?: number;
  /** Why the engine cannot be used, or undefined. */
  problem: string | undefined;
  /** A fresh space; `teardown` removes it after the test. */
  space(teardown: Teardown): StoreSpace;
}

/** PostgreSQL: `POSTGRES_URL`, else the local server as `postgres`, else as `root` (both trust auth). */
const POSTGRES_URLS = process.env.POSTGRES_URL
  ? [process.env.POSTGRES_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];
/** NATS with JetStream: `NATS_URL`, else the local server. */
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

async function postgresProblem(): Promise<{ url?: string; problem?: string }> {
  const problems: string[] = [];
  for (const url of POSTGRES_URLS) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { url };
    } catch (error) {
      problems.push(`${url}: ${(error as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { problem: problems.join('; ') };
}

async function natsProblem(): Promise<string | undefined> {
  try {
    const connection = await natsConnect({
      servers: new URL(NATS_URL).host,
      timeout: 2000,
      reconnect: false,
    });
    try {
      await (await jetstreamManager(connection, { timeout: 2000 })).getAccountInfo();
    } finally {
      await connection.close();
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function redisProblem(): Promise<string | undefined> {
  const client = redisClient();
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.disconnect();
  }
}

const postgres = await postgresProblem();
/** The PostgreSQL URL the tests use (the first that answered). */
export const POSTGRES_URL = postgres.url ?? (POSTGRES_URLS[0] as string);
const problems: Record<StoreName, string | undefined> = {
  memory: undefined,
  sqlite: undefined,
  redis: await redisProblem(),
  postgres: postgres.problem,
  nats: await natsProblem(),
};
for (const [name, problem] of Object.entries(problems)) {
  if (problem === undefined) continue;
  const message = `The ${name} store's engine does not answer (${problem}).`;
  // In CI a missing service is a broken setup, not a reason to pass.
  if (process.env.CI === 'true') throw new Error(message);
  process.stderr.write(`${message} Skipping its tests.\n`);
}

const hex = () => randomBytes(6).toString('hex');

/** A URL with its port replaced (a proxy in front of the engine). */
function through(url: string, port: number | undefined): string {
  if (port === undefined) return url;
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

function spaceOf(spec: (options: NodeOptions) => StoreSpec): StoreSpace {
  return {
    spec: (options = {}) => spec(options),
    make: (options = {}, logger) => makeStore(spec(options), logger),
  };
}

export const STORES: StoreFactory[] = [
  {
    name: 'memory',
    shared: false,
    durable: false,
    exactHistory: true,
    problem: problems.memory,
    space: () => spaceOf(({ historySize }) => ({ name: 'memory', options: { historySize } })),
  },
  {
    name: 'sqlite',
    shared: false,
    durable: true,
    exactHistory: true,
    problem: problems.sqlite,
    space(teardown) {
      const dir = mkdtempSync(join(tmpdir(), 'siar-store-'));
      teardown(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, 'hub.db');
      return spaceOf(({ historySize, storeTimeoutMs }) => ({
        name: 'sqlite',
        options: { path, historySize, storeTimeoutMs, cacheSize: 4 },
      }));
    },
  },
  {
    name: 'redis',
    shared: true,
    durable: true,
    exactHistory: false,
    enginePort: Number(new URL(REDIS_URL).port || 6379),
    problem: problems.redis,
    space(teardown) {
      const prefix = `siar-test-${hex()}`;
      teardown(() => deleteKeys(prefix));
      return spaceOf(({ historySize, presenceTtlMs, storeTimeoutMs, port }) => ({
        name: 'redis',
        options: {
          url: through(REDIS_URL, port),
          prefix,
          historySize,
          presenceTtlMs,
          storeTimeoutMs,
          readBlockMs: 500,
        },
      }));
    },
  },
  {
    name: 'postgres',
    shared: true,
    durable: true,
    exactHistory: true,
    enginePort: Number(new URL(POSTGRES_URL).port || 5432),
    problem: problems.postgres,
    space(teardown) {
      const prefix = `siar_test_${hex()}`;
      teardown(() => dropPostgres(prefix));
      return spaceOf(({ historySize, presenceTtlMs, storeTimeoutMs, port }) => ({
        name: 'postgres',
        options: {
          url: through(POSTGRES_URL, port),
          prefix,
          historySize,
          presenceTtlMs,
          storeTimeoutMs,
          pollMs: 1000,
        },
      }));
    },
  },
  {
    name: 'nats',
    shared: true,
    durable: true,
    exactHistory: true,
    enginePort: Number(new URL(NATS_URL).port || 4222),
    problem: problems.nats,
    space(teardown) {
      const prefix = `siar-test-${hex()}`;
      teardown(() => deleteNatsStreams(prefix));
      return spaceOf(({ historySize, presenceTtlMs, storeTimeoutMs, port }) => ({
        name: 'nats',
        options: { url: through(NATS_URL, port), prefix, historySize, presenceTtlMs, storeTimeoutMs },
      }));
    },
  },
];

/** The stores several nodes share (for the many-node and fault tests). */
export const SHARED_STORES = STORES.filter((store) => store.shared);

/** Drops a PostgreSQL store's tables and function. */
export async function dropPostgres(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(
      `DROP TABLE IF EXISTS "${prefix}_updates", "${prefix}_head", "${prefix}_nodes", "${prefix}_subscriptions"`,
    );
    await client.query(`DROP FUNCTION IF EXISTS "${prefix}_append"`);
  } finally {
    await client.end();
  }
}

/** Deletes a NATS store's streams. */
export async function deleteNatsStreams(prefix: string): Promise<void> {
  const connection = await natsConnect({ servers: new URL(NATS_URL).host, reconnect: false });
  try {
    const jsm = await jetstreamManager(connection);
    for (const suffix of ['updates', 'nodes', 'subscriptions']) {
      await jsm.streams.delete(`${prefix}-${suffix}`).catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}
