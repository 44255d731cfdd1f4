import { randomFillSync } from 'node:crypto';
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
  return uuidText('', now);
}

const HEX = '0123456789abcdef';
const HYPHENS = new Set([8, 13, 18, 23]);

/**
 * The UUID v7 text behind `prefix`, made as one flat string: text put together piece by piece
 * stays a tree of pieces in V8, and every subscriber keeps its ID for as long as it is connected.
 */
// Random bytes are drawn a few kilobytes at a time: one call to the system's generator per UUID
// was a large part of a publish's cost.
const RANDOM_POOL = Buffer.alloc(4096);
let randomAt = RANDOM_POOL.length;

function uuidText(prefix: string, now: number): string {
  if (randomAt + 16 > RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    randomAt = 0;
  }
  const bytes = RANDOM_POOL.subarray(randomAt, randomAt + 16);
  randomAt += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const text = Buffer.allocUnsafe(prefix.length + 36);
  let at = text.write(prefix, 'latin1');
  let byte = 0;
  for (let i = 0; i < 36; i++) {
    if (HYPHENS.has(i)) {
      text[at++] = 0x2d;
    } else {
      const value = bytes[byte >> 1] as number;
      text[at++] = HEX.charCodeAt(byte % 2 === 0 ? value >> 4 : value & 0x0f);
      byte++;
    }
  }
  return text.toString('latin1');
}

/** A new update ID: `urn:uuid:` and a UUID v7, as the reference hub makes them. */
export function newUpdateId(): string {
  return uuidText('urn:uuid:', Date.now());
}
