/**
 * Several nodes on one engine, and the faults they must ride through: a node killed with kill -9,
 * every connection of one node's link reset in the middle of a burst, every node restarted, the
 * engine gone for a while (refusing connections, or not passing bytes). The same tests for each
 * shared store (Redis, PostgreSQL, NATS).
 */
import { describe, expect, it } from 'vitest';
import { lossAndDuplicates, useFollowers } from '../helpers/follower.js';
import { subscribeUrl } from '../helpers/hub-requests.js';
import { sleep, waitFor } from '../helpers/net.js';
import { startStoreNode } from '../helpers/store-spec.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { startHub, TEST_KEY, type TestHub, token } from '../hub/hub-helpers.js';
import { type NodeOptions, SHARED_STORES, type StoreFactory, type StoreSpace } from './stores.js';

const PRESENCE_TTL_MS = 600;
const STORE_TIMEOUT_MS = 800;

/** Publishes `ids` one after the other, each retried on 503 with the same ID until it is answered 200. */
async function publishAll(
  publish: (fields: Record<string, string>) => Promise<Response>,
  topic: string,
  ids: string[],
  counts: { accepted: number; refused: number; other: number[] },
): Promise<void> {
  for (const id of ids) {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 300) throw new Error(`${id}: still refused after 300 attempts`);
      const response = await publish({ topic, id, data: id }).catch(() => undefined);
      const status = response?.status ?? 0;
      if (status === 200) {
        expect(await response?.text()).toBe(id);
        counts.accepted++;
        break;
      }
      if (status === 503 || status === 0) counts.refused++;
      else counts.other.push(status);
      await sleep(20);
    }
  }
}

describe.each(SHARED_STORES)('many nodes on one engine: $name', (factory: StoreFactory) => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);
  const skip = factory.problem !== undefined;

  async function node(space: StoreSpace, options: NodeOptions = {}, hubOptions = {}): Promise<TestHub> {
    const hub = await startHub({
      anonymous: true,
      heartbeatMs: 0,
      ...hubOptions,
      store: space.make({ presenceTtlMs: PRESENCE_TTL_MS, storeTimeoutMs: STORE_TIMEOUT_MS, ...options }),
    });
    teardown(() => hub.close());
    return hub;
  }

  async function proxy(): Promise<TcpProxy> {
    const started = await startTcpProxy(factory.enginePort as number);
    teardown(() => started.close());
    return started;
  }

  it.skipIf(skip)(
    'delivers the updates of concurrent publishers on three nodes to every subscriber of every node once, in one order',
    async () => {
      const space = factory.space(teardown);
      // The default deadline: no publish may be refused here, even on a loaded machine.
      const nodes = await Promise.all([0, 1, 2].map(() => node(space, { storeTimeoutMs: 5000 })));
      const topic = 'https://example.com/stores/concurrent';
      const followers = await Promise.all(
        nodes.flatMap((hub) => [
          follow([hub.subscribeUrl([topic])]),
          follow([hub.subscribeUrl(['https://example.com/stores/{name}'])]),
        ]),
      );
      // Four publishers per node, at once: positions are taken and committed in every interleaving.
      const perPublisher = nodes.flatMap((_, n) =>
        [0, 1, 2, 3].map((p) => Array.from({ length: 12 }, (_, i) => `n${n}-p${p}-${i}`)),
      );
      const counts = { accepted: 0, refused: 0, other: [] as number[] };
      await Promise.all(
        perPublisher.map((ids, k) =>
          publishAll((fields) => (nodes[Math.floor(k / 4)] as TestHub).publish(fields), topic, ids, counts),
        ),
      );
      expect(counts).toEqual({ accepted: 144, refused: 0, other: [] });
      for (const follower of followers) await follower.waitFor(144, 15_000);
      await sleep(300);
      const reference = followers[0]?.ids() as string[];
      expect(reference).toHaveLength(144);
      for (const follower of followers) {
        expect(follower.ids()).toEqual(reference);
        for (const ids of perPublisher) {
          expect(lossAndDuplicates(ids, follower.ids())).toEqual({
            missing: [],
            duplicated: [],
            outOfOrder: false,
          });
        }
      }
    },
  );

  it.skipIf(skip)(
    'goes on without a node killed with kill -9 in a burst, and drops its subscribers from the list within the presence TTL',
    async () => {
      const space = factory.space(teardown);
      const a = await node(space, {}, { subscriptions: true });
      const b = await node(space, {}, { subscriptions: true });
      const doomed = await startStoreNode(
        teardown,
        TEST_KEY,
        space.spec({ presenceTtlMs: PRESENCE_TTL_MS, storeTimeoutMs: STORE_TIMEOUT_MS }),
      );
      const topic = 'https://example.com/stores/kill';
      const survivors = await Promise.all([a, b].map((hub) => follow([hub.subscribeUrl([topic])])));
      await follow([subscribeUrl(doomed.hubUrl, ['https://example.com/stores/doomed'])]);
      const bearer = await token({ subscribe: ['*'] });
      const listed = async () => {
        const response = await fetch(`${a.hubUrl}/subscriptions`, {
          headers: { authorization: `Bearer ${bearer}` },
        });
        const body = (await response.json()) as { subscriptions: Array<{ topic: string }> };
        return body.subscriptions.map((subscription) => subscription.topic).sort();
      };
      await waitFor(async () => (await listed()).length === 3, 5000, 'three subscriptions listed');
      const ids = Array.from({ length: 60 }, (_, i) => `k${i}`);
      const counts = { accepted: 0, refused: 0, other: [] as number[] };
      const publishing = publishAll((fields) => a.publish(fields), topic, ids, counts);
      await waitFor(() => counts.accepted >= 20, 10_000, '20 accepted');
      await doomed.kill('SIGKILL');
      await publishing;
      for (const follower of survivors) {
        await follower.waitFor(60, 10_000);
        expect(follower.ids()).toEqual(ids);
      }
      await waitFor(
        async () => (await listed()).length === 2,
        PRESENCE_TTL_MS * 5,
        'the dead node’s subscriber to drop out',
      );
      expect(await listed()).toEqual([topic, topic]);
    },
  );

  it.skipIf(skip)(
    'delivers every update once, in order, when every connection of one node’s link is reset in the middle of a burst',
    async () => {
      const space = factory.space(teardown);
      const link = await proxy();
      const a = await node(space, { port: link.port });
      const b = await node(space);
      const topics = ['https://example.com/stores/reset/a', 'https://example.com/stores/reset/b'];
      const followers = await Promise.all([a, b].flatMap((hub) => [follow([hub.subscribeUrl(topics)])]));
      const expected = topics.map((_, k) => Array.from({ length: 80 }, (_, i) => `r${k}-${i}`));
      const counts = { accepted: 0, refused: 0, other: [] as number[] };
      const publishers = [a, b].map((hub, k) =>
        publishAll((fields) => hub.publish(fields), topics[k] as string, expected[k] as string[], counts),
      );
      const resets: number[] = [];
      const resetting = (async () => {
        for (const at of [30, 70, 110]) {
          await waitFor(() => counts.accepted >= at, 20_000, `${at} accepted`);
          // The node may still be reconnecting after the last reset.
          await waitFor(() => link.connections > 0, 10_000, 'the node connected through the proxy');
          resets.push(link.resetAll());
        }
      })();
      await Promise.all([...publishers, resetting]);
      expect(counts.other).toEqual([]);
      expect(resets.every((count) => count > 0)).toBe(true);
      for (const follower of followers) await follower.waitFor(160, 20_000);
      await sleep(500);
      for (const follower of followers) {
        expect(follower.ids()).toHaveLength(160);
        for (const ids of expected) {
          const received = follower.ids().filter((id) => id.startsWith(ids[0]?.slice(0, 3) as string));
          expect(received).toEqual(ids);
        }
        // Subscribers stayed connected through the resets.
        expect(follower.connections).toHaveLength(1);
      }
      // The history holds each update once.
      const stored: string[] = [];
      await b.hub.ready();
      const store = space.make();
      await store.open(() => {});
      teardown(() => store.close());
      await store.replay('earliest', (update) => stored.push(update.id));
      expect(stored.sort()).toEqual(expected.flat().sort());
    },
  );

  it.skipIf(skip)(
    'keeps the history when every node restarts, and replays it by Last-Event-ID on the new nodes',
    async () => {
      const space = factory.space(teardown);
      const topic = 'https://example.com/stores/restart';
      const first = await Promise.all([0, 1].map(() => node(space)));
      const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
      for (const [i, id] of ids.entries()) {
        expect((await (first[i % 2] as TestHub).publish({ topic, id, data: id })).status).toBe(200);
      }
      const hubMade = await (await (first[0] as TestHub).publish({ topic, data: 'hub-made' })).text();
      await Promise.all(first.map((hub) => hub.close()));
      const second = await Promise.all([0, 1].map(() => node(space)));
      const fromCustom = await follow([(second[1] as TestHub).subscribeUrl([topic])], { lastEventId: 's6' });
      await fromCustom.waitFor(4);
      expect(fromCustom.ids()).toEqual(['s7', 's8', 's9', hubMade]);
      expect((await (second[0] as TestHub).publish({ topic, id: 'after', data: 'x' })).status).toBe(200);
      // An ID the old nodes stored is still stored once.
      expect((await (second[0] as TestHub).publish({ topic, id: 's9', data: 'again' })).status).toBe(200);
      const fromHubMade = await follow([
        (second[0] as TestHub).subscribeUrl([topic], { lastEventID: hubMade }),
      ]);
      await fromCustom.waitFor(5);
      await fromHubMade.waitFor(1);
      await sleep(200);
      expect(fromCustom.ids()).toEqual(['s7', 's8', 's9', hubMade, 'after']);
      expect(fromHubMade.ids()).toEqual(['after']);
    },
  );

  it.skipIf(skip)('closes, and lets its hub close, while the engine stops passing bytes', async () => {
    const space = factory.space(teardown);
    const link = await proxy();
    const store = space.make({ port: link.port, storeTimeoutMs: STORE_TIMEOUT_MS });
    await store.open(() => {});
    link.pause(true);
    // A goodbye the server never answers must not hold the shutdown (a generous bound, not a speed).
    const closed = await Promise.race([store.close().then(() => true), sleep(10_000).then(() => false)]);
    expect(closed).toBe(true);
    expect(store.health()).toEqual({ ok: false, detail: 'closed' });
  });

  async function health(url: string): Promise<{ status: number; body: { status: string } }> {
    const response = await fetch(`${url}/healthz`);
    return { status: response.status, body: (await response.json()) as { status: string } };
  }

  for (const fault of ['refuses connections', 'stops passing bytes'] as const) {
    it.skipIf(skip)(
      `answers 503 with Retry-After, keeps subscribers and says degraded while the engine ${fault}; then resumes from the last position`,
      async () => {
        const space = factory.space(teardown);
        const link = await proxy();
        const a = await node(space, { port: link.port }, { heartbeatMs: 100 });
        const b = await node(space);
        const topic = 'https://example.com/stores/away';
        const follower = await follow([a.subscribeUrl([topic])]);
        expect((await a.publish({ topic, id: 'before', data: 'x' })).status).toBe(200);
        await follower.waitFor(1);
        expect((await health(a.url)).body.status).toBe('ok');

        if (fault === 'refuses connections') {
          link.refuse(true);
          link.resetAll();
        } else {
          link.pause(true);
        }
        const refused = await a.publish({ topic, id: 'refused', data: 'x' });
        expect(refused.status).toBe(503);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        await waitFor(async () => (await health(a.url)).status === 503, 10_000, '/healthz to say degraded');
        expect((await health(a.url)).body.status).toBe('degraded');
        // Published elsewhere meanwhile: A must deliver these once it is back.
        for (const id of ['while-1', 'while-2'])
          expect((await b.publish({ topic, id, data: id })).status).toBe(200);
        const heartbeats = follower.comments;
        await sleep(300);
        expect(follower.comments).toBeGreaterThan(heartbeats);

        link.refuse(false);
        link.pause(false);
        await follower.waitFor(3, 15_000);
        await waitFor(async () => (await health(a.url)).status === 200, 15_000, '/healthz to say ok again');
        const status = await waitFor(
          async () => {
            const response = await a.publish({ topic, id: 'after', data: 'x' });
            return response.status === 503 ? undefined : response.status;
          },
          15_000,
          'a publish on A not answered 503',
        );
        expect(status).toBe(200);
        await follower.waitFor(4, 10_000);
        await sleep(200);
        // A publish answered 503 may still have been stored ('refused' is then in its place, once).
        expect(follower.ids().filter((id) => id !== 'refused')).toEqual([
          'before',
          'while-1',
          'while-2',
          'after',
        ]);
        expect(new Set(follower.ids()).size).toBe(follower.ids().length);
        expect(follower.connections).toHaveLength(1);
      },
    );
  }
});
