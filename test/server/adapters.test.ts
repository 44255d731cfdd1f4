import { createServer, type Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createChannel,
  type EventStream,
  eventStreamFromReply,
  eventStreamHandler,
  honoEventStream,
  siarFastify,
} from '../../src/server/index.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

async function serveNode(server: Server): Promise<string> {
  closers.push(() => closeServer(server));
  return listen(server);
}

describe('Express adapter', () => {
  it('opens a stream on a route, with the Last-Event-ID, and sends events', async () => {
    const app = express();
    const channel = createChannel();
    app.get(
      '/events',
      eventStreamHandler((stream, req: express.Request) => {
        stream.send({ data: `hello ${req.query.name}`, id: 'welcome' });
        channel.add(stream);
      }),
    );
    const url = await serveNode(createServer(app));
    const client = await openSse(`${url}/events?name=ada`, { headers: { 'Last-Event-ID': '5' } });
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await waitFor(() => channel.size === 1);
    channel.broadcast({ data: 'broadcast' });
    await client.waitForEvents(2);
    expect(client.events.map((event) => event.data)).toEqual(['hello ada', 'broadcast']);
    client.close();
    await waitFor(() => channel.size === 0);
  });

  it('passes an error thrown before the stream starts to next()', async () => {
    const app = express();
    app.get(
      '/events',
      eventStreamHandler(() => {}, { heartbeatMs: -5 }),
    );
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(`handled: ${error.message}`);
    });
    const url = await serveNode(createServer(app));
    const response = await fetch(`${url}/events`);
    expect(response.status).toBe(500);
    expect(await response.text()).toContain('heartbeatMs');
  });
});

describe('Fastify adapter', () => {
  async function serveFastify(app: FastifyInstance): Promise<string> {
    closers.push(() => app.close());
    return app.listen({ port: 0, host: '127.0.0.1' });
  }

  it('decorates reply.eventStream() through the plugin', async () => {
    const app = Fastify();
    await app.register(siarFastify);
    app.get('/events', (_request, reply) => {
      const stream = (reply as unknown as { eventStream: () => EventStream }).eventStream();
      stream.send({ event: 'greeting', data: 'from fastify' });
    });
    const url = await serveFastify(app);
    const client = await openSse(`${url}/events`);
    expect(client.status).toBe(200);
    await client.waitForEvents(1);
    expect(client.events[0]).toEqual({ type: 'greeting', data: 'from fastify', lastEventId: '' });
    client.close();
  });

  it('opens a stream from a reply without the plugin, and notices the client leaving', async () => {
    const app = Fastify();
    const streams: EventStream[] = [];
    app.get('/events', (_request, reply) => {
      streams.push(eventStreamFromReply(reply, { retry: 3000 }));
    });
    const url = await serveFastify(app);
    const client = await openSse(`${url}/events`, { headers: { 'Last-Event-ID': 'f-1' } });
    await waitFor(() => streams.length === 1);
    const stream = streams[0] as EventStream;
    expect(stream.lastEventId).toBe('f-1');
    await waitFor(() => client.retries.length === 1);
    client.close();
    await stream.closed;
  });
});

describe('Hono adapter', () => {
  it('returns a streaming Response that reaches the client through @hono/node-server', async () => {
    const app = new Hono();
    const streams: EventStream[] = [];
    app.get('/events', (c) =>
      honoEventStream(c, (stream) => {
        streams.push(stream);
        stream.send({ id: 'h1', data: 'from hono' });
      }),
    );
    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    const url = await serveNode(server);
    const client = await openSse(`${url}/events`, { headers: { 'Last-Event-ID': 'h0' } });
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await client.waitForEvents(1);
    expect(client.events[0]).toEqual({ type: 'message', data: 'from hono', lastEventId: 'h1' });
    const stream = streams[0] as EventStream;
    expect(stream.lastEventId).toBe('h0');
    stream.send({ data: 'second' });
    await client.waitForEvents(2);
    client.close();
    await stream.closed;
  });
});
