// The reconnection state EventSource and subscribe() share: Last-Event-ID, the server's retry:, the
// attempts in a row and the wait. Pure: no network.
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../src/client/backoff.js';
import { Reconnection } from '../../src/client/reconnection.js';
import type { ParsedEvent } from '../../src/protocol/index.js';

const backoff = resolvePolicy({ initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0, maxRetries: 3 });

describe('Reconnection', () => {
  it('sends the last event ID it read as Last-Event-ID, and keeps it across connections', () => {
    const events: ParsedEvent[] = [];
    const reconnection = new Reconnection(backoff, {
      onEvent: (event) => events.push(event),
      lastEventId: 'start',
    });
    expect(reconnection.headers({ authorization: 'Bearer x' }, false)).toEqual({
      authorization: 'Bearer x',
      accept: 'text/event-stream',
      'cache-control': 'no-cache',
      'last-event-id': 'start',
    });
    reconnection.feed('id: 7\ndata: seven\n\ndata: cut in half');
    reconnection.disconnected();
    reconnection.feed('\n\n');
    expect(events).toEqual([{ type: 'message', data: 'seven', lastEventId: '7' }]);
    expect(reconnection.lastEventId).toBe('7');
    expect(reconnection.headers({}, true)['last-event-id']).toBe('7');
  });

  it('backs off for each attempt in a row, from the server retry: once sent, and gives up after maxRetries', () => {
    const reconnection = new Reconnection(backoff, { onEvent: () => {} });
    expect(reconnection.next()).toEqual({ attempt: 1, delayMs: 100 });
    reconnection.feed('retry: 300\n\n');
    expect(reconnection.next()).toEqual({ attempt: 2, delayMs: 600 });
    // A server's Retry-After replaces the computed delay, and still counts as an attempt.
    expect(reconnection.next(5000)).toEqual({ attempt: 3, delayMs: 5000 });
    expect(reconnection.next()).toBeUndefined();
    // A connection that opens starts the count again.
    reconnection.opened();
    expect(reconnection.next()).toEqual({ attempt: 1, delayMs: 300 });
  });

  it("with EventSource's policy, waits the reconnection time each time, uncapped", () => {
    const standard = resolvePolicy({
      initialDelayMs: 3000,
      maxDelayMs: Number.POSITIVE_INFINITY,
      factor: 1,
      jitter: 0,
      maxRetries: Number.POSITIVE_INFINITY,
    });
    const reconnection = new Reconnection(standard, { onEvent: () => {} });
    expect([1, 2, 3].map(() => reconnection.next()?.delayMs)).toEqual([3000, 3000, 3000]);
    reconnection.feed('retry: 120000\n\n');
    expect(reconnection.next()).toEqual({ attempt: 4, delayMs: 120_000 });
  });

  it('wait() resolves true when the time is up, false at once on cancel() or another wait', async () => {
    const reconnection = new Reconnection(backoff, { onEvent: () => {} });
    expect(await reconnection.wait(1)).toBe(true);
    const long = reconnection.wait(60_000);
    reconnection.cancel();
    expect(await long).toBe(false);
    const replaced = reconnection.wait(60_000);
    const next = reconnection.wait(1);
    expect(await replaced).toBe(false);
    expect(await next).toBe(true);
  });
});
