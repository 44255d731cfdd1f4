import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useFollowers } from '../helpers/follower.js';
import { sleep, waitFor } from '../helpers/net.js';
import { describeRedis, newPrefix, redisClient, startRedisCluster, startRedisHub } from '../helpers/redis.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { token } from '../hub/hub-helpers.js';

const TOPIC = 'https://example.com/redis/cluster';

describeRedis('redis store on a Redis Cluster (three masters)', () => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  it('keeps all keys of a hub in one slot and fans out, replays and lists subscriptions across nodes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'siar-cluster-'));
    teardown(() => rm(dir, { recursive: true, force: true }));
    const cluster = await startRedisCluster(dir);
    teardown(() => cluster.stop());
    const admin = redisClient(cluster.url);
    teardown(() => admin.disconnect());
    await admin.connect();
    // A prefix whose slot is not on the first node: the hubs must follow the cluster's redirections.
    const slots = (await admin.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    const ownerOf = (slot: number) => slots.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
    let prefix = newPrefix();
    while (
      ownerOf(Number(await admin.call('CLUSTER', 'KEYSLOT', `{${prefix}}:updates`))) ===
      cluster.servers[0]?.port
    )
      prefix = newPrefix();
    const keySlots = new Set<number>();
    for (const key of ['updates', 'ids', 'nodes', 'subscriptions:urn:uuid:x']) {
      keySlots.add(Number(await admin.call('CLUSTER', 'KEYSLOT', `{${prefix}}:${key}`)));
    }
    expect(keySlots.size).toBe(1);

    const store = { url: cluster.url, cluster: true, prefix, presenceTtlMs: 1000 };
    const a = await startRedisHub(teardown, store, { subscriptions: true });
    const b = await startRedisHub(teardown, store, { subscriptions: true });
    const followers = await Promise.all([a, b].map((node) => follow([node.subscribeUrl([TOPIC])])));
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = `c${i}`;
      expect((await (i % 2 === 0 ? a : b).publish({ topic: TOPIC, id, data: id })).status).toBe(200);
      expected.push(id);
    }
    for (const follower of followers) await follower.waitFor(20);
    await sleep(200);
    for (const follower of followers) expect(follower.ids()).toEqual(expected);

    const resumed = await follow([b.subscribeUrl([TOPIC])], { lastEventId: 'c14' });
    await resumed.waitFor(5);
    expect(resumed.connections[0]?.lastEventIdHeader).toBe('c14');
    expect(resumed.ids()).toEqual(expected.slice(15));

    const bearer = await token({ subscribe: ['*'] });
    await waitFor(
      async () => {
        const response = await fetch(`${a.hubUrl}/subscriptions`, {
          headers: { authorization: `Bearer ${bearer}` },
        });
        const body = (await response.json()) as { subscriptions: unknown[] };
        return body.subscriptions.length === 3;
      },
      5000,
      'the three subscriptions of both nodes listed on A',
    );
    // Everything the hubs wrote sits on the node that owns the one slot.
    const keys = await Promise.all(
      cluster.servers.map(async (server) => {
        const client = redisClient(server.url);
        await client.connect();
        try {
          return (await client.keys(`{${prefix}}:*`)).length;
        } finally {
          client.disconnect();
        }
      }),
    );
    expect(keys.filter((count) => count > 0)).toHaveLength(1);
  });
});
