/**
 * The store contract (src/hub/stores/store.ts), the same tests for every store. A shared store runs
 * them on two nodes of one hub; a store of one process on its one node.
 */
import { describe, expect, it } from 'vitest';
import type { HubStore, StoredUpdate, Update } from '../../src/hub/index.js';
import { useFollowers } from '../helpers/follower.js';
import { waitFor } from '../helpers/net.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { startHub, token } from '../hub/hub-helpers.js';
import { type NodeOptions, STORES, type StoreFactory, type StoreSpace } from './stores.js';

const TOPIC = 'https://example.com/stores/contract';

function update(id: string, fields: Partial<Update> = {}): Update {
  return { id, topics: [TOPIC], data: id, type: undefined, retry: undefined, private: false, ...fields };
}

/** A store opened with a dispatch that records what it hands over. */
interface OpenNode {
  store: HubStore;
  dispatched: StoredUpdate[];
}

describe.each(STORES)('store contract: $name', (factory: StoreFactory) => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);

  async function openNode(space: StoreSpace, options: NodeOptions = {}): Promise<OpenNode> {
    const store = space.make({ presenceTtlMs: 600, ...options });
    const dispatched: StoredUpdate[] = [];
    await store.open((stored) => dispatched.push(stored));
    teardown(() => store.close());
    return { store, dispatched };
  }

  /** Two nodes of one hub for a shared store; one node otherwise. */
  async function nodes(options: NodeOptions = {}): Promise<{ space: StoreSpace; nodes: OpenNode[] }> {
    const space = factory.space(teardown);
    const count = factory.shared ? 2 : 1;
    const opened: OpenNode[] = [];
    for (let i = 0; i < count; i++) opened.push(await openNode(space, options));
    return { space, nodes: opened };
  }

  async function hubs(options: { subscriptions?: boolean } = {}) {
    const space = factory.space(teardown);
    const count = factory.shared ? 2 : 1;
    const started = [];
    for (let i = 0; i < count; i++) {
      const hub = await startHub({
        anonymous: true,
        heartbeatMs: 0,
        subscriptions: options.subscriptions ?? false,
        store: space.make({ presenceTtlMs: 600 }),
      });
      teardown(() => hub.close());
      started.push(hub);
    }
    return started;
  }

  it.skipIf(factory.problem !== undefined)(
    'dispatches every update appended on any node once, in one order, with every field kept',
    async () => {
      const { nodes: opened } = await nodes();
      const first = opened[0] as OpenNode;
      const fields = update('urn:example:fields', {
        topics: [TOPIC, 'https://example.com/alternate'],
        data: 'line 1\nline 2\r\n\nnul \u0000 here, ünïcödé 😀',
        type: 'book',
        retry: 2500,
        private: true,
      });
      const answers = [await first.store.append(fields)];
      for (let i = 0; i < 10; i++) answers.push(await first.store.append(update(`seq-${i}`)));
      // Concurrent publishers, spread over the nodes.
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            (opened[i % opened.length] as OpenNode).store.append(update(`con-${i}`)),
          ),
        )),
      );
      expect(new Set(answers.map((answer) => answer.seq)).size).toBe(41);
      for (const node of opened) await waitFor(() => node.dispatched.length >= 41, 10_000, '41 dispatched');
      const reference = first.dispatched.map((stored) => stored.id);
      for (const node of opened) {
        const seqs = node.dispatched.map((stored) => stored.seq);
        expect(seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] as number))).toBe(true);
        expect(node.dispatched.map((stored) => stored.id)).toEqual(reference);
        // Each answer's position is the one every node dispatches it at.
        for (const answer of answers) {
          expect(node.dispatched.find((stored) => stored.id === answer.id)?.seq).toBe(answer.seq);
        }
        const kept = node.dispatched[0] as StoredUpdate;
        expect({ ...kept, seq: 0, frame: undefined }).toEqual({ ...fields, seq: 0, frame: undefined });
        expect(kept.frame.bytes.equals((answers[0] as StoredUpdate).frame.bytes)).toBe(true);
      }
      expect(new Set(reference)).toEqual(new Set(answers.map((answer) => answer.id)));
      // Sequential appends keep their order.
      expect(reference.filter((id) => id.startsWith('seq-'))).toEqual(
        Array.from({ length: 10 }, (_, i) => `seq-${i}`),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const node of opened) expect(node.dispatched).toHaveLength(41);
      expect(first.store.lastEventId()).toBe(reference.at(-1));
      expect(first.store.health()).toEqual({ ok: true });
    },
  );

  it.skipIf(factory.problem !== undefined)(
    'stores the same ID once while the history holds it, from any node, and answers its position again',
    async () => {
      const { nodes: opened } = await nodes();
      const [a, b] = [opened[0] as OpenNode, (opened[1] ?? opened[0]) as OpenNode];
      const once = await a.store.append(update('once'));
      const again = await b.store.append(update('once', { data: 'a retry' }));
      const atOnce = await Promise.all([a.store.append(update('twice')), b.store.append(update('twice'))]);
      expect(again.seq).toBe(once.seq);
      expect(atOnce[1].seq).toBe(atOnce[0].seq);
      await a.store.append(update('next'));
      for (const node of opened) await waitFor(() => node.dispatched.length >= 3, 10_000, '3 dispatched');
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const node of opened) {
        expect(node.dispatched.map((stored) => stored.id)).toEqual(['once', 'twice', 'next']);
        expect(node.dispatched[0]?.data).toBe('once');
      }
      const replayed: string[] = [];
      await b.store.replay('earliest', (stored) => replayed.push(stored.id));
      expect(replayed).toEqual(['once', 'twice', 'next']);
    },
  );

  it.skipIf(factory.problem !== undefined)(
    'replays after a hub-made or a custom Last-Event-ID given to any node, everything for earliest or an unknown ID, then goes on live',
    async () => {
      const started = await hubs();
      const a = started[0] as (typeof started)[number];
      const b = (started[1] ?? a) as (typeof started)[number];
      const hubMade: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await a.publish({ topic: TOPIC, data: `h${i}` });
        expect(response.status).toBe(200);
        hubMade.push(await response.text());
      }
      for (let i = 0; i < 3; i++)
        expect((await a.publish({ topic: TOPIC, id: `c${i}`, data: 'x' })).status).toBe(200);
      const fromCustom = await follow([b.subscribeUrl([TOPIC])], { lastEventId: 'c0' });
      const fromHubMade = await follow([b.subscribeUrl([TOPIC], { lastEventID: hubMade[1] as string })]);
      const earliest = await follow([b.subscribeUrl([TOPIC], { lastEventID: 'earliest' })]);
      const unknown = await follow([b.subscribeUrl([TOPIC])], { lastEventId: 'never-published' });
      await fromCustom.waitFor(2);
      await fromHubMade.waitFor(4);
      await earliest.waitFor(6);
      await unknown.waitFor(6);
      expect(fromCustom.ids()).toEqual(['c1', 'c2']);
      expect(fromHubMade.ids()).toEqual([hubMade[2], 'c0', 'c1', 'c2']);
      expect(earliest.ids()).toEqual([...hubMade, 'c0', 'c1', 'c2']);
      expect(unknown.ids()).toEqual([...hubMade, 'c0', 'c1', 'c2']);
      expect(fromCustom.connections[0]?.lastEventIdHeader).toBe('c0');
      expect(fromHubMade.connections[0]?.lastEventIdHeader).toBe(hubMade[1]);
      expect(unknown.connections[0]?.lastEventIdHeader).toBe('earliest');

      expect((await a.publish({ topic: TOPIC, id: 'live', data: 'x' })).status).toBe(200);
      for (const [follower, count] of [
        [fromCustom, 3],
        [fromHubMade, 5],
        [earliest, 7],
      ] as const) {
        await follower.waitFor(count);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(fromCustom.ids()).toEqual(['c1', 'c2', 'live']);
      expect(fromHubMade.ids()).toHaveLength(5);
      expect(earliest.ids().at(-1)).toBe('live');
      expect(earliest.ids()).toHaveLength(7);
    },
  );

  it.skipIf(factory.problem !== undefined)(
    'keeps historySize updates, the newest, and replays what it keeps',
    async () => {
      const historySize = 5;
      const { nodes: opened } = await nodes({ historySize });
      const a = opened[0] as OpenNode;
      const b = (opened.at(-1) ?? a) as OpenNode;
      const published = Array.from({ length: 12 }, (_, i) => `k${i}`);
      for (const id of published) await a.store.append(update(id));
      const kept: string[] = [];
      const earliest = await b.store.replay('earliest', (stored) => kept.push(stored.id));
      expect(earliest.found).toBe(false);
      if (factory.exactHistory) expect(kept).toEqual(published.slice(-historySize));
      else {
        // About historySize (Redis trims whole stream nodes): the newest, at least historySize.
        expect(kept.length).toBeGreaterThanOrEqual(historySize);
        expect(kept).toEqual(published.slice(-kept.length));
      }
      const fromTrimmed: string[] = [];
      if (kept.length < published.length) {
        expect((await b.store.replay('k0', (stored) => fromTrimmed.push(stored.id))).found).toBe(false);
        expect(fromTrimmed).toEqual(kept);
      }
      const fromKept: string[] = [];
      expect((await b.store.replay(kept[0] as string, (stored) => fromKept.push(stored.id))).found).toBe(
        true,
      );
      expect(fromKept).toEqual(kept.slice(1));
      await waitFor(() => b.store.historySize() === kept.length, 5000, `historySize() to be ${kept.length}`);
    },
  );

  it.skipIf(
    factory.problem !== undefined || !factory.durable, // memory: nothing outlives its process
  )('keeps its history for a store opened later on the same engine, and goes on after it', async () => {
    const space = factory.space(teardown);
    const before = await openNode(space);
    const answers = [];
    for (const id of ['d0', 'd1', 'd2']) answers.push(await before.store.append(update(id)));
    await before.store.close();
    const after = await openNode(space);
    expect(after.store.lastEventId()).toBe('d2');
    const replayed: StoredUpdate[] = [];
    expect((await after.store.replay('d0', (stored) => replayed.push(stored))).found).toBe(true);
    expect(replayed.map((stored) => [stored.id, stored.seq])).toEqual(
      answers.slice(1).map((answer) => [answer.id, answer.seq]),
    );
    const next = await after.store.append(update('d3'));
    expect(next.seq).toBeGreaterThan((answers[2] as StoredUpdate).seq);
    await waitFor(() => after.dispatched.length === 1, 5000, 'd3 dispatched');
    expect(after.dispatched.map((stored) => stored.id)).toEqual(['d3']);
  });

  it.skipIf(factory.problem !== undefined)(
    'lists the subscribers of every node in the subscriptions API, and forgets those that leave',
    async () => {
      const started = await hubs({ subscriptions: true });
      const bearer = await token({ subscribe: ['*'] });
      async function listed(hubUrl: string): Promise<string[]> {
        const response = await fetch(`${hubUrl}/subscriptions`, {
          headers: { authorization: `Bearer ${bearer}` },
        });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { subscriptions: Array<{ topic: string }> };
        return body.subscriptions.map((subscription) => subscription.topic).sort();
      }
      const topics = started.map((_, i) => `https://example.com/stores/on-${i}`);
      const followers = await Promise.all(
        started.map((hub, i) => follow([hub.subscribeUrl([topics[i] as string])])),
      );
      for (const hub of started) {
        await waitFor(
          async () => (await listed(hub.hubUrl)).length === topics.length,
          5000,
          'every subscriber listed',
        );
        expect(await listed(hub.hubUrl)).toEqual(topics);
      }
      followers.at(-1)?.close();
      for (const hub of started) {
        await waitFor(
          async () => (await listed(hub.hubUrl)).length === topics.length - 1,
          5000,
          'the subscriber that left to be forgotten',
        );
        expect(await listed(hub.hubUrl)).toEqual(topics.slice(0, -1));
      }
    },
  );
});
