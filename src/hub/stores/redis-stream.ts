/**
 * How a hub's history sits in a Redis Stream: an update is one entry (its fields below), an entry's
 * position `ms-n` is the update's `seq`, and a sorted set maps update IDs to positions (for replays from
 * an ID and for storing an ID once). The append is one Lua script, so the three change together.
 *
 * @module
 */

import type { ClientContext, Result } from 'ioredis';
import { type StoredUpdate, stored, type Update } from '../update.js';
import type { RedisClient } from './redis-link.js';

// A stream position `ms-n` as one number that sorts the same way: ms × 2048 + n. Doubles hold it
// exactly until the year 2109, for up to 2048 entries in one millisecond (Redis makes a few hundred at most).
const SEQ_PER_MS = 2048;

export function seqOf(position: string): number {
  const dash = position.indexOf('-');
  return Number(position.slice(0, dash)) * SEQ_PER_MS + Number(position.slice(dash + 1));
}

export function positionOf(seq: number): string {
  return `${Math.floor(seq / SEQ_PER_MS)}-${seq % SEQ_PER_MS}`;
}

/**
 * Appends an update to the stream, remembers where its ID sits (for replays from a client-chosen
 * ID), and forgets the positions of the IDs the stream trimmed away — all in one atomic step.
 * An ID the history still holds is not appended again: the client resends a command whose answer
 * was lost with its connection, and a publisher retries a 503 that came after the append.
 * KEYS: stream, ids. ARGV: maxlen, id, topics, data, type, retry, private.
 */
const APPEND_SCRIPT = `
local known = redis.call('ZSCORE', KEYS[2], ARGV[2])
if known then
  local seq = tonumber(known)
  return string.format('%.0f-%d', math.floor(seq / ${SEQ_PER_MS}), seq % ${SEQ_PER_MS})
end
local position = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  'id', ARGV[2], 'topics', ARGV[3], 'data', ARGV[4], 'type', ARGV[5], 'retry', ARGV[6], 'private', ARGV[7])
local dash = string.find(position, '-', 1, true)
local score = tonumber(string.sub(position, 1, dash - 1)) * ${SEQ_PER_MS} + tonumber(string.sub(position, dash + 1))
redis.call('ZADD', KEYS[2], score, ARGV[2])
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]
local firstDash = string.find(first, '-', 1, true)
local firstScore = tonumber(string.sub(first, 1, firstDash - 1)) * ${SEQ_PER_MS} + tonumber(string.sub(first, firstDash + 1))
-- %.0f, not '..': Lua writes a number into a string with 14 digits, too few for a score.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('(%.0f', firstScore))
return position
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext> {
    /** {@link APPEND_SCRIPT}, once {@link defineAppend} has defined it on the connection. */
    siarAppend(
      stream: string,
      ids: string,
      maxlen: number,
      id: string,
      topics: string,
      data: string,
      type: string,
      retry: string,
      isPrivate: string,
    ): Result<string, Context>;
  }
}

/** Defines the append script on `client` (ioredis then sends it by its SHA1, and again when Redis lost it). */
export function defineAppend(client: RedisClient): void {
  client.defineCommand('siarAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
}

/** Appends `update` to `stream` (once while its ID is in `ids`); resolves with its position. */
export function appendEntry(
  client: RedisClient,
  stream: string,
  ids: string,
  maxlen: number,
  update: Update,
): Promise<string> {
  return client.siarAppend(
    stream,
    ids,
    maxlen,
    update.id,
    JSON.stringify(update.topics),
    update.data,
    update.type ?? '',
    update.retry === undefined ? '' : String(update.retry),
    update.private ? '1' : '0',
  );
}

/** The update an entry holds. */
export function updateOf(position: string, fields: string[]): StoredUpdate {
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i] as string] = fields[i + 1] as string;
  const retry = values.retry;
  return stored(
    {
      id: values.id ?? position,
      topics: JSON.parse(values.topics ?? '[]') as string[],
      data: values.data ?? '',
      type: values.type ? values.type : undefined,
      retry: retry ? Number(retry) : undefined,
      private: values.private === '1',
    },
    seqOf(position),
  );
}
