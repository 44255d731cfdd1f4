import type { SseEvent } from '../protocol/index.js';
import { integerOption } from './errors.js';
import type { EventStream, StreamGroup } from './event-stream.js';
import { Frame } from './frame.js';

export interface ChannelOptions {
  /** Events kept for `replay`, the newest ones; 0 keeps none. Default 0. */
  historySize?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: a channel holds streams whatever their state type.
type AnyStream = EventStream<any>;

/** Decides whether one member of a channel gets a broadcast. */
export type StreamFilter<S extends AnyStream = AnyStream> = (stream: S) => boolean;

export interface ReplayResult {
  /** Whether `lastEventId` was found in the history (false: everything kept was sent). */
  found: boolean;
  /** How many events were sent. */
  sent: number;
}

interface HistoryEntry {
  id: string | undefined;
  frame: Frame;
}

/**
 * A broadcast group. `broadcast` encodes the event once and writes the same bytes to every
 * member; members leave by themselves when their stream closes.
 */
export class Channel<S extends AnyStream = AnyStream> implements StreamGroup {
  private readonly members = new Set<S>();
  private readonly historySize: number;
  // A ring of the newest events, and where each event ID sits in it (by sequence number).
  private readonly history: HistoryEntry[] = [];
  private historyStart = 0;
  private sequence = 0;
  private readonly sequenceOfId = new Map<string, number>();

  constructor(options: ChannelOptions = {}) {
    this.historySize = integerOption('historySize', options.historySize, 0);
  }

  /** How many streams are in the channel. */
  get size(): number {
    return this.members.size;
  }

  /** The member streams (a live view: do not add or remove while iterating). */
  get streams(): ReadonlySet<S> {
    return this.members;
  }

  /** Adds a stream; it leaves by itself when it closes. Returns false for a closed stream. */
  add(stream: S): boolean {
    if (!stream.isOpen) return false;
    this.members.add(stream);
    stream.joined(this);
    return true;
  }

  remove(stream: S): boolean {
    if (!this.members.delete(stream)) return false;
    stream.left(this);
    return true;
  }

  /**
   * Sends one event to every member (or those `filter` accepts): encoded once, the same bytes
   * written to each. Throws the protocol's `ProtocolError` before sending anything if a field
   * would break the frame. Returns how many streams it was written to.
   */
  broadcast(event: SseEvent, filter?: StreamFilter<S>): number {
    const frame = Frame.of(event);
    this.remember(event.id, frame);
    let sent = 0;
    for (const stream of this.members) {
      if (filter && !filter(stream)) continue;
      // A stream closed for being slow leaves the set during the loop; Set iteration allows that.
      stream.sendFrame(frame);
      sent++;
    }
    return sent;
  }

  /**
   * Sends a reconnecting client what it missed since `lastEventId`, then adds it, so it goes on
   * live with no gap and no duplicate. An ID not in the history (too old, or unknown) gets all
   * the history there is. An empty ID replays nothing.
   */
  replay(stream: S, lastEventId: string = stream.lastEventId): ReplayResult {
    let result: ReplayResult = { found: false, sent: 0 };
    if (lastEventId !== '' && this.historySize > 0) {
      const at = this.sequenceOfId.get(lastEventId);
      const from = at === undefined ? this.historyStart : at + 1;
      let sent = 0;
      for (let sequence = from; sequence < this.sequence; sequence++) {
        const entry = this.history[sequence % this.historySize];
        if (entry) stream.sendFrame(entry.frame);
        sent++;
      }
      result = { found: at !== undefined, sent };
    }
    this.add(stream);
    return result;
  }

  /** Events kept for replay now. */
  get historyLength(): number {
    return this.sequence - this.historyStart;
  }

  private remember(id: string | undefined, frame: Frame): void {
    if (this.historySize === 0) return;
    const slot = this.sequence % this.historySize;
    if (this.sequence - this.historyStart === this.historySize) {
      const evicted = this.history[slot];
      if (evicted?.id !== undefined && this.sequenceOfId.get(evicted.id) === this.historyStart) {
        this.sequenceOfId.delete(evicted.id);
      }
      this.historyStart++;
    }
    this.history[slot] = { id, frame };
    if (id !== undefined) this.sequenceOfId.set(id, this.sequence);
    this.sequence++;
  }
}

/** Creates a broadcast group; see {@link Channel}. */
export function createChannel<S extends AnyStream = AnyStream>(options?: ChannelOptions): Channel<S> {
  return new Channel<S>(options);
}
