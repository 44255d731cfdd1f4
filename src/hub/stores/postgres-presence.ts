import type pg from 'pg';
import type { SubscriptionDocument } from '../subscriptions.js';
import type { PostgresNames } from './postgres-schema.js';
import { PresenceBatch } from './presence-batch.js';
import type { HubNode, SubscriptionPresence } from './store.js';

/**
 * The subscriptions of every node of a PostgreSQL store, for the subscriptions API. Each node keeps
 * a row in `nodes` whose `expires_at` its heartbeat pushes on (the database's clock, the same for
 * every node); the first node to see a row expired deletes it with its subscriptions, so a node that
 * died drops out within the presence TTL. A node that finds its row gone (taken for dead during an
 * outage) writes its whole list again.
 */
export class PostgresPresence implements SubscriptionPresence {
  private readonly batch: PresenceBatch;

  constructor(
    private readonly pool: pg.Pool,
    private readonly names: PostgresNames,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    failed: (error: unknown) => void,
  ) {
    const node = nodeId;
    this.batch = new PresenceBatch(
      {
        write: async (changes) => {
          const added = [...changes].filter(
            (change): change is [string, SubscriptionDocument] => change[1] !== null,
          );
          const removed = [...changes].filter(([, document]) => document === null).map(([id]) => id);
          if (added.length > 0) await this.insert(this.pool, added);
          if (removed.length > 0) {
            await this.pool.query(
              `DELETE FROM ${names.subscriptions} WHERE node = $1 AND id = ANY($2::text[])`,
              [node, removed],
            );
          }
        },
        replace: async (all) => {
          const client = await this.pool.connect();
          try {
            await client.query('BEGIN');
            await client.query(`DELETE FROM ${names.subscriptions} WHERE node = $1`, [node]);
            if (all.size > 0) await this.insert(client, [...all]);
            await client.query('COMMIT');
            client.release();
          } catch (error) {
            client.release(error as Error);
            throw error;
          }
        },
      },
      failed,
    );
  }

  private async insert(db: pg.Pool | pg.PoolClient, documents: Array<[string, SubscriptionDocument]>) {
    await db.query(
      `INSERT INTO ${this.names.subscriptions} (node, id, document)
       SELECT $1, * FROM unnest($2::text[], $3::text[])
       ON CONFLICT (node, id) DO UPDATE SET document = EXCLUDED.document`,
      [this.nodeId, documents.map(([id]) => id), documents.map(([, document]) => JSON.stringify(document))],
    );
  }

  add(documents: SubscriptionDocument[]): void {
    this.batch.add(documents);
  }

  remove(ids: string[]): void {
    this.batch.remove(ids);
  }

  async list(): Promise<SubscriptionDocument[]> {
    const { rows } = await this.pool.query<{ document: string }>(
      `SELECT s.document FROM ${this.names.subscriptions} s
       JOIN ${this.names.nodes} n ON n.node = s.node WHERE n.expires_at > now()`,
    );
    return rows.map((row) => JSON.parse(row.document) as SubscriptionDocument);
  }

  async nodes(): Promise<HubNode[]> {
    const { rows } = await this.pool.query<{ node: string; subscriptions: string }>(
      `SELECT n.node, count(s.id) AS subscriptions FROM ${this.names.nodes} n
       LEFT JOIN ${this.names.subscriptions} s ON s.node = n.node
       WHERE n.expires_at > now() GROUP BY n.node`,
    );
    return rows.map((row) => ({
      id: row.node,
      subscriptions: Number(row.subscriptions),
      self: row.node === this.nodeId,
    }));
  }

  /** Keeps this node listed, and forgets the nodes whose heartbeat stopped (with their subscriptions). */
  async beat(): Promise<void> {
    const { rows } = await this.pool.query<{ inserted: boolean }>(
      `INSERT INTO ${this.names.nodes} (node, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (node) DO UPDATE SET expires_at = EXCLUDED.expires_at
       RETURNING (xmax = 0) AS inserted`,
      [this.nodeId, this.ttlMs],
    );
    await this.pool.query(
      `WITH dead AS (DELETE FROM ${this.names.nodes} WHERE expires_at < now() RETURNING node)
       DELETE FROM ${this.names.subscriptions} s USING dead WHERE s.node = dead.node`,
    );
    // A new row: this node was taken for dead (or the table emptied), its list with it.
    if (rows[0]?.inserted) this.batch.resync();
    else this.batch.flush();
  }

  /** Stops writing and takes this node out of the list (its heartbeat would let it expire anyway). */
  async leave(): Promise<void> {
    await this.batch.stop();
    await this.pool.query(`DELETE FROM ${this.names.subscriptions} WHERE node = $1`, [this.nodeId]);
    await this.pool.query(`DELETE FROM ${this.names.nodes} WHERE node = $1`, [this.nodeId]);
  }
}
