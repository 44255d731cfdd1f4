import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createHub, type Hub, type HubOptions, siarHubFastify } from '../../src/hub/index.js';
import { silentLogger } from '../../src/server/index.js';
import { closeServer, listen } from '../helpers/net.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { data, form, formHeaders, ids, send, sseClosedAfterEach, TEST_KEY, token } from './hub-helpers.js';

const defer = cleanupAfterEach();
const openSse = sseClosedAfterEach();

const TOPIC = 'https://example.com/books/1';

async function newHub(options: HubOptions = {}): Promise<Hub> {
  const hub = createHub({
    publisherJwt: { key: TEST_KEY },
    anonymous: true,
    logger: silentLogger,
    ...options,
  });
  await hub.ready();
  defer(() => hub.close({ graceMs: 100 }));
  return hub;
}

/** Publishes and subscribes through `hubUrl`: form, alternates, private, JSON; checks what arrives. */
async function exercise(hubUrl: string): Promise<void> {
  const publisher = await token({ publish: ['*'] });
  const subscribeUrl = (topic: string) => `${hubUrl}?topic=${encodeURIComponent(topic)}`;
  const anonymous = await openSse(subscribeUrl('https://example.com/books/{id}'));
  expect(anonymous.status).toBe(200);
  const allowed = await openSse(subscribeUrl('https://example.com/books/{id}'), {
    headers: { authorization: `Bearer ${await token({ subscribe: ['*'] })}` },
  });
  expect(allowed.status).toBe(200);
  const alternate = await openSse(subscribeUrl('urn:isbn:1'));
  const postForm = (fields: Record<string, string | string[]>) =>
    send(hubUrl, { method: 'POST', headers: formHeaders(publisher), body: form(fields) });
  const one = await postForm({
    topic: [TOPIC, 'urn:isbn:1'],
    data: 'line 1\nline 2',
    id: 'f1',
    type: 'book',
  });
  expect(one.status).toBe(200);
  expect(one.body).toBe('f1');
  // Private by its presence, whatever its value: `on`, empty, or anything else.
  for (const [id, value] of [
    ['p-on', 'on'],
    ['p-empty', ''],
    ['p-one', '1'],
  ]) {
    const answer = await postForm({ topic: TOPIC, id: id as string, private: value as string });
    expect(answer.status).toBe(200);
  }
  const json = await send(hubUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
    body: JSON.stringify({ topic: TOPIC, data: '{"json":true}', id: 'j1', retry: 1500 }),
  });
  expect(json.status).toBe(200);
  expect(json.body).toBe('j1');
  const bad = await postForm({ topic: TOPIC, data: ['a', 'b'] });
  expect(bad.status).toBe(400);
  const refused = await send(hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ topic: TOPIC }),
  });
  expect(refused.status).toBe(401);
  const last = await postForm({ topic: TOPIC, id: 'last' });
  expect(last.status).toBe(200);
  await allowed.waitForEvents(6);
  await anonymous.waitForEvents(3);
  await alternate.waitForEvents(1);
  expect(ids(allowed)).toEqual(['f1', 'p-on', 'p-empty', 'p-one', 'j1', 'last']);
  expect(ids(anonymous)).toEqual(['f1', 'j1', 'last']);
  expect(anonymous.events[0]).toEqual({ type: 'book', data: 'line 1\nline 2', lastEventId: 'f1' });
  expect(data(anonymous)[1]).toBe('{"json":true}');
  expect(anonymous.retries).toEqual([1500]);
  expect(ids(alternate)).toEqual(['f1']);
  // Reconnection works through the host too.
  const resumed = await openSse(subscribeUrl(TOPIC), { headers: { 'last-event-id': 'j1' } });
  expect(resumed.headers['last-event-id']).toBe('j1');
  await resumed.waitForEvents(1);
  expect(ids(resumed)).toEqual(['last']);
}

describe('hub embedded in a host application', () => {
  it('mounts in node:http, handing the paths it does not serve to the app', async () => {
    const hub = await newHub();
    const server = createServer((req, res) =>
      hub.handler(req, res, () => {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`app: ${req.url}`);
      }),
    );
    const url = await listen(server);
    defer(() => closeServer(server));
    await exercise(`${url}/.well-known/mercure`);
    expect((await send(`${url}/books`)).body).toBe('app: /books');
  });

  it('mounts in Express at a sub-path', async () => {
    const hub = await newHub();
    const app = express();
    app.use('/hub', hub.handler);
    app.get('/', (_req, res) => {
      res.send('home');
    });
    const server = createServer(app);
    const url = await listen(server);
    defer(() => closeServer(server));
    await exercise(`${url}/hub/.well-known/mercure`);
    expect((await send(`${url}/`)).body).toBe('home');
    // Paths under the mount the hub does not serve go on to Express (its 404 here).
    const missing = await send(`${url}/hub/elsewhere`);
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('Cannot GET /hub/elsewhere');
  });

  it('reads bodies Express already parsed (express.urlencoded and express.json before the hub)', async () => {
    const hub = await newHub({ maxUpdateBytes: 64 });
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(express.json());
    app.use('/hub', hub.handler);
    const server = createServer(app);
    const url = await listen(server);
    defer(() => closeServer(server));
    await exercise(`${url}/hub/.well-known/mercure`);
    // The hub's limits hold for a body parsed by someone else.
    const tooLarge = await send(`${url}/hub/.well-known/mercure`, {
      method: 'POST',
      headers: formHeaders(await token({ publish: ['*'] })),
      body: form({ topic: TOPIC, data: 'x'.repeat(100) }),
    });
    expect(tooLarge.status).toBe(413);
  });

  it('reads bodies Express parsed with extended: true (qs)', async () => {
    const hub = await newHub();
    const app = express();
    app.use(express.urlencoded({ extended: true }));
    app.use('/hub', hub.handler);
    const server = createServer(app);
    const url = await listen(server);
    defer(() => closeServer(server));
    await exercise(`${url}/hub/.well-known/mercure`);
  });

  it('mounts in Fastify: hub paths routed to hub.handler after reply.hijack(), form bodies left unread', async () => {
    const hub = await newHub();
    const app = Fastify();
    defer(() => app.close());
    // The plugin keeps the hub's routes in a scope of their own, bodies left for the hub to read.
    await app.register(siarHubFastify, { hub });
    app.get('/', async () => 'home');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;
    await exercise(`${url}/.well-known/mercure`);
    expect((await send(`${url}/`)).body).toBe('home');
  });
});
