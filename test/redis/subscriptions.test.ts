import { expect, it } from 'vitest';
import { useFollowers } from '../helpers/follower.js';
import { subscribeUrl } from '../helpers/hub-requests.js';
import { waitFor } from '../helpers/net.js';
import { describeRedis, prefixFor, REDIS_URL, startRedisHub } from '../helpers/redis.js';
import { startStoreNode } from '../helpers/store-spec.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { TEST_KEY, token } from '../hub/hub-helpers.js';

const PRESENCE_TTL_MS = 600;

interface Listed {
  topic: string;
  subscriber: string;
  active: boolean;
}

describeRedis('redis store: active subscriptions across nodes', () => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  async function listed(hubUrl: string): Promise<string[]> {
    const bearer = await token({ subscribe: ['*'] });
    const response = await fetch(`${hubUrl}/subscriptions`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { subscriptions: Listed[] };
    for (const subscription of body.subscriptions) expect(subscription.active).toBe(true);
    return body.subscriptions.map((subscription) => subscription.topic).sort();
  }

  it('lists on any node the subscribers of every node, and forgets those that leave', async () => {
    const prefix = prefixFor(teardown);
    const options = { subscriptions: true };
    const a = await startRedisHub(teardown, { prefix, presenceTtlMs: PRESENCE_TTL_MS }, options);
    const b = await startRedisHub(teardown, { prefix, presenceTtlMs: PRESENCE_TTL_MS }, options);
    await follow([a.subscribeUrl(['https://example.com/on-a'])]);
    const onB = await follow([
      b.subscribeUrl(['https://example.com/on-b/{id}', 'https://example.com/also-b']),
    ]);
    const expected = [
      'https://example.com/also-b',
      'https://example.com/on-a',
      'https://example.com/on-b/{id}',
    ];
    await waitFor(async () => (await listed(a.hubUrl)).length === 3, 5000, 'three subscriptions on A');
    expect(await listed(a.hubUrl)).toEqual(expected);
    expect(await listed(b.hubUrl)).toEqual(expected);
    const nodes = await a.store.presence.nodes();
    expect(nodes.map((node) => node.subscriptions).sort()).toEqual([1, 2]);
    expect(nodes.filter((node) => node.self).map((node) => node.id)).toEqual([a.store.nodeId]);

    onB.close();
    await waitFor(
      async () => (await listed(a.hubUrl)).length === 1,
      5000,
      'B’s subscriber to leave the list',
    );
    expect(await listed(a.hubUrl)).toEqual(['https://example.com/on-a']);
  });

  it('drops the subscribers of a node killed with SIGKILL within about presenceTtlMs', async () => {
    const prefix = prefixFor(teardown);
    const a = await startRedisHub(
      teardown,
      { prefix, presenceTtlMs: PRESENCE_TTL_MS },
      { subscriptions: true, publisherJwt: { key: TEST_KEY } },
    );
    const dead = await startStoreNode(teardown, TEST_KEY, {
      name: 'redis',
      options: { url: REDIS_URL, prefix, presenceTtlMs: PRESENCE_TTL_MS },
    });
    await follow([a.subscribeUrl(['https://example.com/alive'])]);
    await follow([subscribeUrl(dead.hubUrl, ['https://example.com/doomed'])]);
    await waitFor(async () => (await listed(a.hubUrl)).length === 2, 5000, 'both subscriptions listed');
    expect(await listed(dead.hubUrl)).toEqual(['https://example.com/alive', 'https://example.com/doomed']);
    // Still listed after several presence periods while the node lives.
    await new Promise((resolve) => setTimeout(resolve, PRESENCE_TTL_MS * 2));
    expect(await listed(a.hubUrl)).toEqual(['https://example.com/alive', 'https://example.com/doomed']);
    expect(await a.store.presence.nodes()).toHaveLength(2);

    await dead.kill('SIGKILL');
    // Bounded by the TTL (a beat just before the kill lasts presenceTtlMs), plus margin for a loaded machine.
    await waitFor(
      async () => (await listed(a.hubUrl)).length === 1,
      PRESENCE_TTL_MS * 4,
      'the dead node’s subscriber to expire',
    );
    expect(await listed(a.hubUrl)).toEqual(['https://example.com/alive']);
    expect(await a.store.presence.nodes()).toHaveLength(1);
  });
});
