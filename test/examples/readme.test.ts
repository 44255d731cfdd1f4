// The 30-second examples of README.md's `siar/server` section, run: the same code, with port 0 and
// shorter intervals. Change both together.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createChannel,
  createEventStream,
  eventStreamHandler,
  honoEventStream,
} from '../../src/server/index.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';

let cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function start(server: Server): Promise<string> {
  cleanups.push(() => closeServer(server));
  return listen(server);
}

describe("README's siar/server examples", () => {
  it('node:http: a channel with history; a client that comes back gets what it missed', async () => {
    const prices = createChannel({ historySize: 100 }); // keeps the last 100 events for clients that come back
    let id = 0;
    const timer = setInterval(
      () => prices.broadcast({ event: 'price', id: String(++id), data: String(Math.random()) }),
      10,
    );
    cleanups.push(() => clearInterval(timer));

    const server = createServer((req, res) => {
      const stream = createEventStream(req, res, { retry: 2000 }); // 200 and SSE headers, heartbeats, retry hint
      prices.replay(stream); // what it missed since its Last-Event-ID, then live
    });

    const url = await start(server);
    const first = await openSse(url);
    await first.waitForEvents(3);
    first.close();
    expect(first.retries).toEqual([2000]);
    expect(first.events[0]?.type).toBe('price');
    const last = Number(first.events[1]?.lastEventId);
    const back = await openSse(url, { headers: { 'Last-Event-ID': String(last) } });
    await back.waitForEvents(3);
    back.close();
    // A fourth may be in by now (one every 10 ms): the first three are the ones that matter.
    expect(back.events.slice(0, 3).map((event) => Number(event.lastEventId))).toEqual([
      last + 1,
      last + 2,
      last + 3,
    ]);
  });

  it('Express: a route streams to a channel, another broadcasts to it', async () => {
    const chat = createChannel();
    const app = express();
    app.get(
      '/events',
      eventStreamHandler((stream) => {
        chat.add(stream);
      }),
    );
    app.post('/messages', express.text(), (req, res) => {
      res.json({ deliveredTo: chat.broadcast({ event: 'message', data: req.body }) });
    });

    const url = await start(createServer(app));
    const client = await openSse(`${url}/events`);
    await waitFor(() => chat.size === 1);
    const response = await fetch(`${url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(await response.json()).toEqual({ deliveredTo: 1 });
    await client.waitForEvents(1);
    client.close();
    expect(client.events).toEqual([{ type: 'message', data: 'hello', lastEventId: '' }]);
  });

  it('Hono: a handler sends a countdown, then closes the stream', async () => {
    const app = new Hono();
    app.get('/countdown', (c) =>
      honoEventStream(c, async (stream) => {
        for (let n = 3; n > 0 && stream.isOpen; n--) {
          stream.send({ data: String(n) });
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        stream.close();
      }),
    );

    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    cleanups.push(() => closeServer(server));
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const client = await openSse(`http://127.0.0.1:${port}/countdown`);
    await client.ended;
    expect(client.events.map((event) => event.data)).toEqual(['3', '2', '1']);
  });
});
