import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/index.js';
import { type Channel, createChannel, createEventStream, type EventStream } from '../../src/server/index.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map(closeServer));
  servers = [];
});

/** A server where every request joins `channel` (through replay, so reconnecting clients catch up). */
async function channelServer(channel: Channel<EventStream<{ name: string }>>) {
  const server = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? '';
    const stream = createEventStream(req, res, { state: { name }, heartbeatMs: 0 });
    channel.replay(stream);
  });
  servers.push(server);
  return listen(server);
}

describe('createChannel', () => {
  it('broadcasts one event to every member and counts them', async () => {
    const channel = createChannel<EventStream<{ name: string }>>();
    const url = await channelServer(channel);
    const clients = await Promise.all(['a', 'b', 'c'].map((name) => openSse(`${url}/?name=${name}`)));
    await waitFor(() => channel.size === 3);
    expect(channel.broadcast({ event: 'news', id: '1', data: 'hello\nall' })).toBe(3);
    for (const client of clients) {
      await client.waitForEvents(1);
      expect(client.events).toEqual([{ type: 'news', data: 'hello\nall', lastEventId: '1' }]);
    }
    for (const client of clients) client.close();
  });

  it('sends only to the members the filter accepts', async () => {
    const channel = createChannel<EventStream<{ name: string }>>();
    const url = await channelServer(channel);
    const clients = await Promise.all(['a', 'b', 'c'].map((name) => openSse(`${url}/?name=${name}`)));
    await waitFor(() => channel.size === 3);
    expect(channel.broadcast({ data: 'only b' }, (stream) => stream.state.name === 'b')).toBe(1);
    channel.broadcast({ data: 'everyone' });
    await Promise.all(clients.map((client) => client.waitForEvents(client === clients[1] ? 2 : 1)));
    expect(clients.map((client) => client.events.map((event) => event.data))).toEqual([
      ['everyone'],
      ['only b', 'everyone'],
      ['everyone'],
    ]);
    for (const client of clients) client.close();
  });

  it('refuses a bad event before writing to anyone', async () => {
    const channel = createChannel<EventStream<{ name: string }>>({ historySize: 10 });
    const url = await channelServer(channel);
    const client = await openSse(url);
    await waitFor(() => channel.size === 1);
    expect(() => channel.broadcast({ event: 'x\ny', data: 'bad' })).toThrow(ProtocolError);
    expect(channel.historyLength).toBe(0);
    channel.broadcast({ data: 'good' });
    await client.waitForEvents(1);
    expect(client.events.map((event) => event.data)).toEqual(['good']);
    client.close();
  });

  it('replays what a reconnecting client missed, then goes on live', async () => {
    const channel = createChannel<EventStream<{ name: string }>>({ historySize: 5 });
    const url = await channelServer(channel);
    for (let i = 1; i <= 10; i++) channel.broadcast({ id: String(i), data: `event ${i}` });
    expect(channel.historyLength).toBe(5);

    const resumed = await openSse(url, { headers: { 'Last-Event-ID': '8' } });
    await resumed.waitForEvents(2);
    // Evicted (3) and unknown IDs get everything kept: the client missed an unknown amount.
    const tooOld = await openSse(url, { headers: { 'Last-Event-ID': '3' } });
    const unknown = await openSse(url, { headers: { 'Last-Event-ID': 'nope' } });
    const fresh = await openSse(url);
    await waitFor(() => channel.size === 4);
    channel.broadcast({ id: '11', data: 'event 11' });
    await resumed.waitForEvents(3);
    await tooOld.waitForEvents(6);
    await unknown.waitForEvents(6);
    await fresh.waitForEvents(1);
    const ids = (client: SseConnection) => client.events.map((event) => event.lastEventId);
    expect(ids(resumed)).toEqual(['9', '10', '11']);
    expect(ids(tooOld)).toEqual(['6', '7', '8', '9', '10', '11']);
    expect(ids(unknown)).toEqual(['6', '7', '8', '9', '10', '11']);
    expect(ids(fresh)).toEqual(['11']);
    for (const client of [resumed, tooOld, unknown, fresh]) client.close();
  });

  it('loses and doubles nothing while clients reconnect during a steady broadcast', async () => {
    const channel = createChannel<EventStream<{ name: string }>>({ historySize: 1000 });
    const url = await channelServer(channel);
    let next = 1;
    const timer = setInterval(() => {
      for (let i = 0; i < 3; i++) channel.broadcast({ id: String(next), data: String(next++) });
    }, 2);
    try {
      const seen: number[][] = [];
      await Promise.all(
        Array.from({ length: 5 }, async (_, c) => {
          const received: number[] = [];
          seen[c] = received;
          let lastId = '';
          for (let round = 0; round < 4; round++) {
            const client = await openSse(url, { headers: lastId ? { 'Last-Event-ID': lastId } : {} });
            await client.waitForEvents(10);
            client.close();
            await client.ended;
            for (const event of client.events) received.push(Number(event.data));
            lastId = client.events.at(-1)?.lastEventId ?? lastId;
          }
        }),
      );
      for (const received of seen) {
        expect(received.length).toBeGreaterThanOrEqual(40);
        const first = received[0] as number;
        expect(received).toEqual(Array.from({ length: received.length }, (_, i) => first + i));
      }
    } finally {
      clearInterval(timer);
    }
  });

  it('removes members explicitly, and keeps a stream in several channels', async () => {
    const a = createChannel<EventStream<{ name: string }>>();
    const b = createChannel<EventStream<{ name: string }>>();
    const url = await channelServer(a);
    const client = await openSse(url);
    await waitFor(() => a.size === 1);
    const [stream] = [...a.streams];
    if (!stream) throw new Error('no stream');
    b.add(stream);
    expect(a.remove(stream)).toBe(true);
    expect(a.remove(stream)).toBe(false);
    a.broadcast({ data: 'from a' });
    b.broadcast({ data: 'from b' });
    await client.waitForEvents(1);
    expect(client.events.map((event) => event.data)).toEqual(['from b']);
    client.close();
    await stream.closed;
    expect(b.size).toBe(0);
  });
});
