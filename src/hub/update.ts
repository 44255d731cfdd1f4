import { randomBytes } from 'node:crypto';
import { Frame } from '../server/frame.js';

/** An update as a publisher sends it. */
export interface UpdateInit {
  /** The topics: the first is canonical, the others alternates. At least one. */
  topics: readonly string[];
  /** The new version of the topic. Default `""`. */
  data?: string;
  /** The update's ID; the hub makes a `urn:uuid:` one when absent. Must not start with `#`. */
  id?: string;
  /** The SSE event type. */
  type?: string;
  /** The SSE reconnection time, in ms. */
  retry?: number;
  /** Only subscribers whose `mercure.subscribe` claim matches one of the topics get it. */
  private?: boolean;
}

/** An update accepted by the hub. */
export interface Update {
  readonly id: string;
  readonly topics: readonly string[];
  readonly data: string;
  readonly type: string | undefined;
  readonly retry: number | undefined;
  readonly private: boolean;
}

/**
 * An update as a store holds it: with its place in the history (`seq`, increasing in the order
 * updates are dispatched) and its frame, encoded once for every subscriber.
 */
export interface StoredUpdate extends Update {
  readonly seq: number;
  readonly frame: Frame;
}

/** The event-stream frame of an update (the same bytes for every subscriber who may see it). */
export function frameOf(update: Update): Frame {
  return Frame.of({ id: update.id, event: update.type, retry: update.retry, data: update.data });
}

/** Attaches a history position and the encoded frame to an update. */
export function stored(update: Update, seq: number): StoredUpdate {
  return { ...update, seq, frame: frameOf(update) };
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix time in ms, then random bits. IDs made by one hub
 * sort by time, which keeps history indexes compact.
 */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A new update ID: `urn:uuid:` and a UUID v7, as the reference hub makes them. */
export function newUpdateId(): string {
  return `urn:uuid:${uuidv7()}`;
}
