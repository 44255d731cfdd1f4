// Faults between a hub and its store, made for real: two hub nodes on one Redis, node A reaching it
// through a TCP proxy that stops passing bytes (its connections left open: a partition) or resets
// every connection, node B straight on Redis; Redis killing A's connections itself (CLIENT KILL);
// and a SQLite file whose lock another connection holds. Each check ends with every acknowledged
// update delivered once, in order, to the subscribers of both nodes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/hub/stores/sqlite.js';
import { openSqlite } from '../../src/hub/stores/sqlite-binding.js';
import { lossAndDuplicates, useFollowers } from '../helpers/follower.js';
import { cliPublisherToken, type HubProcess, startHubProcess } from '../helpers/hub-process.js';
import { sleep, waitFor } from '../helpers/net.js';
import { describeRedis, prefixFor, REDIS_URL, redisUser, startRedisHub } from '../helpers/redis.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { startHub, type TestHub } from '../hub/hub-helpers.js';

/** The hubs' storeTimeoutMs here: short, so that a partition outlasts it many times. */
const STORE_TIMEOUT_MS = 800;
/** How long the partition lasts: several times the deadline. */
const PARTITION_MS = 3000;
const TOPIC = 'https://example.com/faults';

describe('faults between a hub and its store', () => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  function metric(text: string, name: string): number {
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  }

  async function metrics(hub: TestHub): Promise<string> {
    return (await fetch(`${hub.url}/metrics`)).text();
  }

  /** Publishes `id` until it is answered 200 (retrying a 503 with the same ID, as a publisher should). */
  async function publishUntilStored(hub: TestHub, id: string): Promise<void> {
    await waitFor(
      async () => (await hub.publish({ topic: TOPIC, id, data: id })).status === 200,
      15_000,
      `${id} to be stored`,
    );
  }

  /**
   * Node A through a TCP proxy (connecting as `aUrl`'s user), node B straight on Redis, on one
   * prefix; heartbeats every 100 ms; a subscriber on each.
   */
  async function twoNodes(aUrl = REDIS_URL) {
    const prefix = prefixFor(teardown);
    const link = await startTcpProxy(Number(new URL(REDIS_URL).port || 6379));
    teardown(() => link.close());
    const throughLink = new URL(aUrl);
    throughLink.port = String(link.port);
    const store = { prefix, readBlockMs: 500, presenceTtlMs: 1500, storeTimeoutMs: STORE_TIMEOUT_MS };
    const hubOptions = { heartbeatMs: 100, storeTimeoutMs: STORE_TIMEOUT_MS };
    const a = await startRedisHub(teardown, { ...store, url: throughLink.toString() }, hubOptions);
    const b = await startRedisHub(teardown, { ...store, url: REDIS_URL }, hubOptions);
    const onA = await follow([a.subscribeUrl([TOPIC])]);
    const onB = await follow([b.subscribeUrl([TOPIC])]);
    return { link, a, b, onA, onB };
  }

  type Follower = Awaited<ReturnType<typeof follow>>;

  /** Every acknowledged update on both nodes' subscribers once, in one order, each publisher's in its order. */
  async function expectDelivered(followers: Follower[], publishers: string[][]): Promise<void> {
    const all = publishers.flat();
    for (const follower of followers) await follower.waitFor(all.length, 15_000);
    await sleep(300);
    const reference = followers[0]?.ids() as string[];
    expect(new Set(reference)).toEqual(new Set(all));
    for (const follower of followers) {
      expect(follower.ids()).toEqual(reference);
      for (const ids of publishers) {
        expect(lossAndDuplicates(ids, follower.ids())).toEqual({
          missing: [],
          duplicated: [],
          outOfOrder: false,
        });
      }
      // Never disconnected: the fault was the store's, not theirs.
      expect(follower.connections).toHaveLength(1);
    }
  }

  describeRedis('a hub node whose link to Redis stops passing bytes (a partition)', () => {
    it(`answers a publish 503 with Retry-After within storeTimeoutMs, keeps its subscribers, and resumes from the last position once it heals`, async () => {
      const { link, a, b, onA, onB } = await twoNodes();
      expect((await a.publish({ topic: TOPIC, id: 'a-before', data: 'x' })).status).toBe(200);
      expect((await b.publish({ topic: TOPIC, id: 'b-before', data: 'x' })).status).toBe(200);
      await onA.waitFor(2);

      link.pause(true);
      const partitioned = performance.now();
      const during = a.publish({ topic: TOPIC, id: 'a-during', data: 'x' });
      // Published on B meanwhile: A's subscribers must get these once it is back.
      const onB_during = ['b-during-1', 'b-during-2', 'b-during-3'];
      for (const id of onB_during) expect((await b.publish({ topic: TOPIC, id, data: id })).status).toBe(200);
      const heartbeats = onA.comments;
      // Answered while the partition lasts: it does not wait for it to end.
      const answer = await Promise.race([during, sleep(PARTITION_MS).then(() => undefined)]);
      expect(answer?.status).toBe(503);
      expect(Number(answer?.headers.get('retry-after'))).toBeGreaterThan(0);
      // A subscriber asking for its history meanwhile is answered too (503), not held.
      const history = await Promise.race([
        fetch(a.subscribeUrl([TOPIC], { lastEventID: 'a-before' })),
        sleep(PARTITION_MS).then(() => undefined),
      ]);
      expect(history?.status).toBe(503);
      expect(Number(history?.headers.get('retry-after'))).toBeGreaterThan(0);
      await sleep(Math.max(0, PARTITION_MS - (performance.now() - partitioned)));
      expect(onA.comments).toBeGreaterThan(heartbeats);
      const meanwhile = await metrics(a);
      expect(metric(meanwhile, 'siar_store_timeouts_total')).toBeGreaterThan(0);
      // The silent connections were found out and made again (still through the partition).
      expect(metric(meanwhile, 'siar_store_links_replaced_total')).toBeGreaterThan(0);

      link.pause(false);
      // The publisher of the refused update retries it: stored once, whether or not the first try was.
      await publishUntilStored(a, 'a-during');
      await publishUntilStored(a, 'a-after');
      expect((await b.publish({ topic: TOPIC, id: 'b-after', data: 'x' })).status).toBe(200);
      await expectDelivered(
        [onA, onB],
        [
          ['a-before', 'a-during', 'a-after'],
          ['b-before', ...onB_during, 'b-after'],
        ],
      );
    });
  });

  describeRedis('siar serve: two nodes, one of them through a partition', () => {
    it('answers a publish within --store-timeout while it lasts, and delivers every update once on both nodes', async () => {
      const prefix = prefixFor(teardown);
      const link = await startTcpProxy(Number(new URL(REDIS_URL).port || 6379));
      teardown(() => link.close());
      const store = (port: number) => `redis://127.0.0.1:${port}/0?prefix=${prefix}`;
      const [a, b] = await Promise.all([
        startHubProcess(teardown, {
          args: [
            '--store',
            store(link.port),
            '--store-timeout',
            String(STORE_TIMEOUT_MS),
            '--heartbeat',
            '100',
          ],
        }),
        startHubProcess(teardown, {
          args: ['--store', store(Number(new URL(REDIS_URL).port || 6379)), '--heartbeat', '100'],
        }),
      ]);
      const token = await cliPublisherToken();
      const publish = (hub: HubProcess, id: string) =>
        fetch(hub.hubUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          body: new URLSearchParams({ topic: TOPIC, id, data: id }),
        });
      const subscribe = `?topic=${encodeURIComponent(TOPIC)}`;
      const onA = await follow([`${a.hubUrl}${subscribe}`]);
      const onB = await follow([`${b.hubUrl}${subscribe}`]);
      expect((await publish(a, 'a-before')).status).toBe(200);

      link.pause(true);
      const answer = await Promise.race([publish(a, 'a-during'), sleep(PARTITION_MS).then(() => undefined)]);
      expect(answer?.status).toBe(503);
      expect(Number(answer?.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await publish(b, 'b-during')).status).toBe(200);
      link.pause(false);

      await waitFor(
        async () => (await publish(a, 'a-during')).status === 200,
        15_000,
        'a-during to be stored',
      );
      await expectDelivered([onA, onB], [['a-before', 'a-during'], ['b-during']]);
    });
  });

  describeRedis('a hub node whose connections to Redis are reset in the middle of a burst', () => {
    const PUBLISHERS = 3;
    const PER_PUBLISHER = 20;

    for (const fault of ['the proxy resets every connection', 'Redis kills them (CLIENT KILL)'] as const) {
      it(`acknowledges all ${PUBLISHERS * PER_PUBLISHER} publishes (none answered 503) when ${fault} after the first 20`, async () => {
        // A user of the test's own: CLIENT KILL USER reaches this hub's connections only.
        const user = await redisUser(teardown);
        const { link, a, onA, onB } = await twoNodes(user.url);
        const ids = Array.from({ length: PUBLISHERS }, (_, p) =>
          Array.from({ length: PER_PUBLISHER }, (_, i) => `p${p}-${i}`),
        );
        let accepted = 0;
        const refused: string[] = [];
        let resetDone: Promise<number> | undefined;
        await Promise.all(
          ids.map(async (mine) => {
            for (const id of mine) {
              for (;;) {
                const response = await a.publish({ topic: TOPIC, id, data: id });
                if (response.status === 200) break;
                refused.push(`${id}: ${response.status}`);
                await sleep(20);
              }
              if (++accepted === 20) {
                resetDone =
                  fault === 'the proxy resets every connection'
                    ? Promise.resolve(link.resetAll())
                    : user.killConnections();
              }
            }
          }),
        );
        // Both of A's connections (commands and the blocking reader) went.
        expect(await resetDone).toBeGreaterThanOrEqual(2);
        expect(refused).toEqual([]);
        expect(metric(await metrics(a), 'siar_store_appends_ridden_through_total')).toBeGreaterThan(0);
        await expectDelivered([onA, onB], ids);
      });
    }
  });

  describe('a SQLite store whose file another connection holds locked', () => {
    it('answers a publish 503 with Retry-After within storeTimeoutMs (the busy timeout), then stores it once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'siar-faults-'));
      teardown(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, 'hub.db');
      const hub = await startHub({
        anonymous: true,
        heartbeatMs: 0,
        storeTimeoutMs: STORE_TIMEOUT_MS,
        store: new SqliteStore({ path, storeTimeoutMs: 300 }),
      });
      teardown(() => hub.close());
      const watcher = await follow([hub.subscribeUrl([TOPIC])]);
      expect((await hub.publish({ topic: TOPIC, id: 'before', data: 'x' })).status).toBe(200);

      const other = openSqlite(path);
      teardown(() => other.close());
      other.exec('BEGIN IMMEDIATE');
      // Answered while the lock is still held: the default busy timeout (5 s) would outlast the wait here.
      const answer = await Promise.race([
        hub.publish({ topic: TOPIC, id: 'while-locked', data: 'x' }),
        sleep(3000).then(() => undefined),
      ]);
      other.exec('COMMIT');
      expect(answer?.status).toBe(503);
      expect(Number(answer?.headers.get('retry-after'))).toBeGreaterThan(0);

      await publishUntilStored(hub, 'while-locked');
      await publishUntilStored(hub, 'while-locked');
      expect((await hub.publish({ topic: TOPIC, id: 'after', data: 'x' })).status).toBe(200);
      await watcher.waitFor(3);
      await sleep(200);
      expect(watcher.ids()).toEqual(['before', 'while-locked', 'after']);
    });
  });
});
