import { expect, it } from 'vitest';
import { lossAndDuplicates, useFollowers } from '../helpers/follower.js';
import { sleep, waitFor } from '../helpers/net.js';
import {
  describeRedis,
  newPrefix,
  prefixFor,
  redisClient,
  redisUser,
  startRedisHub,
  startRedisServer,
} from '../helpers/redis.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

/** Keeps Redis busy (one Lua script) for about `ms`: commands sent meanwhile are read together afterwards. */
const BUSY_SCRIPT = `
local start = redis.call('TIME')
repeat local now = redis.call('TIME')
until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > tonumber(ARGV[1]) * 1000
return 1`;

/** The update IDs a stream holds, in order. */
async function streamIds(url: string, prefix: string): Promise<string[]> {
  const client = redisClient(url);
  await client.connect();
  try {
    const entries = await client.xrange(`{${prefix}}:updates`, '-', '+');
    return entries.map(([, fields]) => fields[fields.indexOf('id') + 1] as string);
  } finally {
    client.disconnect();
  }
}

const TOPICS = [0, 1, 2].map((k) => `https://example.com/redis/burst/${k}`);
const PER_TOPIC = 120;

describeRedis('redis store: connections killed (CLIENT KILL) in the middle of a publish burst', () => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  it('delivers every update exactly once, in order per topic, to every subscriber of every node', async () => {
    const prefix = prefixFor(teardown);
    // The hubs connect as a user of their own (password in the URL): CLIENT KILL USER hits them only.
    const user = await redisUser(teardown);
    const nodes = await Promise.all(
      [0, 1, 2].map(() => startRedisHub(teardown, { url: user.url, prefix, presenceTtlMs: 1000 })),
    );
    const everyTopic = await Promise.all(nodes.map((node) => follow([node.subscribeUrl(TOPICS)])));
    const oneTopic = await Promise.all(
      nodes.flatMap((node) => TOPICS.map((topic) => follow([node.subscribeUrl([topic])]))),
    );
    const expected = TOPICS.map((_, k) => Array.from({ length: PER_TOPIC }, (_, i) => `t${k}-${i}`));
    let accepted = 0;
    let refused = 0;
    const otherStatuses: number[] = [];
    // One publisher per topic, each on its own node, each waiting for its 200 before the next update;
    // a 503 is retried with the same ID, as a publisher that wants its update through would.
    const publishers = nodes.map(async (node, k) => {
      for (const id of expected[k] as string[]) {
        for (let attempt = 0; ; attempt++) {
          if (attempt > 200) throw new Error(`${id}: still refused after 200 attempts`);
          const response = await node.publish({ topic: TOPICS[k] as string, id, data: id });
          if (response.status === 200) {
            expect(await response.text()).toBe(id);
            accepted++;
            break;
          }
          if (response.status === 503) refused++;
          else otherStatuses.push(response.status);
          await sleep(20);
        }
      }
    });
    const kills: number[] = [];
    const killing = (async () => {
      for (const at of [40, 120, 200, 280]) {
        await waitFor(() => accepted >= at, 20_000, `${at} updates accepted`);
        kills.push(await user.killConnections());
      }
    })();
    await Promise.all([...publishers, killing]);
    expect(otherStatuses).toEqual([]);
    // Every hub's two connections (commands and reader), each time.
    expect(kills).toEqual([6, 6, 6, 6]);

    const all = expected.flat();
    for (const follower of everyTopic) await follower.waitFor(all.length, 20_000);
    for (const follower of oneTopic) await follower.waitFor(PER_TOPIC, 20_000);
    // The stream holds each update once…
    const stored = await streamIds(user.url, prefix);
    expect(stored).toHaveLength(all.length);
    expect(new Set(stored).size).toBe(all.length);
    // …and, after time for anything doubled to arrive, so does every subscriber.
    await sleep(500);
    for (const follower of [...everyTopic, ...oneTopic]) {
      const ids = follower.ids();
      const topics = everyTopic.includes(follower) ? [0, 1, 2] : [oneTopic.indexOf(follower) % 3];
      expect(ids).toHaveLength(topics.length * PER_TOPIC);
      for (const k of topics) {
        const topicIds = expected[k] as string[];
        const received = ids.filter((id) => id.startsWith(`t${k}-`));
        expect(lossAndDuplicates(topicIds, received)).toEqual({
          missing: [],
          duplicated: [],
          outOfOrder: false,
        });
        expect(received).toEqual(topicIds);
      }
      expect(follower.connections).toHaveLength(1);
    }
    console.info(
      `CLIENT KILL burst: ${all.length} updates accepted, ${refused} publishes answered 503 and retried`,
    );
  });

  it('stores once an update whose answer was lost with its killed connection (the client resends it)', async () => {
    // A redis-server of the test's own: the busy script below must not stall the shared one.
    const redis = await startRedisServer();
    teardown(() => redis.stop());
    const prefix = newPrefix();
    const user = await redisUser(teardown, redis.url);
    const a = await startRedisHub(teardown, { url: user.url, prefix });
    const b = await startRedisHub(teardown, { url: user.url, prefix });
    const followers = await Promise.all([a, b].map((node) => follow([node.subscribeUrl(['t'])])));
    const busy = redisClient(redis.url);
    await busy.connect();
    teardown(() => busy.disconnect());
    const ids = ['r0', 'r1', 'r2'];
    for (const id of ids) {
      // While Redis is busy, the append and then the kill queue up: Redis runs the append, buffers its
      // answer, then kills the connection before writing it. The client resends the append.
      const blocking = busy.eval(BUSY_SCRIPT, 0, 200);
      await sleep(40);
      const publishing = a.publish({ topic: 't', id, data: id });
      await sleep(40);
      const killed = user.killConnections();
      await blocking;
      expect(await killed).toBe(4);
      const response = await publishing;
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(id);
    }
    expect(await streamIds(redis.url, prefix)).toEqual(ids);
    for (const follower of followers) await follower.waitFor(3);
    await sleep(300);
    for (const follower of followers) expect(follower.ids()).toEqual(ids);
  });

  it('answers 200 again to a publisher retrying an update it already stored, and delivers it once', async () => {
    const prefix = prefixFor(teardown);
    const a = await startRedisHub(teardown, { prefix });
    const b = await startRedisHub(teardown, { prefix });
    const follower = await follow([b.subscribeUrl(['t'])]);
    for (const node of [a, b, a]) {
      const response = await node.publish({ topic: 't', id: 'once', data: 'x' });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('once');
    }
    expect((await a.publish({ topic: 't', id: 'next', data: 'y' })).status).toBe(200);
    await follower.waitFor(2);
    await sleep(200);
    expect(follower.ids()).toEqual(['once', 'next']);
  });
});
