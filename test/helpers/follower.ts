/**
 * A subscriber that follows a stream across hub nodes, as EventSource would across reconnections,
 * and the verdict on what it received: lost, repeated, out of order.
 */
import { type ClientRequest, request } from 'node:http';
import { createParser, type ParsedEvent } from '../../src/protocol/index.js';
import { waitFor } from './net.js';
import type { Teardown } from './teardown.js';

/** One connection of a {@link Follower}. */
export interface FollowerConnection {
  url: string;
  /** The status, or 0 when the connection failed. */
  status: number;
  /** The Last-Event-ID the follower sent, if any. */
  sentLastEventId?: string;
  /** The Last-Event-ID response header. */
  lastEventIdHeader?: string;
  /** Events received on this connection. */
  events: number;
}

/**
 * A subscriber that behaves like EventSource across nodes: when its connection ends (or cannot be
 * made) it reconnects to the next URL of its list with the last event ID it received.
 */
export class Follower {
  readonly events: ParsedEvent[] = [];
  readonly connections: FollowerConnection[] = [];
  comments = 0;
  private request: ClientRequest | undefined;
  private stopped = false;
  private next = 0;
  private lastEventId: string | undefined;
  private readonly opened: Promise<void>;

  /** Connects to `urls[0]` (each a full subscription URL), with `lastEventId` if given. */
  constructor(
    private readonly urls: string[],
    options: { lastEventId?: string; reconnectMs?: number } = {},
  ) {
    this.lastEventId = options.lastEventId;
    this.reconnectMs = options.reconnectMs ?? 50;
    this.opened = new Promise((resolve) => this.connect(resolve));
  }

  private readonly reconnectMs: number;

  /** Resolves once the first connection answered (or failed). */
  ready(): Promise<void> {
    return this.opened;
  }

  /** The IDs received, in order, across all connections. */
  ids(): string[] {
    return this.events.map((event) => event.lastEventId);
  }

  /** Closes the current connection and goes on at `url` with the last ID received. */
  moveTo(index: number): Promise<void> {
    this.next = index;
    const current = this.request;
    this.request = undefined;
    current?.destroy();
    return new Promise((resolve) => this.connect(resolve));
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => this.events.length >= count,
      timeoutMs,
      `${count} events (have ${this.events.length}) on ${this.connections.at(-1)?.url}`,
    );
  }

  close(): void {
    this.stopped = true;
    this.request?.destroy();
  }

  private connect(opened: () => void): void {
    if (this.stopped) {
      opened();
      return;
    }
    const url = this.urls[this.next % this.urls.length] as string;
    this.next++;
    const record: FollowerConnection = { url, status: 0, sentLastEventId: this.lastEventId, events: 0 };
    this.connections.push(record);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const req = request(url, { agent: false, headers });
    this.request = req;
    let done = false;
    const again = () => {
      if (done) return;
      done = true;
      opened();
      if (this.stopped || this.request !== req) return;
      setTimeout(() => this.connect(() => {}), this.reconnectMs);
    };
    req.on('error', again);
    req.on('response', (res) => {
      record.status = res.statusCode ?? 0;
      const header = res.headers['last-event-id'];
      record.lastEventIdHeader = Array.isArray(header) ? header[0] : header;
      opened();
      const parser = createParser({
        onEvent: (event) => {
          if (this.request !== req) return;
          this.events.push(event);
          record.events++;
          if (event.lastEventId !== '') this.lastEventId = event.lastEventId;
        },
        onComment: () => {
          this.comments++;
        },
      });
      res.on('data', (chunk: Buffer) => parser.feed(chunk));
      res.on('error', again);
      res.on('close', again);
    });
    req.end();
  }
}

/** Every Follower made through this is closed after each test. */
export function useFollowers(
  teardown: Teardown,
): (urls: string[], options?: { lastEventId?: string }) => Promise<Follower> {
  return async (urls, options) => {
    const follower = new Follower(urls, options);
    teardown(() => follower.close());
    await follower.ready();
    return follower;
  };
}

/** Counts, for a list of IDs, those missing from and those repeated in `received` (compared to `expected`). */
export function lossAndDuplicates(
  expected: string[],
  received: string[],
): { missing: string[]; duplicated: string[]; outOfOrder: boolean } {
  const seen = new Map<string, number>();
  for (const id of received) seen.set(id, (seen.get(id) ?? 0) + 1);
  const missing = expected.filter((id) => !seen.has(id));
  const duplicated = [...seen].filter(([, count]) => count > 1).map(([id]) => id);
  const rank = new Map(expected.map((id, i) => [id, i]));
  const ranks = received.flatMap((id) => (rank.has(id) ? [rank.get(id) as number] : []));
  const outOfOrder = ranks.some((r, i) => i > 0 && r < (ranks[i - 1] as number));
  return { missing, duplicated, outOfOrder };
}
