/**
 * The tables and the append function of the PostgreSQL store, all named after one prefix, so
 * several hubs (or tests) share a database without meeting. Made at open if missing.
 */

/** A prefix must be usable inside quoted identifiers and as a LISTEN channel: short, plain. */
export const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,39}$/;

/** The quoted names of one prefix's objects. */
export interface PostgresNames {
  updates: string;
  head: string;
  nodes: string;
  subscriptions: string;
  append: string;
  /** The NOTIFY channel (a quoted identifier for LISTEN; `channelText` for pg_notify). */
  channel: string;
  channelText: string;
  /** The key of the advisory lock that keeps two nodes from making the tables at once. */
  lockKey: string;
}

export function namesOf(prefix: string): PostgresNames {
  return {
    updates: `"${prefix}_updates"`,
    head: `"${prefix}_head"`,
    nodes: `"${prefix}_nodes"`,
    subscriptions: `"${prefix}_subscriptions"`,
    append: `"${prefix}_append"`,
    channel: `"${prefix}_updates"`,
    channelText: `${prefix}_updates`,
    lockKey: `siar:${prefix}`,
  };
}

/**
 * The statements that make the tables and the function, run in one transaction under an advisory
 * lock (CREATE … IF NOT EXISTS is not safe against another node doing the same at the same time).
 *
 * - `updates`: the history; `seq` is the position, `body` the update as JSON text (JSON escapes
 *   what a text column cannot hold, such as NUL in `data`). `id` is unique: the same ID is stored
 *   once while the history holds it.
 * - `head`: one row, the last position given out. Its row lock orders the appends (see the append
 *   function).
 * - `nodes`, `subscriptions`: presence, for the subscriptions API.
 */
export function schemaStatements(names: PostgresNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${names.updates} (
      seq bigint PRIMARY KEY,
      id text NOT NULL UNIQUE,
      body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX IF NOT EXISTS "${names.updates.slice(1, -1)}_created_at" ON ${names.updates} (created_at)`,
    `CREATE TABLE IF NOT EXISTS ${names.head} (
      one boolean PRIMARY KEY DEFAULT true CHECK (one),
      seq bigint NOT NULL
    )`,
    `INSERT INTO ${names.head} (one, seq) VALUES (true, 0) ON CONFLICT DO NOTHING`,
    `CREATE TABLE IF NOT EXISTS ${names.nodes} (
      node text PRIMARY KEY,
      expires_at timestamptz NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${names.subscriptions} (
      node text NOT NULL,
      id text NOT NULL,
      document text NOT NULL,
      PRIMARY KEY (node, id)
    )`,
    appendFunction(names),
  ];
}

/**
 * Appends a batch of updates in one transaction and answers each one's position.
 *
 * Ordering: a position taken from a sequence is handed out when the row is inserted but becomes
 * visible when its transaction commits, and transactions commit in any order; a reader that read
 * position 11 before 10 committed would skip 10 for good. So positions come from the `head` row,
 * locked FOR UPDATE first: the next append (on any node) waits on that lock until this transaction
 * has committed (PostgreSQL releases a transaction's locks only after its commit is visible to new
 * snapshots), then reads the new head. Positions are thus given out in commit order: whenever a
 * reader sees position n, every position below n is already visible (or was never used: an ID
 * already stored takes none). A reader that asks for `seq > last` in position order therefore
 * never skips an update, and never gets one twice. The price is that appends from all nodes commit
 * one at a time; each node sends its concurrent publishes as one batch to keep that cheap.
 *
 * The trim (history size, then age) and the wake-up (NOTIFY, sent at commit) are in the same
 * transaction.
 */
function appendFunction(names: PostgresNames): string {
  return `CREATE OR REPLACE FUNCTION ${names.append}(ids text[], bodies text[], history bigint, max_age_ms bigint)
  RETURNS TABLE (update_id text, update_seq bigint) LANGUAGE plpgsql AS $fn$
  DECLARE
    head_seq bigint;
    known bigint;
  BEGIN
    SELECT h.seq INTO head_seq FROM ${names.head} h FOR UPDATE;
    FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
      SELECT u.seq INTO known FROM ${names.updates} u WHERE u.id = ids[i];
      IF NOT FOUND THEN
        head_seq := head_seq + 1;
        INSERT INTO ${names.updates} (seq, id, body) VALUES (head_seq, ids[i], bodies[i]);
        known := head_seq;
      END IF;
      update_id := ids[i];
      update_seq := known;
      RETURN NEXT;
    END LOOP;
    UPDATE ${names.head} SET seq = head_seq;
    DELETE FROM ${names.updates} u WHERE u.seq <= head_seq - history;
    IF max_age_ms > 0 THEN
      DELETE FROM ${names.updates} u WHERE u.created_at < now() - max_age_ms * interval '1 millisecond';
    END IF;
    PERFORM pg_notify('${names.channelText}', head_seq::text);
  END
  $fn$`;
}
