/**
 * The PostgreSQL store's ordering trap, made to happen: an update whose position was taken first
 * commits last. A reader must neither skip it nor deliver anything twice (postgres-schema.ts).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { StoredUpdate } from '../../src/hub/index.js';
import { sleep, waitFor } from '../helpers/net.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { POSTGRES_URL, STORES } from './stores.js';

const factory = STORES.find((store) => store.name === 'postgres');

describe.skipIf(factory?.problem !== undefined)('postgres store: positions in commit order', () => {
  const teardown = cleanupAfterEach();

  it('delivers an update committed late before those that waited for it, on every node, each once', async () => {
    const space = factory?.space(teardown);
    if (space === undefined) throw new Error('no postgres store');
    const prefix = String(space.spec().options.prefix);
    const nodes = [space.make(), space.make()];
    const dispatched: StoredUpdate[][] = [[], []];
    for (const [i, store] of nodes.entries()) {
      await store.open((update) => dispatched[i]?.push(update));
      teardown(() => store.close());
    }
    // A publisher whose transaction takes its position, then stays open.
    const slow = new pg.Client({ connectionString: POSTGRES_URL });
    await slow.connect();
    teardown(() => slow.end());
    await slow.query('BEGIN');
    const body = JSON.stringify({ topics: ['t'], data: 'slow', private: false });
    const { rows } = await slow.query(
      `SELECT update_seq FROM "${prefix}_append"($1::text[], $2::text[], 100, 0)`,
      [['slow'], [body]],
    );
    const slowSeq = Number(rows[0]?.update_seq);
    // Two more publishers, on both nodes, while it is open.
    let answered = 0;
    const fast = ['fast-a', 'fast-b'].map((id, i) =>
      (nodes[i] as (typeof nodes)[number])
        .append({ id, topics: ['t'], data: id, type: undefined, retry: undefined, private: false })
        .then((update) => {
          answered++;
          return update;
        }),
    );
    await sleep(400);
    // Nothing can be read past the open transaction, and nothing was answered before it committed.
    expect(answered).toBe(0);
    expect(dispatched).toEqual([[], []]);
    await slow.query('COMMIT');
    const answers = await Promise.all(fast);
    for (const answer of answers) expect(answer.seq).toBeGreaterThan(slowSeq);
    for (const list of dispatched) await waitFor(() => list.length >= 3, 5000, 'three dispatched');
    await sleep(200);
    for (const list of dispatched) {
      expect(list.map((update) => update.id)[0]).toBe('slow');
      expect(list.map((update) => update.id).sort()).toEqual(['fast-a', 'fast-b', 'slow']);
      expect(list[0]?.seq).toBe(slowSeq);
    }
    expect(dispatched[0]?.map((update) => update.id)).toEqual(dispatched[1]?.map((update) => update.id));
  });
});
