import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createToken } from '../../src/hub/index.js';
import { SqliteStore } from '../../src/hub/stores/sqlite.js';
import { sleep, waitFor } from '../helpers/net.js';
import { openSse as openRaw } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import {
  cliKilledAfterEach,
  ids,
  sseClosedAfterEach,
  startHub,
  type TestHub,
  tempDirsRemovedAfterEach,
  token,
} from './hub-helpers.js';

const defer = cleanupAfterEach();
const openSse = sseClosedAfterEach();
const tempDir = tempDirsRemovedAfterEach();
const siar = cliKilledAfterEach();

const TOPIC = 'https://example.com/feed';

/** A hub on a SQLite file; closed (with its store) after the test unless closed before. */
async function sqliteHub(path: string, historySize?: number): Promise<TestHub> {
  const h = await startHub({ anonymous: true, store: new SqliteStore({ path, historySize }) });
  let closed = false;
  defer(() => (closed ? undefined : h.close()));
  return {
    ...h,
    close: async () => {
      closed = true;
      await h.close();
    },
  };
}

describe('hub with the SQLite store', () => {
  it('replays across a restart of the hub, every field and the private flag intact', async () => {
    const path = join(tempDir(), 'hub.db');
    const first = await sqliteHub(path);
    await first.publish({ topic: TOPIC, id: 's1', data: 'one' });
    await first.publish({
      topic: [TOPIC, 'urn:alt:2'],
      id: 's2',
      data: 'two\nlines',
      type: 'kind',
      retry: '700',
    });
    await first.publish({ topic: TOPIC, id: 's3', data: 'secret', private: 'on' });
    await first.publish({ topic: 'https://example.com/other', id: 's4' });
    await first.publish({ topic: TOPIC, id: 's5', data: 'five' });
    await first.close();

    const second = await sqliteHub(path);
    expect(second.hub.stats().historySize).toBe(5);
    const resumed = await openSse(second.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 's1' } });
    expect(resumed.headers['last-event-id']).toBe('s1');
    const everything = await openSse(second.subscribeUrl(['*']), {
      headers: { 'last-event-id': 'earliest', authorization: `Bearer ${await token({ subscribe: ['*'] })}` },
    });
    const byAlternate = await openSse(second.subscribeUrl(['urn:alt:2']), {
      headers: { 'last-event-id': 'earliest' },
    });
    await resumed.waitForEvents(2);
    await everything.waitForEvents(5);
    await byAlternate.waitForEvents(1);
    expect(resumed.events).toEqual([
      { type: 'kind', data: 'two\nlines', lastEventId: 's2' },
      { type: 'message', data: 'five', lastEventId: 's5' },
    ]);
    expect(resumed.retries).toEqual([700]);
    expect(ids(everything)).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect(ids(byAlternate)).toEqual(['s2']);
    // And live after the replay.
    await second.publish({ topic: TOPIC, id: 's6' });
    await resumed.waitForEvents(3);
    expect(ids(resumed)).toEqual(['s2', 's5', 's6']);
  });

  it('keeps historySize updates, before and after a restart', async () => {
    const path = join(tempDir(), 'bounded.db');
    const first = await sqliteHub(path, 5);
    for (let i = 1; i <= 20; i++)
      expect((await first.publish({ topic: TOPIC, id: `b${i}` })).status).toBe(200);
    const check = async (h: TestHub) => {
      expect(h.hub.stats().historySize).toBe(5);
      const earliest = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'earliest' } });
      const evicted = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'b3' } });
      const kept = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'b17' } });
      expect(evicted.headers['last-event-id']).toBe('earliest');
      expect(kept.headers['last-event-id']).toBe('b17');
      await earliest.waitForEvents(5);
      await evicted.waitForEvents(5);
      await kept.waitForEvents(3);
      await sleep(20);
      expect(ids(earliest)).toEqual(['b16', 'b17', 'b18', 'b19', 'b20']);
      expect(ids(evicted)).toEqual(['b16', 'b17', 'b18', 'b19', 'b20']);
      expect(ids(kept)).toEqual(['b18', 'b19', 'b20']);
      for (const client of [earliest, evicted, kept]) client.close();
    };
    await check(first);
    await first.close();
    await check(await sqliteHub(path, 5));
  });

  it('replays from the disk what its memory cache no longer holds', async () => {
    const path = join(tempDir(), 'cache.db');
    const h = await startHub({ anonymous: true, store: new SqliteStore({ path, cacheSize: 3 }) });
    defer(() => h.close());
    for (let i = 1; i <= 10; i++) await h.publish({ topic: TOPIC, id: `c${i}` });
    const client = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'c2' } });
    expect(client.headers['last-event-id']).toBe('c2');
    await client.waitForEvents(8);
    expect(ids(client)).toEqual(['c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10']);
  });

  it('keeps every acknowledged update through a kill -9 of the siar serve process', async () => {
    const dir = tempDir();
    const store = `sqlite:${join(dir, 'crash.db')}`;
    const key = 'crash-test-secret-of-a-decent-length';
    const serve = () => {
      const run = siar([
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--store',
        store,
        '--publisher-jwt-key',
        key,
      ]);
      return run
        .waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)\/\.well-known\/mercure \(store: sqlite\)/)
        .then((match) => ({ run, hubUrl: `${match[1]}/.well-known/mercure` }));
    };
    const first = await serve();
    const publisher = await createToken({ publish: ['*'] }, key);
    const acknowledged: string[] = [];
    for (let i = 0; i < 60; i++) {
      const response = await fetch(first.hubUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher}` },
        body: new URLSearchParams({ topic: TOPIC, data: String(i) }),
      });
      expect(response.status).toBe(200);
      acknowledged.push(await response.text());
    }
    first.run.child.kill('SIGKILL');
    expect(await first.run.exited).toBe('SIGKILL');

    const second = await serve();
    const subscriber = await createToken({}, key);
    const from = 4;
    const client = await openRaw(`${second.hubUrl}?topic=${encodeURIComponent(TOPIC)}`, {
      headers: { authorization: `Bearer ${subscriber}`, 'last-event-id': acknowledged[from] as string },
    });
    defer(() => client.close());
    expect(client.status).toBe(200);
    expect(client.headers['last-event-id']).toBe(acknowledged[from]);
    // A final update after the restart: once it arrives, the replay is complete.
    const sentinel = await fetch(second.hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher}` },
      body: new URLSearchParams({ topic: TOPIC, data: 'after restart' }),
    });
    expect(sentinel.status).toBe(200);
    const sentinelId = await sentinel.text();
    await waitFor(() => ids(client).includes(sentinelId), 10_000, 'the sentinel');
    expect(ids(client)).toEqual([...acknowledged.slice(from + 1), sentinelId]);
    expect(client.events.slice(0, -1).map((event) => Number(event.data))).toEqual(
      Array.from({ length: 60 - from - 1 }, (_, i) => i + from + 1),
    );
  }, 30_000);
});
