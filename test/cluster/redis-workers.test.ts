// `siar serve --workers 2 --store redis://…`: each worker is a node of its own on Redis (the
// primary holds no history), and the primary still admits and counts for the whole hub.
import { expect, it } from 'vitest';
import { cliPublisherToken, startHubProcess } from '../helpers/hub-process.js';
import { publishOnNewConnection, subscribeUrl } from '../helpers/hub-requests.js';
import { sleep, waitFor } from '../helpers/net.js';
import { describeRedis, prefixFor, REDIS_URL } from '../helpers/redis.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { ids } from '../hub/hub-helpers.js';
import { healthWhen, openStreams, workerOf } from './cluster-helpers.js';

const TOPIC = 'https://example.com/workers/redis';

describeRedis('siar serve --workers 2 on Redis', () => {
  const teardown = cleanupAfterEach();

  it('delivers once, in one order, with one ID; keeps an id stored once across workers; lists and counts both workers', async () => {
    const store = new URL(REDIS_URL);
    store.searchParams.set('prefix', prefixFor(teardown));
    const hub = await startHubProcess(teardown, {
      args: ['--workers', '2', '--store', store.toString(), '--subscriptions'],
    });
    expect(hub.line).toContain('store: redis, 2 workers');
    const bearer = await cliPublisherToken();
    const subscribers = await openStreams(teardown, subscribeUrl(hub.hubUrl, [TOPIC]), 4);
    expect(new Set(subscribers.map(workerOf))).toEqual(new Set(['1', '2']));
    // r2 twice, on two connections (two workers): the history keeps it once, every subscriber gets it once.
    for (const id of ['r1', 'r2', 'r2', 'r3']) {
      const answer = await publishOnNewConnection(hub.hubUrl, bearer, { topic: TOPIC, id, data: id });
      expect(answer).toEqual({ status: 200, body: id });
    }
    for (const subscriber of subscribers) await subscriber.waitForEvents(3);
    await sleep(300);
    for (const subscriber of subscribers) expect(ids(subscriber)).toEqual(['r1', 'r2', 'r3']);
    const listed = await waitFor(
      async () => {
        const response = await fetch(`${hub.hubUrl}/subscriptions`, {
          headers: { authorization: `Bearer ${bearer}` },
        });
        const body = (await response.json()) as { subscriptions: unknown[] };
        return body.subscriptions.length === 4 ? body.subscriptions : undefined;
      },
      10_000,
      'the subscriptions of both workers listed',
    );
    expect(listed).toHaveLength(4);
    const health = await healthWhen(
      hub,
      (seen) =>
        seen.subscribers === 4 && seen.workers?.every(({ subscribers: count }) => count === 2) === true,
      'both workers counted',
    );
    expect(health.workers?.map(({ worker }) => worker)).toEqual([1, 2]);
  });
});
