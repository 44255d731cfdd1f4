import { expect, it } from 'vitest';
import { lossAndDuplicates, useFollowers } from '../helpers/follower.js';
import { cliPublisherToken, type HubProcess, startHubProcess } from '../helpers/hub-process.js';
import { publishTo, subscribeUrl } from '../helpers/hub-requests.js';
import { sleep, waitFor } from '../helpers/net.js';
import { deleteKeys, describeRedis, newPrefix, prefixFor, REDIS_URL, redisClient } from '../helpers/redis.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

const TOPIC = 'https://example.com/redis/cli';

describeRedis('siar serve --store redis://…: three hub processes', () => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  /** Three `siar serve` processes on one Redis, sharing a fresh key prefix given in the URL. */
  async function threeNodes(store = new URL(REDIS_URL)): Promise<HubProcess[]> {
    if (!store.searchParams.has('prefix')) store.searchParams.set('prefix', prefixFor(teardown));
    const nodes = await Promise.all(
      [0, 1, 2].map(() =>
        startHubProcess(teardown, { args: ['--store', store.toString(), '--history-size', '1000'] }),
      ),
    );
    return nodes;
  }

  it('delivers what one process accepts to the subscribers of all three, once each, in order', async () => {
    // In database 2 (the URL's path), to check it is the one used.
    const db2 = new URL(REDIS_URL);
    db2.pathname = '/2';
    const prefix = newPrefix();
    teardown(() => deleteKeys(prefix, db2.toString()));
    const store = new URL(db2);
    store.searchParams.set('prefix', prefix);
    const nodes = await threeNodes(store);
    const bearer = await cliPublisherToken();
    const followers = await Promise.all(
      nodes.flatMap((node) => [
        follow([subscribeUrl(node.hubUrl, [TOPIC])]),
        follow([subscribeUrl(node.hubUrl, ['*'])]),
      ]),
    );
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await publishTo((nodes[i % 2 === 0 ? 0 : 1] as HubProcess).hubUrl, bearer, {
        topic: TOPIC,
        data: `${i}`,
      });
      expect(answer.status).toBe(200);
      ids.push(answer.body);
    }
    for (const follower of followers) await follower.waitFor(30);
    await sleep(200);
    for (const follower of followers) {
      expect(follower.ids()).toEqual(ids);
      expect(follower.events.map((event) => event.data)).toEqual(ids.map((_, i) => `${i}`));
    }
    const inDb2 = redisClient(db2.toString());
    teardown(() => inDb2.disconnect());
    await inDb2.connect();
    expect(await inDb2.xlen(`{${prefix}}:updates`)).toBe(30);
  });

  it('lets the subscribers of a process killed with SIGKILL resume on another with Last-Event-ID, missing and doubling nothing', async () => {
    const [doomed, second, third] = await threeNodes();
    if (doomed === undefined || second === undefined || third === undefined) throw new Error('no nodes');
    const bearer = await cliPublisherToken();
    const urls = [doomed, second, third].map((node) => subscribeUrl(node.hubUrl, [TOPIC]));
    // EventSource-like: on a lost connection, the next node of the list, with the last ID received.
    const moving = await Promise.all([0, 1, 2].map(() => follow(urls)));
    const staying = await Promise.all(
      [second, third].map((node) => follow([subscribeUrl(node.hubUrl, [TOPIC])])),
    );
    const expected = Array.from({ length: 150 }, (_, i) => `k${i}`);
    let accepted = 0;
    const publishing = (async () => {
      for (const id of expected) {
        const answer = await publishTo(third.hubUrl, bearer, { topic: TOPIC, id, data: id });
        expect(answer.status).toBe(200);
        accepted++;
        await sleep(5);
      }
    })();
    await waitFor(() => accepted >= 50, 20_000, '50 updates accepted');
    await doomed.kill('SIGKILL');
    await publishing;

    for (const follower of [...moving, ...staying]) await follower.waitFor(150, 20_000);
    await sleep(300);
    for (const follower of [...moving, ...staying]) {
      expect(lossAndDuplicates(expected, follower.ids())).toEqual({
        missing: [],
        duplicated: [],
        outOfOrder: false,
      });
      expect(follower.ids()).toEqual(expected);
    }
    for (const follower of moving) {
      const resumed = follower.connections.find(
        (connection) => connection.status === 200 && connection.url !== urls[0],
      );
      // It resumed on the second node, which knew the ID it came back with.
      expect(resumed?.url).toBe(urls[1]);
      expect(resumed?.sentLastEventId).toMatch(/^k\d+$/);
      expect(resumed?.lastEventIdHeader).toBe(resumed?.sentLastEventId);
    }
    for (const follower of staying) expect(follower.connections).toHaveLength(1);
  });
});
