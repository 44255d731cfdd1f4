import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSource, type Subscription, subscribe } from '../../src/client/index.js';
import type { ParsedEvent } from '../../src/protocol/index.js';
import { createEventStream, endForGood } from '../../src/server/index.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';

// Siar's client against Siar's server: createEventStream on node:http, resumed by Last-Event-ID.

const servers: Server[] = [];
const closers: Array<{ close(): void }> = [];

afterEach(async () => {
  for (const closer of closers.splice(0)) closer.close();
  await Promise.all(servers.splice(0).map((server) => closeServer(server)));
});

/**
 * Each connection resumes after the Last-Event-ID it brings, sends the next two events (the first a
 * named one whose data holds CRLF) and ends; the third connection is told 204: no more.
 */
async function startNumbersServer() {
  const lastEventIds: string[] = [];
  const server = createServer((req, res) => {
    if (lastEventIds.length === 2) {
      lastEventIds.push(String(req.headers['last-event-id']));
      endForGood(res);
      return;
    }
    const stream = createEventStream(req, res, { retry: 30, heartbeatMs: 0 });
    lastEventIds.push(stream.lastEventId);
    const next = stream.lastEventId === '' ? 1 : Number(stream.lastEventId) + 1;
    stream.send({ event: 'number', id: String(next), data: `${next}\r\nis odd: ${next % 2 === 1}` });
    stream.send({ id: String(next + 1), data: String(next + 1) });
    stream.close();
  });
  servers.push(server);
  return { origin: await listen(server), lastEventIds };
}

const expected: ParsedEvent[] = [
  { type: 'number', data: '1\nis odd: true', lastEventId: '1' },
  { type: 'message', data: '2', lastEventId: '2' },
  { type: 'number', data: '3\nis odd: true', lastEventId: '3' },
  { type: 'message', data: '4', lastEventId: '4' },
];

describe('siar/client against siar/server createEventStream', () => {
  it('EventSource receives every event across the server ending the stream, resuming by Last-Event-ID', async () => {
    const { origin, lastEventIds } = await startNumbersServer();
    const source = new EventSource(origin);
    closers.push(source);
    const seen: ParsedEvent[] = [];
    const record = ({ type, data, lastEventId }: MessageEvent<string>) =>
      seen.push({ type, data, lastEventId });
    source.addEventListener('number', record);
    source.onmessage = record;
    await waitFor(() => source.readyState === EventSource.CLOSED, 5000, 'the 204');
    expect(seen).toEqual(expected);
    expect(lastEventIds).toEqual(['', '2', '4']);
  });

  it('subscribe() receives every event, resumes by Last-Event-ID, and ends when the server answers 204', async () => {
    const { origin, lastEventIds } = await startNumbersServer();
    const subscription: Subscription = subscribe(origin, { reconnect: { jitter: 0 } });
    closers.push(subscription);
    const seen: ParsedEvent[] = [];
    for await (const event of subscription) seen.push(event);
    expect(seen).toEqual(expected);
    expect(lastEventIds).toEqual(['', '2', '4']);
  });
});
