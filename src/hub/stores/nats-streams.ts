/** The JetStream streams of the NATS store: their configuration, their making, and reading them whole. */
import { createHash } from 'node:crypto';
import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';

/** The server's window for `Nats-Msg-Id` duplicates (its default); shorter when the history's age is. */
const DUPLICATE_WINDOW_MS = 120_000;
/** Messages asked for per pull, by a node's consumer, a replay, or a read of the presence streams. */
export const READ_BATCH = 1_000;
/** The shortest pull the client library takes (its `expires` must be at least this), in ms. */
export const SHORTEST_PULL_MS = 1_000;
/** How long the server keeps the short-lived consumers that read presence and replays, in ms. */
export const READER_INACTIVE_MS = 30_000;

/** A subject token for any text: the base64url SHA-256 of it (subjects allow no dots, spaces or wildcards). */
export function subjectToken(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** JetStream's durations are in nanoseconds. */
export const nanos = (ms: number) => ms * 1_000_000;

/**
 * The last message of every subject of `stream` under `filter` (a stream with one message per
 * subject is a key-value map: this reads it whole in one pass of an ordered consumer).
 */
export async function lastPerSubject(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  filter: string,
  timeoutMs: number,
): Promise<Array<{ subject: string; data: string }>> {
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subjects: filter,
    inactive_threshold: READER_INACTIVE_MS,
  });
  const found: Array<{ subject: string; data: string }> = [];
  try {
    for (;;) {
      let pending = -1;
      let got = 0;
      const messages = await consumer.fetch({
        max_messages: READ_BATCH,
        expires: Math.max(SHORTEST_PULL_MS, timeoutMs),
      });
      for await (const message of messages) {
        found.push({ subject: message.subject, data: message.string() });
        got++;
        pending = message.info.pending;
        if (pending === 0) break;
      }
      if (pending === 0 || got === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return found;
}

/** The history: at most `historySize` updates, and none older than `maxAgeMs` (0: any age). */
export function updatesStream(
  name: string,
  subject: string,
  historySize: number,
  maxAgeMs: number,
): StreamConfig {
  return {
    name,
    subjects: [`${subject}.*`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs: historySize,
    max_age: nanos(maxAgeMs),
    // The server wants it no longer than max_age.
    duplicate_window: nanos(maxAgeMs > 0 ? Math.min(DUPLICATE_WINDOW_MS, maxAgeMs) : DUPLICATE_WINDOW_MS),
  } as StreamConfig;
}

/** Makes a stream, or brings its limits to these (the history size may have changed). */
export async function ensureStream(jsm: JetStreamManager, config: StreamConfig): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.status !== 404) throw error;
    await jsm.streams.add(config).catch(async (addError: unknown) => {
      // Another node made it meanwhile.
      if (!(addError instanceof JetStreamApiError)) throw addError;
      await jsm.streams.update(config.name, config);
    });
    return;
  }
  await jsm.streams.update(config.name, config);
}
