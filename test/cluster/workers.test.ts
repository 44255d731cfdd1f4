// `siar serve --workers 2`, the real CLI (a primary and two worker processes on one port), with the
// memory store and with SQLite: one hub to its clients. node:cluster hands each new connection to
// the next worker in turn, so a test opens several and reads which worker served each
// (`X-Siar-Worker`).
import { describe, expect, it } from 'vitest';
import { Follower, lossAndDuplicates } from '../helpers/follower.js';
import { cliPublisherToken, type HubProcess, startHubProcess } from '../helpers/hub-process.js';
import { publishOnNewConnection, publishSlowly, publishTo, subscribeUrl } from '../helpers/hub-requests.js';
import { sleep, waitFor } from '../helpers/net.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { data, ids, tempDirsRemovedAfterEach } from '../hub/hub-helpers.js';
import { alive, health, healthWhen, metric, metricsWhen, openStreams, workerOf } from './cluster-helpers.js';

const TOPIC = 'https://example.com/workers';
const RETRY_MS = 2000;

const teardown = cleanupAfterEach();
const tempDir = tempDirsRemovedAfterEach();

describe.each(['memory', 'sqlite'])('siar serve --workers 2, %s store', (kind) => {
  const start = (): Promise<HubProcess> =>
    startHubProcess(teardown, {
      args: ['--workers', '2', ...(kind === 'sqlite' ? ['--store', `sqlite:${tempDir()}/hub.db`] : [])],
    });

  /** `count` subscribers to TOPIC, opened one after the other (so both workers get some). */
  async function subscribe(hub: HubProcess, count: number, lastEventId?: string): Promise<SseConnection[]> {
    const headers = lastEventId === undefined ? undefined : { 'last-event-id': lastEventId };
    const connections = await openStreams(teardown, subscribeUrl(hub.hubUrl, [TOPIC]), count, headers);
    expect(connections.map(({ status }) => status)).toEqual(connections.map(() => 200));
    return connections;
  }

  async function publishAll(hub: HubProcess, bearer: string, idList: string[]): Promise<void> {
    for (const id of idList) {
      const answer = await publishOnNewConnection(hub.hubUrl, bearer, {
        topic: TOPIC,
        id,
        data: `data of ${id}`,
      });
      expect(answer).toEqual({ status: 200, body: id });
    }
  }

  it('delivers what either worker accepts to the subscribers of both, once each, in order, with one ID; and counts as one hub', async () => {
    const hub = await start();
    expect(hub.line).toContain('2 workers');
    const bearer = await cliPublisherToken();
    const subscribers = await subscribe(hub, 6);
    const served = subscribers.map(workerOf);
    expect(new Set(served)).toEqual(new Set(['1', '2']));
    const published: string[] = [];
    for (let i = 0; i < 10; i++) {
      // The first five on one keep-alive connection (one worker), the others each on a new one (both).
      const fields = { topic: TOPIC, data: `d${i}` };
      const answer =
        i < 5
          ? await publishTo(hub.hubUrl, bearer, fields)
          : await publishOnNewConnection(hub.hubUrl, bearer, fields);
      expect(answer.status).toBe(200);
      published.push(answer.body);
    }
    expect(new Set(published).size).toBe(10);
    for (const subscriber of subscribers) await subscriber.waitForEvents(10);
    await sleep(200);
    for (const subscriber of subscribers) {
      expect(ids(subscriber)).toEqual(published);
      expect(data(subscriber)).toEqual(published.map((_, i) => `d${i}`));
    }

    // Either worker's /healthz and /metrics speak for both.
    const perWorker = (worker: string) => served.filter((each) => each === worker).length;
    const answer = await healthWhen(
      hub,
      (seen) =>
        seen.subscribers === 6 && seen.workers?.length === 2 && seen.workers.every((w) => w.subscribers > 0),
      'both workers counted in /healthz',
    );
    expect(answer.status).toBe('ok');
    expect(answer.workers?.map(({ worker, subscribers: count }) => [worker, count])).toEqual([
      [1, perWorker('1')],
      [2, perWorker('2')],
    ]);
    const text = await metricsWhen(
      hub,
      (seen) => metric(seen, 'siar_deliveries_total') === 60,
      '60 deliveries in /metrics',
    );
    expect(metric(text, 'siar_subscribers_connected')).toBe(6);
    expect(metric(text, 'mercure_subscribers_connected')).toBe(6);
    expect(metric(text, 'siar_updates_published_total')).toBe(10);
    expect(metric(text, 'siar_updates_dispatched_total')).toBe(10);
    expect(metric(text, 'siar_workers')).toBe(2);
    expect(metric(text, 'siar_history_size')).toBe(10);
    const published1 = metric(text, 'siar_worker_updates_published_total', '{worker="1"}') ?? 0;
    const published2 = metric(text, 'siar_worker_updates_published_total', '{worker="2"}') ?? 0;
    expect(published1 + published2).toBe(10);
    expect(Math.min(published1, published2)).toBeGreaterThan(0);
    expect(metric(text, 'siar_worker_subscribers_connected', '{worker="1"}')).toBe(perWorker('1'));
    expect(metric(text, 'siar_worker_deliveries_total', '{worker="2"}')).toBe(10 * perWorker('2'));
  });

  it('lets clients resume with Last-Event-ID on either worker, and on the one started in place of a worker killed with SIGKILL', async () => {
    const hub = await start();
    const bearer = await cliPublisherToken();
    const first = ['a1', 'a2', 'a3'];
    const second = ['b1', 'b2', 'b3'];
    const before = await subscribe(hub, 4);
    await publishAll(hub, bearer, first);
    for (const subscriber of before) await subscriber.waitForEvents(3);
    for (const subscriber of before) subscriber.close();
    await publishAll(hub, bearer, second);

    // Each comes back twice in a row: node:cluster gives consecutive connections to alternate workers.
    const resumed: SseConnection[] = [];
    for (let i = 0; i < before.length; i++) resumed.push(...(await subscribe(hub, 2, 'a3')));
    for (const subscriber of resumed) await subscriber.waitForEvents(3);
    await sleep(200);
    for (const subscriber of resumed) {
      expect(subscriber.headers['last-event-id']).toBe('a3');
      expect(ids(subscriber)).toEqual(second);
    }
    expect(new Set(resumed.map(workerOf))).toEqual(new Set(['1', '2']));
    expect(
      resumed.some((subscriber, i) => workerOf(subscriber) !== workerOf(before[i >> 1] as SseConnection)),
    ).toBe(true);
    for (const subscriber of resumed) subscriber.close();

    // Clients that follow the stream as EventSource does, across a worker killed with SIGKILL.
    const url = subscribeUrl(hub.hubUrl, [TOPIC]);
    const followers = [0, 1, 2, 3].map(() => new Follower([url], { lastEventId: 'b3' }));
    for (const follower of followers) {
      teardown(() => follower.close());
      await follower.ready();
    }
    const third = ['c1', 'c2', 'c3'];
    await publishAll(hub, bearer, third);
    for (const follower of followers) await follower.waitFor(3);
    // A worker sends its figures once a second: once they are in, what the killed one counted is kept.
    await metricsWhen(
      hub,
      (seen) => metric(seen, 'siar_updates_published_total') === 9,
      'nine updates counted',
    );
    const { workers = [] } = await healthWhen(hub, (seen) => seen.workers?.length === 2, 'two workers');
    const doomed = workers.find(({ worker }) => worker === 1);
    if (doomed === undefined) throw new Error('no worker 1');
    process.kill(doomed.pid, 'SIGKILL');
    const back = await healthWhen(
      hub,
      (seen) => seen.workers?.length === 2 && seen.workers.every(({ pid }) => pid !== doomed.pid),
      'another worker 1 in place of the one killed',
    );
    expect(back.workers?.map(({ worker }) => worker)).toEqual([1, 2]);
    expect(alive(doomed.pid)).toBe(false);
    const fourth = ['c4', 'c5', 'c6'];
    await publishAll(hub, bearer, fourth);
    const expected = [...third, ...fourth];
    for (const follower of followers) await follower.waitFor(expected.length, 20_000);
    await sleep(200);
    for (const follower of followers) {
      expect(lossAndDuplicates(expected, follower.ids())).toEqual({
        missing: [],
        duplicated: [],
        outOfOrder: false,
      });
      expect(follower.ids()).toEqual(expected);
    }
    // Those the killed worker served came back with the last ID they had.
    const moved = followers.filter((follower) => follower.connections.length > 1);
    expect(moved.length).toBeGreaterThan(0);
    for (const follower of moved) expect(follower.connections.at(-1)?.sentLastEventId).toMatch(/^c\d$/);

    // The new worker 1 holds none of the history itself: for an ID from before it, it asks the primary.
    const late = await subscribe(hub, 2, 'a1');
    expect(late.map(workerOf).sort()).toEqual(['1', '2']);
    const rest = [...first.slice(1), ...second, ...expected];
    for (const subscriber of late) await subscriber.waitForEvents(rest.length);
    await sleep(200);
    for (const subscriber of late) expect(ids(subscriber)).toEqual(rest);
    // The counts of the killed worker stay in the hub's totals.
    const text = await metricsWhen(
      hub,
      (seen) => metric(seen, 'siar_updates_published_total') === 12,
      'the twelve updates counted',
    );
    expect(metric(text, 'siar_workers_exited_total')).toBe(1);
  });

  it('shuts every worker down on SIGTERM as one hub: the publish in flight finishes and reaches everyone, then retry: and the end of every stream', async () => {
    const hub = await start();
    const bearer = await cliPublisherToken();
    const subscribers = await subscribe(hub, 4);
    expect(new Set(subscribers.map(workerOf))).toEqual(new Set(['1', '2']));
    await publishAll(hub, bearer, ['x1']);
    for (const subscriber of subscribers) await subscriber.waitForEvents(1);
    const { workers = [] } = await healthWhen(hub, (seen) => seen.workers?.length === 2, 'two workers');

    // A publish whose body is still on its way, to one worker, when SIGTERM comes.
    const body = `topic=${encodeURIComponent(TOPIC)}&id=in-flight&data=${'x'.repeat(100)}`;
    const answer = await publishSlowly(hub.hubUrl, bearer, body, () => hub.child.kill('SIGTERM'));
    expect(answer).toEqual({ status: 200, body: 'in-flight' });
    expect(await hub.exited).toBe(0);
    expect(hub.stdout()).toContain('SIGTERM: shutting down');
    for (const subscriber of subscribers) {
      await subscriber.ended;
      // The subscribers of the other worker too: it waited for the publish before ending its streams.
      expect(ids(subscriber)).toEqual(['x1', 'in-flight']);
      expect(subscriber.retries).toEqual([RETRY_MS]);
      expect(subscriber.text.trimEnd().endsWith(`retry: ${RETRY_MS}`)).toBe(true);
    }
    for (const { pid } of workers) expect(alive(pid)).toBe(false);
  }, 60_000);
});

describe('siar serve --workers: the whole hub', () => {
  it('holds --max-subscribers for the hub as a whole, whichever worker a subscriber reaches', async () => {
    // Heartbeats often, so that a subscriber's leaving is seen at once.
    const hub = await startHubProcess(teardown, {
      args: ['--workers', '2', '--max-subscribers', '3', '--heartbeat', '200'],
    });
    const url = subscribeUrl(hub.hubUrl, [TOPIC]);
    const admitted = await openStreams(teardown, url, 3);
    expect(admitted.map(({ status }) => status)).toEqual([200, 200, 200]);
    expect(new Set(admitted.map(workerOf))).toEqual(new Set(['1', '2']));
    // Two more, one after the other: one to each worker, each refused.
    for (const refused of await openStreams(teardown, url, 2)) {
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('10');
    }
    (admitted[0] as SseConnection).close();
    const next = await waitFor(
      async () => {
        const connection = await openSse(url);
        teardown(() => connection.close());
        if (connection.status === 200) return connection;
        connection.close();
        await sleep(100);
        return undefined;
      },
      10_000,
      'a place once a subscriber left',
    );
    expect(next?.status).toBe(200);
  });

  it('lists every worker in the subscriptions API and on the dashboard', async () => {
    const hub = await startHubProcess(teardown, { args: ['--workers', '2', '--subscriptions'] });
    const bearer = await cliPublisherToken();
    const subscribers: SseConnection[] = [];
    for (let i = 0; i < 4; i++) {
      subscribers.push(...(await openStreams(teardown, subscribeUrl(hub.hubUrl, [`${TOPIC}/${i}`]), 1)));
    }
    expect(new Set(subscribers.map(workerOf))).toEqual(new Set(['1', '2']));
    const listed = await waitFor(
      async () => {
        const response = await fetch(`${hub.hubUrl}/subscriptions`, {
          headers: { authorization: `Bearer ${bearer}` },
        });
        const body = (await response.json()) as { subscriptions: Array<{ topic: string }> };
        return body.subscriptions.length === 4 ? body.subscriptions : undefined;
      },
      10_000,
      'the four subscriptions listed',
    );
    expect(listed?.map(({ topic }) => topic).sort()).toEqual([0, 1, 2, 3].map((i) => `${TOPIC}/${i}`));
    // The dashboard's figures, from the worker its watcher reaches: every worker's subscribers, every worker.
    const watcher = await openSse(
      `${hub.hubUrl}?topic=${encodeURIComponent('/.well-known/mercure/dashboard')}`,
      {
        headers: { authorization: `Bearer ${bearer}` },
      },
    );
    teardown(() => watcher.close());
    const figures = await waitFor(
      async () => {
        const last = watcher.events.at(-1);
        const parsed =
          last && (JSON.parse(last.data) as { subscribers: number; nodes: Array<{ id: string }> | null });
        return parsed && parsed.subscribers === 5 && parsed.nodes?.length === 2 ? parsed : undefined;
      },
      10_000,
      'dashboard figures of both workers',
    );
    expect(figures?.nodes?.map(({ id }) => id).sort()).toEqual(['worker-1', 'worker-2']);
  });

  it('takes the workers down with the primary when it is killed (SIGKILL), and reads SIAR_WORKERS', async () => {
    const hub = await startHubProcess(teardown, { env: { SIAR_WORKERS: '2' } });
    expect(hub.line).toContain('2 workers');
    const { workers = [] } = await healthWhen(hub, (seen) => seen.workers?.length === 2, 'two workers');
    process.kill(hub.pid, 'SIGKILL');
    await waitFor(() => workers.every(({ pid }) => !alive(pid)), 10_000, 'the workers to exit');
    expect(await health(hub)).toBeUndefined();
  });

  it('refuses a --workers that is not a count or auto', async () => {
    const hub = startHubProcess(teardown, { args: ['--workers', 'many'] });
    await expect(hub).rejects.toThrow(/--workers must be a number from 1 to 256, or auto; got "many"/);
  });
});
