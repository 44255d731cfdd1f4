import { expect, it } from 'vitest';
import { lossAndDuplicates, useFollowers } from '../helpers/follower.js';
import { subscribeUrl } from '../helpers/hub-requests.js';
import { describeRedis, prefixFor, startRedisHub } from '../helpers/redis.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { token } from '../hub/hub-helpers.js';

const TOPIC = 'https://example.com/redis/fan-out';

describeRedis('redis store: fan-out between nodes', () => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  async function threeNodes() {
    const prefix = prefixFor(teardown);
    return Promise.all([0, 1, 2].map(() => startRedisHub(teardown, { prefix })));
  }

  it('delivers what one node publishes to the subscribers of every node, once each, in order (hub-made IDs)', async () => {
    const nodes = await threeNodes();
    const followers = await Promise.all(
      nodes.flatMap((node) => [
        follow([node.subscribeUrl([TOPIC])]),
        follow([node.subscribeUrl(['https://example.com/redis/{name}'])]),
      ]),
    );
    const other = await follow([nodes[2]?.subscribeUrl(['https://example.com/elsewhere']) as string]);
    const published: string[] = [];
    for (let i = 0; i < 20; i++) {
      const response = await nodes[0]?.publish({ topic: TOPIC, data: `update ${i}` });
      expect(response?.status).toBe(200);
      published.push(await (response as Response).text());
    }
    expect(new Set(published).size).toBe(20);
    for (const follower of followers) {
      await follower.waitFor(20);
      expect(follower.ids()).toEqual(published);
      expect(follower.events.map((event) => event.data)).toEqual(published.map((_, i) => `update ${i}`));
    }
    expect(other.events).toEqual([]);
  });

  it('keeps client-chosen IDs and every field through Redis, and orders concurrent publishers the same way on every node', async () => {
    const nodes = await threeNodes();
    const followers = await Promise.all(nodes.map((node) => follow([node.subscribeUrl([TOPIC])])));
    const first = await nodes[1]?.publish({
      topic: [TOPIC, 'https://example.com/alternate'],
      id: 'urn:example:first',
      data: 'line 1\nline 2\n\nline 4',
      type: 'book',
      retry: '2500',
    });
    expect(first?.status).toBe(200);
    expect(await first?.text()).toBe('urn:example:first');
    for (const follower of followers) await follower.waitFor(1);
    for (const follower of followers) {
      expect(follower.events[0]).toEqual({
        type: 'book',
        data: 'line 1\nline 2\n\nline 4',
        lastEventId: 'urn:example:first',
      });
    }
    // Three publishers at once, one per node, each in its own order.
    const perPublisher = nodes.map((_, n) => Array.from({ length: 15 }, (_, i) => `urn:example:n${n}-${i}`));
    await Promise.all(
      nodes.map(async (node, n) => {
        for (const id of perPublisher[n] as string[]) {
          const response = await node.publish({ topic: TOPIC, id, data: id });
          expect(response.status).toBe(200);
        }
      }),
    );
    for (const follower of followers) await follower.waitFor(46);
    const reference = followers[0]?.ids() as string[];
    for (const follower of followers) {
      // Every node dispatches in stream order: all subscribers see one and the same sequence.
      expect(follower.ids()).toEqual(reference);
      for (const ids of perPublisher) {
        expect(lossAndDuplicates(ids, follower.ids())).toEqual({
          missing: [],
          duplicated: [],
          outOfOrder: false,
        });
      }
    }
    expect(reference).toHaveLength(46);
  });

  it('sends a private update only to subscribers of any node whose token allows its topic', async () => {
    const nodes = await threeNodes();
    const allowed = await token({ subscribe: [TOPIC] });
    const withToken = await follow([
      subscribeUrl(nodes[2]?.hubUrl as string, [TOPIC], { authorization: allowed }),
    ]);
    const anonymous = await follow([nodes[1]?.subscribeUrl([TOPIC]) as string]);
    expect((await nodes[0]?.publish({ topic: TOPIC, id: 'secret', data: 's', private: 'on' }))?.status).toBe(
      200,
    );
    expect((await nodes[0]?.publish({ topic: TOPIC, id: 'public', data: 'p' }))?.status).toBe(200);
    await withToken.waitFor(2);
    await anonymous.waitFor(1);
    expect(withToken.ids()).toEqual(['secret', 'public']);
    expect(anonymous.ids()).toEqual(['public']);
  });

  it('delivers updates published from the hosting app (hub.publish) on another node', async () => {
    const nodes = await threeNodes();
    const follower = await follow([nodes[0]?.subscribeUrl([TOPIC]) as string]);
    const update = await nodes[2]?.hub.publish({ topics: [TOPIC], data: 'from the app' });
    await follower.waitFor(1);
    expect(follower.events).toEqual([{ type: 'message', data: 'from the app', lastEventId: update?.id }]);
  });
});
