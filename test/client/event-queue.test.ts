// The bounded queue between a subscription's reader and its async iterator. Pure: no network.
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/client/event-queue.js';

describe('EventQueue', () => {
  it('hands items to waiting consumers, queues the rest, then ends: queued items first, then the error, once', async () => {
    const queue = new EventQueue<string>(10);
    const waiting = queue.next();
    queue.push('a');
    queue.push('b');
    queue.push('c');
    expect(await waiting).toEqual({ value: 'a', done: false });
    const failure = new Error('broke');
    queue.end({ reason: failure });
    queue.push('after the end');
    expect(await queue.next()).toEqual({ value: 'b', done: false });
    expect(await queue.next()).toEqual({ value: 'c', done: false });
    await expect(queue.next()).rejects.toBe(failure);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('room() holds the producer while the limit is queued, until the consumer takes one', async () => {
    const queue = new EventQueue<number>(2);
    await queue.room();
    queue.push(1);
    queue.push(2);
    expect(queue.full).toBe(true);
    let resumed = false;
    const room = queue.room().then(() => {
      resumed = true;
    });
    await Promise.resolve();
    expect({ resumed, waiting: queue.waitingForRoom }).toEqual({ resumed: false, waiting: true });
    expect(await queue.next()).toEqual({ value: 1, done: false });
    await room;
    expect({ resumed, waiting: queue.waitingForRoom, full: queue.full }).toEqual({
      resumed: true,
      waiting: false,
      full: false,
    });
  });

  it('close() drops what is queued, settles waiters with its error, frees the producer, and ignores what follows', async () => {
    const queue = new EventQueue<number>(1);
    queue.push(1);
    const room = queue.room();
    const reason = new Error('aborted');
    queue.close({ reason });
    await room;
    queue.push(2);
    queue.end(undefined);
    expect(queue.closed).toBe(true);
    await expect(queue.next()).rejects.toBe(reason);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    const other = new EventQueue<number>(1);
    const waiter = other.next();
    other.close(undefined);
    expect(await waiter).toEqual({ value: undefined, done: true });
  });
});
