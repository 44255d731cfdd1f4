/**
 * The Siar hub as users run it: the real CLI, `siar serve` (from src/, through tsx, so the bench
 * measures the working tree without a build), on a loopback port, anonymous subscribers, a
 * publisher key made for the run and a token signed with `createToken`.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createToken } from '../../src/hub/index.js';
import { freePort } from '../../test/helpers/net.js';
import { launch, removeTempDir, tempDir, waitForLine } from '../lib/children.js';
import type { ServerName, ServerUnderTest } from './index.js';

export const HUB_TOPIC = 'https://bench.siar.test/updates';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function redisClient(): Redis {
  return new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
}

/** Undefined when Redis answers PING at REDIS_URL, else why not. */
async function redisUnavailable(): Promise<string | undefined> {
  const client = redisClient();
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `no Redis at ${REDIS_URL} (${(error as Error).message}); set REDIS_URL`;
  } finally {
    client.disconnect();
  }
}

/** The pid of the Redis server, when it runs on this machine (its CPU is then reported apart). */
async function redisPid(): Promise<number | undefined> {
  const host = new URL(REDIS_URL).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') return undefined;
  const client = redisClient();
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('server');
    const match = info.match(/^process_id:(\d+)/m);
    return match ? Number(match[1]) : undefined;
  } finally {
    client.disconnect();
  }
}

/** Deletes the run's keys (`{prefix}:…`). */
async function dropRedisKeys(prefix: string): Promise<void> {
  const client = redisClient();
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

export function hubServer(
  name: ServerName,
  label: string,
  store: 'memory' | 'sqlite' | 'redis',
  profileDir: string | undefined,
  protocol: 'http1' | 'h2c' = 'http1',
  /** More of `siar serve`'s arguments (`--workers 3`). */
  args: readonly string[] = [],
): ServerUnderTest {
  return {
    name,
    label,
    unavailable: () => (store === 'redis' ? redisUnavailable() : Promise.resolve(undefined)),
    async start() {
      const port = await freePort();
      const key = randomBytes(32).toString('base64url');
      const token = await createToken({ publish: ['*'] }, key);
      const dir = tempDir(name);
      const redisPrefix = `siarbench-${randomBytes(6).toString('hex')}`;
      const url = new URL(REDIS_URL);
      url.searchParams.set('prefix', redisPrefix);
      const spec =
        store === 'memory' ? 'memory' : store === 'sqlite' ? `sqlite:${dir}/hub.db` : url.toString();
      const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
      const child = launch(name, process.execPath, [
        ...profile,
        '--import',
        'tsx',
        'src/cli/main.ts',
        'serve',
        '--port',
        `${port}`,
        '--host',
        '127.0.0.1',
        // One argument: a base64url key may start with "-", which would read as an option.
        `--publisher-jwt-key=${key}`,
        '--anonymous',
        '--store',
        spec,
        // Many streams of the load generator share each connection over h2c.
        ...(protocol === 'h2c' ? ['--h2c'] : []),
        ...args,
      ]);
      const stop = async () => {
        // With a profile, the hub must exit by itself for V8 to write it: give it time.
        await child.stop('SIGTERM', profileDir === undefined ? 5000 : 20_000);
        removeTempDir(dir);
        if (store === 'redis') await dropRedisKeys(redisPrefix);
      };
      try {
        await waitForLine(child, /Siar hub listening on/, 20_000);
      } catch (error) {
        await stop();
        throw error;
      }
      return {
        child,
        storePid: store === 'redis' ? await redisPid() : undefined,
        endpoints: {
          host: '127.0.0.1',
          port,
          subscribePath: `/.well-known/mercure?topic=${encodeURIComponent(HUB_TOPIC)}`,
          publishPath: '/.well-known/mercure',
          publishHeaders: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          publishBody: { mercureTopic: HUB_TOPIC },
          protocol,
        },
        stop,
      };
    },
  };
}
