import { describe, expect, it } from 'vitest';
import { MemoryStore, type ReplayResult, type StoredUpdate } from '../../src/hub/index.js';
import { sleep, waitFor } from '../helpers/net.js';
import { openSse as openRaw } from '../helpers/sse-client.js';
import { data, hubsClosedAfterEach, ids, sseClosedAfterEach, type TestHub, token } from './hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const TOPIC = 'https://example.com/feed';

async function publishMany(h: TestHub, names: string[], fields: Record<string, string> = {}): Promise<void> {
  for (const id of names) {
    const response = await h.publish({ topic: TOPIC, data: `data of ${id}`, id, ...fields });
    expect(response.status).toBe(200);
  }
}

describe('hub reconciliation: Last-Event-ID', () => {
  it('replays what followed the Last-Event-ID header, answers it in the Last-Event-ID response header, then goes live', async () => {
    const h = await startHub({ anonymous: true });
    await publishMany(h, ['e1', 'e2', 'e3', 'e4']);
    const client = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'e2' } });
    expect(client.headers['last-event-id']).toBe('e2');
    await client.waitForEvents(2);
    expect(client.events[0]).toEqual({ type: 'message', data: 'data of e3', lastEventId: 'e3' });
    await publishMany(h, ['e5']);
    await client.waitForEvents(3);
    expect(ids(client)).toEqual(['e3', 'e4', 'e5']);
  });

  it('reads the lastEventID query parameter (what EventSource cannot put in a header), and the header wins over it', async () => {
    const h = await startHub({ anonymous: true });
    await publishMany(h, ['e1', 'e2', 'e3', 'e4']);
    const byQuery = await openSse(h.subscribeUrl([TOPIC], { lastEventID: 'e1' }));
    expect(byQuery.headers['last-event-id']).toBe('e1');
    const both = await openSse(h.subscribeUrl([TOPIC], { lastEventID: 'e1' }), {
      headers: { 'last-event-id': 'e3' },
    });
    expect(both.headers['last-event-id']).toBe('e3');
    await byQuery.waitForEvents(3);
    await both.waitForEvents(1);
    await publishMany(h, ['e5']);
    await byQuery.waitForEvents(4);
    await both.waitForEvents(2);
    expect(ids(byQuery)).toEqual(['e2', 'e3', 'e4', 'e5']);
    expect(ids(both)).toEqual(['e4', 'e5']);
  });

  it('replays the whole history for "earliest", and for an unknown ID, answering "earliest"', async () => {
    const h = await startHub({ anonymous: true });
    const empty = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'earliest' } });
    expect(empty.headers['last-event-id']).toBe('earliest');
    await publishMany(h, ['e1', 'e2', 'e3']);
    const earliest = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'earliest' } });
    const unknown = await openSse(h.subscribeUrl([TOPIC], { lastEventID: 'urn:uuid:never-published' }));
    expect(earliest.headers['last-event-id']).toBe('earliest');
    expect(unknown.headers['last-event-id']).toBe('earliest');
    for (const client of [empty, earliest, unknown]) await client.waitForEvents(3);
    expect(ids(empty)).toEqual(['e1', 'e2', 'e3']);
    expect(ids(earliest)).toEqual(['e1', 'e2', 'e3']);
    expect(ids(unknown)).toEqual(['e1', 'e2', 'e3']);
  });

  it('replays nothing for the newest ID, and nothing without a Last-Event-ID (no response header then)', async () => {
    const h = await startHub({ anonymous: true });
    await publishMany(h, ['e1', 'e2']);
    const newest = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'e2' } });
    const fresh = await openSse(h.subscribeUrl([TOPIC]));
    expect(newest.headers['last-event-id']).toBe('e2');
    expect(fresh.headers['last-event-id']).toBeUndefined();
    await publishMany(h, ['e3']);
    await newest.waitForEvents(1);
    await fresh.waitForEvents(1);
    expect(ids(newest)).toEqual(['e3']);
    expect(ids(fresh)).toEqual(['e3']);
  });

  it('treats an empty Last-Event-ID (header or query) as none: no replay of the whole history', async () => {
    const h = await startHub({ anonymous: true });
    await publishMany(h, ['e1', 'e2']);
    const emptyHeader = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': '' } });
    const emptyQuery = await openSse(h.subscribeUrl([TOPIC], { lastEventID: '' }));
    // An empty header does not hide the query parameter.
    const emptyHeaderAndQuery = await openSse(h.subscribeUrl([TOPIC], { lastEventID: 'e1' }), {
      headers: { 'last-event-id': '' },
    });
    expect(emptyHeader.headers['last-event-id']).toBeUndefined();
    expect(emptyQuery.headers['last-event-id']).toBeUndefined();
    expect(emptyHeaderAndQuery.headers['last-event-id']).toBe('e1');
    await publishMany(h, ['e3']);
    for (const client of [emptyHeader, emptyQuery]) await client.waitForEvents(1);
    await emptyHeaderAndQuery.waitForEvents(2);
    expect(ids(emptyHeader)).toEqual(['e3']);
    expect(ids(emptyQuery)).toEqual(['e3']);
    expect(ids(emptyHeaderAndQuery)).toEqual(['e2', 'e3']);
  });

  it('keeps historySize updates: an evicted ID is unknown, and "earliest" starts at the oldest kept', async () => {
    const h = await startHub({ anonymous: true, historySize: 3 });
    await publishMany(h, ['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(h.hub.stats().historySize).toBe(3);
    const earliest = await openSse(h.subscribeUrl([TOPIC], { lastEventID: 'earliest' }));
    const evicted = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'e1' } });
    const kept = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'e3' } });
    expect(evicted.headers['last-event-id']).toBe('earliest');
    expect(kept.headers['last-event-id']).toBe('e3');
    await earliest.waitForEvents(3);
    await evicted.waitForEvents(3);
    await kept.waitForEvents(2);
    await publishMany(h, ['e6']);
    for (const client of [earliest, evicted, kept]) await waitFor(() => ids(client).includes('e6'));
    expect(ids(earliest)).toEqual(['e3', 'e4', 'e5', 'e6']);
    expect(ids(evicted)).toEqual(['e3', 'e4', 'e5', 'e6']);
    expect(ids(kept)).toEqual(['e4', 'e5', 'e6']);
  });

  it('replays only the topics asked for, and private updates only to a matching claim', async () => {
    const h = await startHub({ anonymous: true });
    const book = 'https://example.com/books/1';
    const author = 'https://example.com/authors/1';
    await h.publish({ topic: TOPIC, id: 'start' });
    await h.publish({ topic: book, id: 'book-public' });
    await h.publish({ topic: author, id: 'author-public' });
    await h.publish({ topic: book, id: 'book-private', private: 'on' });
    await h.publish({ topic: [author, book], id: 'both-private', private: 'on' });
    await h.publish({ topic: author, id: 'author-private', private: 'on' });
    await h.publish({ topic: book, id: 'end' });
    const headers = (bearer?: string): Record<string, string> => ({
      'last-event-id': 'start',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    });
    const anonymous = await openSse(h.subscribeUrl(['https://example.com/books/{id}']), {
      headers: headers(),
    });
    const bookClaim = await openSse(h.subscribeUrl(['https://example.com/books/{id}']), {
      headers: headers(await token({ subscribe: [book] })),
    });
    const authorClaim = await openSse(h.subscribeUrl(['https://example.com/books/{id}']), {
      headers: headers(await token({ subscribe: [author] })),
    });
    const everything = await openSse(h.subscribeUrl(['*']), {
      headers: headers(await token({ subscribe: ['*'] })),
    });
    for (const client of [anonymous, bookClaim, authorClaim, everything]) {
      await waitFor(() => ids(client).includes('end'));
    }
    expect(ids(anonymous)).toEqual(['book-public', 'end']);
    expect(ids(bookClaim)).toEqual(['book-public', 'book-private', 'both-private', 'end']);
    // `both-private` has an author topic, so the author claim may see it; it matches a books selector.
    expect(ids(authorClaim)).toEqual(['book-public', 'both-private', 'end']);
    expect(ids(everything)).toEqual([
      'book-public',
      'author-public',
      'book-private',
      'both-private',
      'author-private',
      'end',
    ]);
  });
});

/**
 * A memory store whose replay answers a moment later, reading the history then, as a store across
 * the network does: updates dispatched meanwhile are both live and in the replay.
 */
class SlowReplayStore extends MemoryStore {
  override async replay(lastEventId: string, visit: (update: StoredUpdate) => void): Promise<ReplayResult> {
    await sleep(2);
    return super.replay(lastEventId, visit);
  }
}

describe('hub reconciliation: replay then live, with no gap and no duplicate', () => {
  /**
   * A subscriber that reads a few events, drops its connection and comes back with the last ID it
   * saw, again and again, while updates are published; resolves to every number it received.
   */
  async function follow(h: TestHub, total: number, seed: number) {
    const seen: number[] = [];
    let last = 'earliest';
    let rounds = 0;
    let random = seed;
    const next = () => {
      random = (random * 1103515245 + 12345) % 2147483648;
      return random;
    };
    while (seen.length < total) {
      const client = await openRaw(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': last } });
      expect(client.status).toBe(200);
      const target = Math.min(total, seen.length + 1 + (next() % 25));
      try {
        await waitFor(() => seen.length + client.events.length >= target, 10_000, `event ${target}`);
      } finally {
        client.close();
      }
      // Read synchronously after close(): nothing can be added in between.
      const received = client.events.slice();
      for (const event of received) seen.push(Number(event.data));
      last = received.at(-1)?.lastEventId ?? last;
      rounds++;
    }
    return { seen, rounds };
  }

  it.each([
    ['a publisher over HTTP', 'http', false],
    ['hub.publish()', 'embedded', false],
    ['hub.publish(), with a store whose replay takes time (as a remote one does)', 'embedded', true],
  ])(
    'holds under continuous publishing by %s, with several subscribers reconnecting repeatedly',
    async (_name, how, slowReplay) => {
      const h = await startHub({ anonymous: true, store: slowReplay ? new SlowReplayStore() : undefined });
      const total = 400;
      const publisher = (async () => {
        for (let i = 0; i < total; i++) {
          if (how === 'http') {
            const response = await h.publish({ topic: TOPIC, data: String(i) });
            expect(response.status).toBe(200);
            await response.arrayBuffer();
          } else {
            await h.hub.publish({ topics: [TOPIC], data: String(i) });
            // Paced like requests, so that subscribers come and go while it publishes.
            await sleep(1);
          }
        }
      })();
      const followers = await Promise.all([1, 2, 3, 4].map((seed) => follow(h, total, seed)));
      await publisher;
      const expected = Array.from({ length: total }, (_, i) => i);
      for (const { seen, rounds } of followers) {
        expect(seen).toEqual(expected);
        expect(rounds).toBeGreaterThan(10);
      }
    },
    30_000,
  );

  it('replays a history larger than maxBufferedBytes at the pace the client reads, live updates after it', async () => {
    const h = await startHub({ anonymous: true, maxBufferedBytes: 64 * 1024 });
    const chunk = 'r'.repeat(16 * 1024);
    const total = 400;
    for (let i = 0; i < total; i++)
      await h.hub.publish({ topics: [TOPIC], id: `h${i}`, data: `${i} ${chunk}` });
    const client = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'earliest' } });
    // Published while the history is still on its way.
    for (let i = 0; i < 20; i++) await h.hub.publish({ topics: [TOPIC], id: `live${i}`, data: String(i) });
    await client.waitForEvents(total + 20, 15_000);
    expect(ids(client)).toEqual([
      ...Array.from({ length: total }, (_, i) => `h${i}`),
      ...Array.from({ length: 20 }, (_, i) => `live${i}`),
    ]);
    expect(client.isEnded()).toBe(false);
  });

  it('joins history and live with no gap when a publish lands during the replay', async () => {
    const h = await startHub({ anonymous: true });
    await publishMany(h, ['e1', 'e2', 'e3']);
    // Many subscribers reconnect at once while publishes keep coming.
    const clients = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const publish = h.publish({ topic: TOPIC, id: `during-${i}` });
        const client = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'e1' } });
        await publish;
        return client;
      }),
    );
    await publishMany(h, ['last']);
    // The history's order (concurrent publishes land in any order, but in one order for all).
    const reference = await openSse(h.subscribeUrl([TOPIC]), { headers: { 'last-event-id': 'e1' } });
    await reference.waitForEvents(23);
    const expected = ids(reference);
    expect(expected.slice(0, 2)).toEqual(['e2', 'e3']);
    expect(expected.at(-1)).toBe('last');
    expect(new Set(expected).size).toBe(23);
    for (const client of clients) {
      await waitFor(() => ids(client).includes('last'));
      expect(ids(client)).toEqual(expected);
      expect(data(client)[0]).toBe('data of e2');
    }
  });
});
