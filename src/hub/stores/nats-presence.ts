import {
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { SubscriptionDocument } from '../subscriptions.js';
import { lastPerSubject, nanos, subjectToken } from './nats-streams.js';
import { PresenceBatch } from './presence-batch.js';
import type { HubNode, SubscriptionPresence } from './store.js';

/** Most presence writes (publishes or purges) one node has in flight at once. */
const PRESENCE_WRITES_IN_FLIGHT = 64;

/**
 * The subscriptions of every node of a NATS store, for the subscriptions API, in two streams that
 * keep one message per subject (JetStream's key-value buckets are such streams):
 * - `<prefix>-nodes`: a heartbeat per node, dropped by the server `presenceTtlMs` after it was sent
 *   (`max_age`): a node that died drops out within the TTL;
 * - `<prefix>-subscriptions`: a message per subscription, under its node's subject; a removed one is
 *   purged (no delete marker left behind), and a dead node's are purged by the first node to see them.
 * A node whose heartbeat may have expired (it could not send one for a TTL) writes its list again.
 */
export class NatsPresence implements SubscriptionPresence {
  private readonly batch: PresenceBatch;
  private readonly nodeKey: string;
  private readonly streams: { nodes: string; subscriptions: string };
  private readonly subjects: { nodes: string; subscriptions: string };
  private lastBeat = 0;

  constructor(
    /** The store's clients, once it is open. */
    private readonly clients: () => { js: JetStreamClient; jsm: JetStreamManager },
    prefix: string,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly timeoutMs: number,
    failed: (error: unknown) => void,
  ) {
    this.nodeKey = subjectToken(nodeId);
    this.streams = { nodes: `${prefix}-nodes`, subscriptions: `${prefix}-subscriptions` };
    this.subjects = { nodes: `${prefix}.nodes`, subscriptions: `${prefix}.subscriptions` };
    this.batch = new PresenceBatch(
      {
        write: (changes) =>
          this.inParallel([...changes], ([id, document]) =>
            document === null ? this.purge(this.subscriptionSubject(this.nodeKey, id)) : this.put(document),
          ),
        replace: async (all) => {
          await this.purge(`${this.subjects.subscriptions}.${this.nodeKey}.*`);
          await this.inParallel([...all.values()], (document) => this.put(document));
        },
      },
      failed,
    );
  }

  /** The stream configurations (made at open, or updated to these limits). */
  configs(): StreamConfig[] {
    const ttl = nanos(this.ttlMs);
    return [
      {
        name: this.streams.nodes,
        subjects: [`${this.subjects.nodes}.*`],
        max_msgs_per_subject: 1,
        max_age: ttl,
        // The server wants it no longer than max_age.
        duplicate_window: Math.min(ttl, nanos(120_000)),
        discard: DiscardPolicy.Old,
        storage: StorageType.File,
      } as StreamConfig,
      {
        name: this.streams.subscriptions,
        subjects: [`${this.subjects.subscriptions}.*.*`],
        max_msgs_per_subject: 1,
        discard: DiscardPolicy.Old,
        storage: StorageType.File,
      } as StreamConfig,
    ];
  }

  private get js(): JetStreamClient {
    return this.clients().js;
  }

  private get jsm(): JetStreamManager {
    return this.clients().jsm;
  }

  private subscriptionSubject(nodeKey: string, id: string): string {
    return `${this.subjects.subscriptions}.${nodeKey}.${subjectToken(id)}`;
  }

  private async put(document: SubscriptionDocument): Promise<void> {
    await this.js.publish(this.subscriptionSubject(this.nodeKey, document.id), JSON.stringify(document), {
      timeout: this.timeoutMs,
    });
  }

  private async purge(filter: string): Promise<void> {
    await this.jsm.streams.purge(this.streams.subscriptions, { filter });
  }

  private async inParallel<T>(items: T[], run: (item: T) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i += PRESENCE_WRITES_IN_FLIGHT) {
      await Promise.all(items.slice(i, i + PRESENCE_WRITES_IN_FLIGHT).map(run));
    }
  }

  add(documents: SubscriptionDocument[]): void {
    this.batch.add(documents);
  }

  remove(ids: string[]): void {
    this.batch.remove(ids);
  }

  /** Live nodes (by subject token) and their IDs. */
  private async liveNodes(): Promise<Map<string, string>> {
    const beats = await lastPerSubject(this.js, this.jsm, this.streams.nodes, '>', this.timeoutMs);
    return new Map(
      beats.map(({ subject, data }) => [subject.slice(this.subjects.nodes.length + 1), JSON.parse(data).id]),
    );
  }

  /** Every subscription of a live node, by node token; purges those of dead nodes on the way. */
  private async byNode(): Promise<{
    live: Map<string, string>;
    documents: Map<string, SubscriptionDocument[]>;
  }> {
    const live = await this.liveNodes();
    const all = await lastPerSubject(this.js, this.jsm, this.streams.subscriptions, '>', this.timeoutMs);
    const documents = new Map<string, SubscriptionDocument[]>();
    const dead = new Set<string>();
    for (const { subject, data } of all) {
      const node = subject.slice(this.subjects.subscriptions.length + 1).split('.')[0] as string;
      if (!live.has(node)) {
        dead.add(node);
        continue;
      }
      const list = documents.get(node) ?? [];
      list.push(JSON.parse(data) as SubscriptionDocument);
      documents.set(node, list);
    }
    for (const node of dead) {
      // Not this node: its heartbeat may just be late (its list is written again when it comes back).
      if (node !== this.nodeKey)
        void this.purge(`${this.subjects.subscriptions}.${node}.*`).catch(() => undefined);
    }
    return { live, documents };
  }

  async list(): Promise<SubscriptionDocument[]> {
    const { documents } = await this.byNode();
    return [...documents.values()].flat();
  }

  async nodes(): Promise<HubNode[]> {
    const { live, documents } = await this.byNode();
    return [...live].map(([key, id]) => ({
      id,
      subscriptions: documents.get(key)?.length ?? 0,
      self: id === this.nodeId,
    }));
  }

  /** Keeps this node listed; after a gap of a TTL without one, writes its list again. */
  async beat(): Promise<void> {
    await this.js.publish(`${this.subjects.nodes}.${this.nodeKey}`, JSON.stringify({ id: this.nodeId }), {
      timeout: this.timeoutMs,
    });
    const now = Date.now();
    const gap = now - this.lastBeat;
    this.lastBeat = now;
    if (gap >= this.ttlMs) this.batch.resync();
    else this.batch.flush();
  }

  /** Stops writing and takes this node out of the list. */
  async leave(): Promise<void> {
    await this.batch.stop();
    await this.purge(`${this.subjects.subscriptions}.${this.nodeKey}.*`);
    await this.jsm.streams.purge(this.streams.nodes, { filter: `${this.subjects.nodes}.${this.nodeKey}` });
  }
}
