/**
 * Redis for the tests: the shared one at REDIS_URL (skipped without it, but never in CI), key
 * prefixes of a test's own, redis-servers and a Redis Cluster of a test's own, users whose
 * connections can be killed, and hubs on a Redis store, in this process or in one of their own.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import type { HubOptions } from '../../src/hub/index.js';
import { RedisStore, type RedisStoreOptions } from '../../src/hub/stores/redis.js';
import { silentLogger } from '../../src/server/index.js';
import { startHub, type TestHub } from '../hub/hub-helpers.js';
import { type RunningProcess, spawnProcess } from './child-process.js';
import { freePort, waitFor } from './net.js';
import type { Teardown } from './teardown.js';

/** The Redis the tests use: `REDIS_URL`, by default the local one. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const inCi = process.env.CI === 'true';

/** A client that gives up at once instead of queueing or retrying: tests want errors, not waits. */
export function redisClient(url = REDIS_URL): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  return client;
}

/** Why Redis cannot be used, or undefined when it answered PING. */
async function redisProblem(url: string): Promise<string | undefined> {
  const client = redisClient(url);
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === 'PONG' ? undefined : `PING answered ${pong}`;
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.disconnect();
  }
}

const problem = await redisProblem(REDIS_URL);
if (problem !== undefined) {
  const message = `Redis at ${REDIS_URL} does not answer PING (${problem}). Start one or set REDIS_URL.`;
  // In CI a missing Redis is a broken setup, not a reason to pass.
  if (inCi) throw new Error(message);
  process.stderr.write(`${message} Skipping the Redis tests.\n`);
}

/** `describe` for tests that need the Redis at REDIS_URL: skipped (with a message) when it does not answer. */
export const describeRedis = describe.skipIf(problem !== undefined);

/** A key prefix no other test uses. */
export function newPrefix(): string {
  return `siar-test-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key of a prefix (`{prefix}:…`) with SCAN MATCH and DEL. */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const client = redisClient(url);
  await client.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** A fresh prefix whose keys are deleted after the test. */
export function prefixFor(teardown: Teardown): string {
  const prefix = newPrefix();
  teardown(() => deleteKeys(prefix));
  return prefix;
}

export interface RedisServer {
  port: number;
  url: string;
  /** Sends a signal to the running redis-server: SIGSTOP freezes it (its connections stay open), SIGCONT thaws it. */
  signal(signal: NodeJS.Signals): void;
  /** Stops it (SIGKILL: nothing saved, it had no persistence anyway). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

/** How long a redis-server may take to accept connections, and redis-cli to make a cluster. */
const REDIS_START_TIMEOUT_MS = 10_000;
const CLUSTER_CREATE_TIMEOUT_MS = 20_000;

/** Waits for `pattern` in a process's output; kills it when that does not come. */
async function readyOrKilled(run: RunningProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  try {
    await run.waitFor(pattern, timeoutMs);
  } catch (error) {
    await run.kill();
    throw error;
  }
}

/** A redis-server of the test's own, without persistence, on a free port. */
export async function startRedisServer(extraArgs: string[] = [], port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  let run: RunningProcess | undefined;
  const server: RedisServer = {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    signal(signal) {
      run?.child.kill(signal);
    },
    async stop() {
      await run?.kill('SIGKILL');
    },
    async start() {
      run = spawnProcess('redis-server', [...args, ...extraArgs], { name: `redis-server :${chosen}` });
      await readyOrKilled(run, /Ready to accept connections/, REDIS_START_TIMEOUT_MS);
    },
  };
  await server.start();
  return server;
}

/** Ports p and p + 10000 (a cluster node's bus) both free at the time of asking. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port > 55_000) continue;
    const bus = createServer();
    const free = await new Promise<boolean>((resolve) => {
      bus.once('error', () => resolve(false));
      bus.listen(port + 10_000, '127.0.0.1', () => resolve(true));
    });
    if (free) await new Promise((resolve) => bus.close(resolve));
    if (free) return port;
  }
}

export interface RedisCluster {
  servers: RedisServer[];
  /** The first node's URL (a client finds the others from it). */
  url: string;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of three masters (no replicas) on free ports, its files in `dir`; resolves once
 * every node says `cluster_state:ok`.
 */
export async function startRedisCluster(dir: string): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await clusterPort();
      servers.push(
        await startRedisServer(
          ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir],
          port,
        ),
      );
    }
    const create = spawnProcess('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((server) => `127.0.0.1:${server.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await readyOrKilled(create, /All 16384 slots covered/, CLUSTER_CREATE_TIMEOUT_MS);
    await create.exited;
    for (const server of servers) {
      const client = redisClient(server.url);
      await client.connect();
      try {
        await waitFor(
          async () => String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok'),
          20_000,
          `cluster_state:ok on :${server.port}`,
        );
      } finally {
        client.disconnect();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { servers, url: servers[0]?.url as string, stop };
}

/** An in-process hub (node:http on 127.0.0.1) on a Redis store; closed after the test. */
export async function startRedisHub(
  teardown: Teardown,
  store: Partial<RedisStoreOptions> & { prefix: string },
  options: HubOptions = {},
): Promise<TestHub & { store: RedisStore }> {
  const redisStore = new RedisStore({ url: REDIS_URL, logger: silentLogger, ...store });
  const hub = await startHub({ anonymous: true, heartbeatMs: 0, ...options, store: redisStore });
  teardown(() => hub.close());
  return Object.assign(hub, { store: redisStore });
}

/** A Redis user of the test's own (ACL), deleted after the test: its connections can be told apart and killed. */
export async function redisUser(
  teardown: Teardown,
  baseUrl = REDIS_URL,
): Promise<{ user: string; url: string; killConnections(name?: string): Promise<number> }> {
  const user = `siar-test-${randomBytes(6).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const admin = redisClient(baseUrl);
  await admin.connect();
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all');
  teardown(async () => {
    await admin.call('ACL', 'DELUSER', user).catch(() => undefined);
    admin.disconnect();
  });
  const url = new URL(baseUrl);
  url.username = user;
  url.password = password;
  return {
    user,
    url: url.toString(),
    /** Kills this user's connections (those named `name` only, when given); returns how many. */
    async killConnections(name) {
      if (name === undefined) return Number(await admin.call('CLIENT', 'KILL', 'USER', user));
      const list = String(await admin.call('CLIENT', 'LIST'));
      let killed = 0;
      for (const line of list.split('\n')) {
        const fields = new Map(line.split(' ').map((field) => field.split('=', 2) as [string, string]));
        if (fields.get('user') !== user || fields.get('name') !== name) continue;
        killed += Number(await admin.call('CLIENT', 'KILL', 'ID', fields.get('id') as string));
      }
      return killed;
    },
  };
}
