import type { ChainableCommander } from 'ioredis';
import type { Logger } from '../../server/logger.js';
import { BurstLog } from '../burst-log.js';
import type { SubscriptionDocument } from '../subscriptions.js';
import type { RedisClient } from './redis.js';
import type { HubNode, SubscriptionPresence } from './store.js';

export interface RedisPresenceOptions {
  /** The key hash tag, `{prefix}`, shared with the store's keys (one Redis Cluster slot). */
  tag: string;
  /** This node's identifier. */
  nodeId: string;
  /** How long a node's listing lasts without a renewal, in ms. */
  ttlMs: number;
  /** The store's command connection; undefined until the store is open. */
  client: () => RedisClient | undefined;
  logger: Logger;
}

/**
 * The subscriptions of every live node of a hub on Redis, for the subscriptions API. Each node keeps its
 * own in a hash, `{prefix}:subscriptions:<node>`, and lists itself in the sorted set `{prefix}:nodes` scored
 * by when its listing runs out; both last `ttlMs`, and the store renews them every {@link renewEveryMs}, so
 * a node that stops (even by SIGKILL) drops out within `ttlMs`.
 */
export class RedisPresence implements SubscriptionPresence {
  /** How often the store calls {@link renew}, in ms: three renewals per TTL, so one lost does no harm. */
  readonly renewEveryMs: number;
  private readonly options: RedisPresenceOptions;
  private readonly nodesKey: string;
  /** This node's subscriptions (document ID → JSON), written again whole by each renewal. */
  private readonly local = new Map<string, string>();
  private readonly failures: BurstLog;

  constructor(options: RedisPresenceOptions) {
    this.options = options;
    // Every subscriber that comes or goes while Redis is away fails to be listed: one line per outage.
    this.failures = new BurstLog(
      options.logger,
      'Could not update the subscription list in Redis (the next renewal writes it whole).',
    );
    this.renewEveryMs = Math.max(100, Math.floor(options.ttlMs / 3));
    this.nodesKey = `${options.tag}:nodes`;
  }

  add(documents: SubscriptionDocument[]): void {
    for (const document of documents) this.local.set(document.id, JSON.stringify(document));
    const commands = this.options.client();
    if (commands === undefined || documents.length === 0) return;
    const key = this.subscriptionsKey(this.options.nodeId);
    commands
      .hset(key, ...documents.flatMap((document) => [document.id, JSON.stringify(document)]))
      .then(() => commands.pexpire(key, this.options.ttlMs))
      .catch((error: unknown) => this.failed(error));
  }

  remove(ids: string[]): void {
    for (const id of ids) this.local.delete(id);
    const commands = this.options.client();
    if (commands === undefined || ids.length === 0) return;
    commands
      .hdel(this.subscriptionsKey(this.options.nodeId), ...ids)
      .catch((error: unknown) => this.failed(error));
  }

  async list(): Promise<SubscriptionDocument[]> {
    const lists = await this.eachLiveNode((pipeline, key) => pipeline.hvals(key));
    // HVALS answers an array of strings: the documents this node wrote.
    return lists.flatMap(({ reply }) =>
      (reply as string[]).map((value) => JSON.parse(value) as SubscriptionDocument),
    );
  }

  async nodes(): Promise<HubNode[]> {
    const counts = await this.eachLiveNode((pipeline, key) => pipeline.hlen(key));
    return counts.map(({ node, reply }) => ({
      id: node,
      subscriptions: reply as number, // HLEN answers an integer
      self: node === this.options.nodeId,
    }));
  }

  /** Adds to `transaction` what keeps this node listed for another `ttlMs`, with its subscriptions. */
  renew(transaction: ChainableCommander): void {
    const { nodeId, ttlMs } = this.options;
    const key = this.subscriptionsKey(nodeId);
    transaction.zadd(this.nodesKey, Date.now() + ttlMs, nodeId);
    transaction.zremrangebyscore(this.nodesKey, '-inf', Date.now());
    // After an outage Redis may have dropped this node's list: write it again whole.
    if (this.local.size > 0) transaction.hset(key, ...[...this.local].flat());
    transaction.pexpire(key, ttlMs);
  }

  /** Adds to `transaction` what takes this node and its subscriptions off the lists. */
  leave(transaction: ChainableCommander): void {
    transaction.zrem(this.nodesKey, this.options.nodeId);
    transaction.del(this.subscriptionsKey(this.options.nodeId));
  }

  failed(error: unknown): void {
    this.failures.note({ store: 'redis', error: String(error) });
  }

  private subscriptionsKey(node: string): string {
    return `${this.options.tag}:subscriptions:${node}`;
  }

  /**
   * Sends `command` for the subscriptions key of every live node in one pipeline: two round trips
   * (the node list, then the pipeline) however many nodes there are.
   */
  private async eachLiveNode(
    command: (pipeline: ChainableCommander, key: string) => void,
  ): Promise<Array<{ node: string; reply: unknown }>> {
    const commands = this.options.client();
    if (commands === undefined) throw new Error('The Redis store is not open.');
    const nodes = await commands.zrangebyscore(this.nodesKey, Date.now(), '+inf');
    if (nodes.length === 0) return [];
    const pipeline = commands.pipeline();
    for (const node of nodes) command(pipeline, this.subscriptionsKey(node));
    const results = await pipeline.exec();
    return nodes.map((node, i) => {
      const [error, reply] = results?.[i] ?? [new Error('Redis answered no reply to a pipelined command.')];
      if (error) throw error;
      return { node, reply };
    });
  }
}
