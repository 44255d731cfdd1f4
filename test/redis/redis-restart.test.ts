import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useFollowers } from '../helpers/follower.js';
import { LogRecorder } from '../helpers/log-recorder.js';
import { sleep, waitFor } from '../helpers/net.js';
import {
  describeRedis,
  newPrefix,
  type RedisServer,
  redisClient,
  startRedisHub,
  startRedisServer,
} from '../helpers/redis.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

const TOPIC = 'https://example.com/redis/restart';

describeRedis('redis store: Redis goes away and comes back', () => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  /** Two hub nodes on a redis-server of the test's own; A logs into a recorder. */
  async function setup(redisArgs: string[] = []) {
    const redis = await startRedisServer(redisArgs);
    teardown(() => redis.stop());
    const prefix = newPrefix();
    const logs = new LogRecorder();
    const store = {
      url: redis.url,
      prefix,
      readBlockMs: 500,
      presenceTtlMs: 1000,
      storeTimeoutMs: 1000,
      logger: logs,
    };
    const a = await startRedisHub(teardown, store, { heartbeatMs: 100, logger: logs });
    const b = await startRedisHub(teardown, { ...store, logger: new LogRecorder() });
    return { redis, prefix, logs, a, b };
  }

  /** Publishes until the answer is not 503 (as a publisher would retry); returns that answer's status. */
  async function publishRetrying(publish: () => Promise<Response>): Promise<number> {
    const status = await waitFor(
      async () => {
        const response = await publish();
        return response.status === 503 ? undefined : response.status;
      },
      15_000,
      'a publish not answered 503',
    );
    return status as number;
  }

  async function health(url: string): Promise<{ status: number; body: { status: string } }> {
    const response = await fetch(`${url}/healthz`);
    return { status: response.status, body: (await response.json()) as { status: string } };
  }

  async function storeUp(url: string): Promise<string | undefined> {
    const text = await (await fetch(`${url}/metrics`)).text();
    return /^siar_store_up (\d)$/m.exec(text)?.[1];
  }

  async function whileDown(redis: RedisServer, a: Awaited<ReturnType<typeof setup>>['a']) {
    await redis.stop();
    await waitFor(async () => (await health(a.url)).status === 503, 5000, '/healthz to say degraded');
    expect((await health(a.url)).body.status).toBe('degraded');
    expect(await storeUp(a.url)).toBe('0');
    const refused = await a.publish({ topic: TOPIC, id: 'refused', data: 'x' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
  }

  it('keeps subscribers connected, answers 503 and degraded while Redis is away, then recovers by itself', async () => {
    const { redis, logs, a, b } = await setup();
    const follower = await follow([a.subscribeUrl([TOPIC])]);
    expect((await a.publish({ topic: TOPIC, id: 'before', data: 'x' })).status).toBe(200);
    await follower.waitFor(1);
    expect((await health(a.url)).body.status).toBe('ok');
    expect(await storeUp(a.url)).toBe('1');

    await whileDown(redis, a);
    const heartbeats = follower.comments;
    await sleep(400);
    // Still connected: heartbeats keep coming and nobody reconnected.
    expect(follower.comments).toBeGreaterThan(heartbeats);
    expect(follower.connections).toHaveLength(1);
    expect(logs.has(/^(The store refuses calls|Store calls take longer than storeTimeoutMs)/)).toBe(true);
    expect(logs.has(/Lost the connection to Redis/)).toBe(true);

    // Back, empty (no persistence). B appends first: A's read loop must not skip it.
    await redis.start();
    expect(await publishRetrying(() => b.publish({ topic: TOPIC, id: 'from-b', data: 'x' }))).toBe(200);
    expect(await publishRetrying(() => a.publish({ topic: TOPIC, id: 'from-a', data: 'x' }))).toBe(200);
    await follower.waitFor(3);
    await waitFor(async () => (await health(a.url)).status === 200, 10_000, '/healthz to say ok again');
    expect(await storeUp(a.url)).toBe('1');
    expect((await a.publish({ topic: TOPIC, id: 'last', data: 'x' })).status).toBe(200);
    await follower.waitFor(4);
    await sleep(100);
    expect(follower.ids()).toEqual(['before', 'from-b', 'from-a', 'last']);
    expect(follower.connections).toHaveLength(1);
    expect(logs.has(/Connected to Redis again/)).toBe(true);
  });

  it('reads the new stream from its start when it restarts behind the position the node had reached', async () => {
    // The Redis that comes back numbers entries below the position this node had read up to (its clock
    // is behind, or the old stream's IDs were ahead): without care, the read loop would wait there.
    const { redis, prefix, logs, a, b } = await setup();
    const follower = await follow([a.subscribeUrl([TOPIC])]);
    const raw = redisClient(redis.url);
    teardown(() => raw.disconnect());
    await raw.connect();
    const ahead = `${Date.now() + 3_600_000}-0`;
    await raw.xadd(
      `{${prefix}}:updates`,
      ahead,
      'id',
      'ahead',
      'topics',
      JSON.stringify([TOPIC]),
      'data',
      'x',
    );
    await follower.waitFor(1);
    raw.disconnect();

    await whileDown(redis, a);
    await redis.start();
    expect(await publishRetrying(() => b.publish({ topic: TOPIC, id: 'after-1', data: 'x' }))).toBe(200);
    expect(await publishRetrying(() => a.publish({ topic: TOPIC, id: 'after-2', data: 'x' }))).toBe(200);
    await follower.waitFor(3);
    await sleep(100);
    expect(follower.ids()).toEqual(['ahead', 'after-1', 'after-2']);
    expect(logs.has(/behind/i)).toBe(true);
  });

  it('sends nothing twice when Redis comes back from an older copy of the stream (an RDB saved earlier)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'siar-redis-'));
    teardown(() => rm(dir, { recursive: true, force: true }));
    const { redis, logs, a } = await setup(['--dir', dir, '--dbfilename', 'dump.rdb']);
    const follower = await follow([a.subscribeUrl([TOPIC])]);
    const raw = redisClient(redis.url);
    teardown(() => raw.disconnect());
    await raw.connect();
    for (const id of ['r0', 'r1', 'r2'])
      expect((await a.publish({ topic: TOPIC, id, data: id })).status).toBe(200);
    await follower.waitFor(3);
    await raw.save();
    raw.disconnect();
    // Delivered, but not in the copy Redis comes back with.
    for (const id of ['r3', 'r4']) expect((await a.publish({ topic: TOPIC, id, data: id })).status).toBe(200);
    await follower.waitFor(5);

    await whileDown(redis, a);
    await redis.start();
    await waitFor(async () => (await health(a.url)).status === 200, 10_000, '/healthz to say ok again');
    // Long enough for idle reads to see the stream behind (readBlockMs is 500).
    await waitFor(() => logs.has(/behind/), 5000, 'the node to notice the stream is behind');
    expect(await publishRetrying(() => a.publish({ topic: TOPIC, id: 'after', data: 'x' }))).toBe(200);
    await follower.waitFor(6);
    await sleep(600);
    expect(follower.ids()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'after']);
    expect(logs.has(/older copy/)).toBe(true);
  });
});
