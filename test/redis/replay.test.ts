import { expect, it } from 'vitest';
import { lossAndDuplicates, useFollowers } from '../helpers/follower.js';
import { sleep, waitFor } from '../helpers/net.js';
import { describeRedis, prefixFor, redisClient, redisUser, startRedisHub } from '../helpers/redis.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

const TOPIC = 'https://example.com/redis/replay';

describeRedis('redis store: reconciliation across nodes (Last-Event-ID)', () => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  async function nodes(count: number, historySize?: number) {
    const prefix = prefixFor(teardown);
    const started = await Promise.all(
      Array.from({ length: count }, () =>
        startRedisHub(teardown, { prefix, historySize, presenceTtlMs: 600 }),
      ),
    );
    return { prefix, nodes: started };
  }

  it('replays exactly the updates after a Last-Event-ID given to another node, then goes on live', async () => {
    const {
      nodes: [a, b],
    } = await nodes(2);
    if (a === undefined || b === undefined) throw new Error('no nodes');
    const hubMade: string[] = [];
    for (let i = 0; i < 5; i++) hubMade.push(await (await a.publish({ topic: TOPIC, data: `h${i}` })).text());
    for (let i = 0; i < 5; i++)
      expect((await a.publish({ topic: TOPIC, id: `c${i}`, data: `c${i}` })).status).toBe(200);

    // A client-chosen ID maps to its stream position…
    const fromClientId = await follow([b.subscribeUrl([TOPIC])], { lastEventId: 'c1' });
    // …and so does a hub-made one; the query parameter works as the header does.
    const fromHubId = await follow([b.subscribeUrl([TOPIC], { lastEventID: hubMade[3] as string })]);
    await fromClientId.waitFor(3);
    await fromHubId.waitFor(6);
    expect(fromClientId.connections[0]?.lastEventIdHeader).toBe('c1');
    expect(fromHubId.connections[0]?.lastEventIdHeader).toBe(hubMade[3]);
    expect(fromClientId.ids()).toEqual(['c2', 'c3', 'c4']);
    expect(fromHubId.ids()).toEqual([hubMade[4], 'c0', 'c1', 'c2', 'c3', 'c4']);

    expect((await a.publish({ topic: TOPIC, id: 'live', data: 'live' })).status).toBe(200);
    await fromClientId.waitFor(4);
    await fromHubId.waitFor(7);
    expect(fromClientId.ids().at(-1)).toBe('live');
    expect(fromHubId.ids().at(-1)).toBe('live');
    expect(fromClientId.ids()).toHaveLength(4);
    expect(fromHubId.ids()).toHaveLength(7);
  });

  it('misses nothing and doubles nothing when a subscriber moves between nodes under a steady publisher', async () => {
    const {
      nodes: [a, b, c],
    } = await nodes(3);
    if (a === undefined || b === undefined || c === undefined) throw new Error('no nodes');
    const follower = await follow([
      a.subscribeUrl([TOPIC]),
      c.subscribeUrl([TOPIC]),
      b.subscribeUrl([TOPIC]),
    ]);
    const expected = Array.from({ length: 150 }, (_, i) => `u${i}`);
    const publishing = (async () => {
      for (const id of expected) {
        const response = await b.publish({ topic: TOPIC, id, data: id });
        expect(response.status).toBe(200);
      }
    })();
    // Moves while updates keep coming: A -> C after 30, C -> B after 90.
    await follower.waitFor(30);
    await follower.moveTo(1);
    await follower.waitFor(90);
    await follower.moveTo(2);
    await publishing;
    await follower.waitFor(150);
    // Let anything doubled arrive before counting.
    expect((await b.publish({ topic: TOPIC, id: 'end', data: 'end' })).status).toBe(200);
    await follower.waitFor(151);
    expect(lossAndDuplicates(expected, follower.ids())).toEqual({
      missing: [],
      duplicated: [],
      outOfOrder: false,
    });
    expect(follower.ids()).toEqual([...expected, 'end']);
    const [, second, third] = follower.connections;
    expect(second?.url).toContain(new URL(c.url).port);
    expect(second?.lastEventIdHeader).toBe(second?.sentLastEventId);
    expect(third?.lastEventIdHeader).toBe(third?.sentLastEventId);
    expect(second?.sentLastEventId).toMatch(/^u\d+$/);
  });

  it('does not send again what a lagging node dispatches after a replay already sent it', async () => {
    const prefix = prefixFor(teardown);
    const laggard = await redisUser(teardown);
    const a = await startRedisHub(teardown, { prefix });
    // B's read loop is made to lag: its reader connection is killed and comes back after a backoff.
    const b = await startRedisHub(teardown, { prefix, url: laggard.url });
    const follower = await follow([a.subscribeUrl([TOPIC]), b.subscribeUrl([TOPIC])]);
    expect((await a.publish({ topic: TOPIC, id: 'before', data: 'x' })).status).toBe(200);
    await follower.waitFor(1);
    expect(await laggard.killConnections('siar-reader')).toBe(1);
    for (const id of ['l0', 'l1', 'l2'])
      expect((await a.publish({ topic: TOPIC, id, data: id })).status).toBe(200);
    await follower.waitFor(4);
    // Moves to B, which has not read l0…l2 yet: nothing to replay after l2, and l0…l2 arrive on B later.
    await follower.moveTo(1);
    expect(follower.connections[1]?.lastEventIdHeader).toBe('l2');
    await waitFor(() => b.hub.stats().updatesDispatched >= 4, 5000, 'B to read l0…l2');
    expect((await a.publish({ topic: TOPIC, id: 'after', data: 'x' })).status).toBe(200);
    await follower.waitFor(5);
    await sleep(100);
    expect(follower.ids()).toEqual(['before', 'l0', 'l1', 'l2', 'after']);
  });

  it('replays the whole history for "earliest" and for an ID the history does not hold (header "earliest")', async () => {
    const {
      nodes: [a, b],
    } = await nodes(2);
    if (a === undefined || b === undefined) throw new Error('no nodes');
    for (let i = 0; i < 4; i++)
      expect((await a.publish({ topic: TOPIC, id: `e${i}`, data: 'x' })).status).toBe(200);
    const earliest = await follow([b.subscribeUrl([TOPIC], { lastEventID: 'earliest' })]);
    const unknown = await follow([b.subscribeUrl([TOPIC])], { lastEventId: 'never-published' });
    await earliest.waitFor(4);
    await unknown.waitFor(4);
    expect(earliest.ids()).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(unknown.ids()).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(earliest.connections[0]?.lastEventIdHeader).toBe('earliest');
    expect(unknown.connections[0]?.lastEventIdHeader).toBe('earliest');
  });

  it('keeps about historySize updates (MAXLEN ~), trims the ID index with the stream, and replays what is kept', async () => {
    const historySize = 20;
    const {
      prefix,
      nodes: [a, b],
    } = await nodes(2, historySize);
    if (a === undefined || b === undefined) throw new Error('no nodes');
    // Batches published at once put many entries in one millisecond: stream positions `ms-0`, `ms-1`…
    const published: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const ids = Array.from({ length: 30 }, (_, i) => `k${batch * 30 + i}`);
      await Promise.all(ids.map((id) => a.hub.publish({ topics: [TOPIC], id, data: 'x' })));
      published.push(...ids);
    }
    const redis = redisClient();
    teardown(() => redis.disconnect());
    await redis.connect();
    const nodeMax = Number((await redis.config('GET', 'stream-node-max-entries'))[1]);
    const length = await redis.xlen(`{${prefix}}:updates`);
    // "About": at least historySize, at most one stream node more (Redis trims whole nodes).
    expect(length).toBeGreaterThanOrEqual(historySize);
    expect(length).toBeLessThanOrEqual(historySize + nodeMax);
    expect(length).toBeLessThan(300);
    const entries = await redis.xrange(`{${prefix}}:updates`, '-', '+');
    const kept = entries.map(([, fields]) => fields[fields.indexOf('id') + 1] as string);
    expect(new Set(kept)).toEqual(new Set(published.slice(-length)));
    // The ID index holds exactly the IDs the stream still holds.
    expect((await redis.zrange(`{${prefix}}:ids`, '0', '-1')).sort()).toEqual([...kept].sort());

    const earliest = await follow([b.subscribeUrl([TOPIC], { lastEventID: 'earliest' })]);
    await earliest.waitFor(length);
    expect(earliest.ids()).toEqual(kept);
    // An ID trimmed away is no longer known: everything kept is replayed.
    const trimmed = await follow([b.subscribeUrl([TOPIC])], { lastEventId: published[0] });
    await trimmed.waitFor(length);
    expect(trimmed.connections[0]?.lastEventIdHeader).toBe('earliest');
    expect(trimmed.ids()).toEqual(kept);
    const fromKept = await follow([b.subscribeUrl([TOPIC])], { lastEventId: kept.at(-11) });
    await fromKept.waitFor(10);
    expect(fromKept.ids()).toEqual(kept.slice(-10));
    // Even the oldest ID kept is still found.
    const fromOldest = await follow([b.subscribeUrl([TOPIC])], { lastEventId: kept[0] });
    await fromOldest.waitFor(length - 1);
    expect(fromOldest.connections[0]?.lastEventIdHeader).toBe(kept[0]);
    expect(fromOldest.ids()).toEqual(kept.slice(1));

    await waitFor(() => b.hub.stats().historySize === length, 5000, 'the history size in the stats');
    expect(await b.hub.metrics()).toMatch(new RegExp(`^siar_history_size ${length}$`, 'm'));
  });
});
