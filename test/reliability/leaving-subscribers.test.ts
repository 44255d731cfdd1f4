// Subscribers that close their connection (curl killed, EventSource.close(), a closed tab) are gone
// from the hub at once, on every path a subscription takes: the standalone server's fast path (the
// HTTP/1.1 heads it reads itself), node:http (a hub mounted in an app's server) and HTTP/2. Their
// count, the subscriptions API and the subscription events follow within a second, and no socket of
// the hub's is left in CLOSE-WAIT. Heartbeats are 15 s apart: a write failing cannot be what finds them.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { constants } from 'node:http2';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EventSource } from '../../src/client/index.js';
import { closeHubServer, createHub, createHubServer, type Hub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/server/index.js';
import { h2Request, h2Session } from '../helpers/http2.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { TEST_KEY, token } from '../hub/hub-helpers.js';

const defer = cleanupAfterEach();

const TOPIC = 'https://example.com/leaving';
const EVENTS_SELECTOR = '/.well-known/mercure/subscriptions/{topic}/{subscriber}';
const API_CLAIM = '/.well-known/mercure/subscriptions{/topic}{/subscriber}';
/** How soon a subscriber that left must be gone from every count. */
const GONE_WITHIN_MS = 1000;
const LEAVING = 20;

type Path = 'fast path' | 'node:http' | 'http2';

/** A hub with subscription events behind the server of `path`, on 127.0.0.1 (port 0). */
async function serve(path: Path): Promise<{ hub: Hub; url: string; port: number }> {
  const hub = createHub({
    publisherJwt: { key: TEST_KEY },
    anonymous: true,
    subscriptions: true,
    heartbeatMs: 15_000,
    logger: silentLogger,
  });
  await hub.ready();
  if (path === 'node:http') {
    const server: Server = createServer(hub.handler);
    const url = await listen(server);
    defer(async () => {
      await hub.close({ graceMs: 100 });
      await closeServer(server);
    });
    return { hub, url, port: Number(new URL(url).port) };
  }
  const server = createHubServer(hub, path === 'http2' ? { h2c: true } : {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => closeHubServer(server, { graceMs: 100 }));
  const { port } = server.address() as AddressInfo;
  return { hub, url: `http://127.0.0.1:${port}`, port };
}

/** The hub's sockets (local port `port`) in CLOSE-WAIT: the client has gone, the hub has not closed. */
function closeWaitSockets(port: number): number {
  const CLOSE_WAIT = '08';
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local === undefined) continue;
      if (Number.parseInt(local.split(':').at(-1) as string, 16) === port && state === CLOSE_WAIT) count++;
    }
  }
  return count;
}

/** A subscription on a raw socket (what curl sends), answered 200. */
async function rawSubscriber(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  socket.write(
    `GET /.well-known/mercure?topic=${encodeURIComponent(TOPIC)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`,
  );
  await waitFor(() => text.includes('\r\n\r\n'), 5000, 'the subscription to open');
  expect(text.startsWith('HTTP/1.1 200')).toBe(true);
  return socket;
}

interface Figures {
  counted: number;
  healthz: number;
  listed: number;
}

/** GETs `path` and reads its JSON: over HTTP/2 from an h2c server, else with fetch. */
async function getJson(path: Path, url: string, target: string, headers: Record<string, string> = {}) {
  if (path !== 'http2') return (await fetch(`${url}${target}`, { headers })).json();
  const session = h2Session(url);
  try {
    const exchange = h2Request(session, target, { headers });
    await exchange.closed;
    return JSON.parse(exchange.text());
  } finally {
    session.close();
  }
}

async function figures(path: Path, hub: Hub, url: string, apiToken: string): Promise<Figures> {
  const health = (await getJson(path, url, '/healthz')) as { subscribers: number };
  const api = (await getJson(path, url, `/.well-known/mercure/subscriptions/${encodeURIComponent(TOPIC)}`, {
    authorization: `Bearer ${apiToken}`,
  })) as { subscriptions: unknown[] };
  return { counted: hub.stats().subscribers, healthz: health.subscribers, listed: api.subscriptions.length };
}

/** A subscriber to the subscription events, allowed to see them. */
async function watch(path: Path, url: string): Promise<{ events: Array<{ data: string }>; open(): boolean }> {
  const target = `/.well-known/mercure?topic=${encodeURIComponent(EVENTS_SELECTOR)}`;
  const headers = { authorization: `Bearer ${await token({ subscribe: [EVENTS_SELECTOR] })}` };
  if (path === 'http2') {
    const session = h2Session(url);
    defer(() => session.destroy());
    const exchange = h2Request(session, target, { headers });
    expect((await exchange.response)[':status']).toBe(200);
    let open = true;
    void exchange.closed.then(() => {
      open = false;
    });
    return { events: exchange.events, open: () => open };
  }
  const connection = await openSse(`${url}${target}`, { headers });
  defer(() => connection.close());
  expect(connection.status).toBe(200);
  return { events: connection.events, open: () => !connection.isEnded() };
}

describe.each<Path>(['fast path', 'node:http', 'http2'])('subscribers that leave (%s)', (path) => {
  it(`are gone from the counts, the subscriptions API and the events within ${GONE_WITHIN_MS} ms, leaving no socket in CLOSE-WAIT`, async () => {
    const { hub, url, port } = await serve(path);
    const apiToken = await token({ subscribe: [API_CLAIM] });
    const watcher = await watch(path, url);

    const leave: Array<() => void> = [];
    if (path === 'http2') {
      // Streams cancelled one by one (EventSource.close(), a closed tab), and a whole connection gone.
      for (const session of [h2Session(url), h2Session(url)]) {
        defer(() => session.destroy());
        const exchanges = Array.from({ length: LEAVING / 2 }, () =>
          h2Request(session, `/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}`),
        );
        for (const exchange of exchanges) expect((await exchange.response)[':status']).toBe(200);
        if (leave.length === 0) {
          for (const { stream } of exchanges) leave.push(() => stream.close(constants.NGHTTP2_CANCEL));
        } else {
          leave.push(() => session.destroy());
        }
      }
    } else {
      // The ways a client goes: a FIN (curl killed), a RST, and siar/client's EventSource closed.
      for (let i = 0; i < LEAVING - 2; i++) {
        const socket = await rawSubscriber(port);
        defer(() => socket.destroy());
        leave.push(i % 2 === 0 ? () => socket.end() : () => socket.resetAndDestroy());
      }
      for (let i = 0; i < 2; i++) {
        const source = new EventSource(`${url}/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}`);
        defer(() => source.close());
        await waitFor(() => source.readyState === EventSource.OPEN, 5000, 'an EventSource to open');
        leave.push(() => source.close());
      }
    }
    // The watcher and the LEAVING others.
    await waitFor(
      async () => (await figures(path, hub, url, apiToken)).listed === LEAVING,
      5000,
      'every subscription listed',
    );
    expect(await figures(path, hub, url, apiToken)).toEqual({
      counted: LEAVING + 1,
      healthz: LEAVING + 1,
      listed: LEAVING,
    });
    const startEvents = watcher.events.length;

    for (const go of leave) go();
    await waitFor(
      async () => {
        const now = await figures(path, hub, url, apiToken);
        const ended = watcher.events
          .slice(startEvents)
          .filter((event) => (JSON.parse(event.data) as { active: boolean }).active === false);
        return now.counted === 1 && now.healthz === 1 && now.listed === 0 && ended.length === LEAVING;
      },
      GONE_WITHIN_MS,
      'the subscribers that left to be gone from the counts, the API and the events',
    );
    expect(closeWaitSockets(port)).toBe(0);
    expect(watcher.open()).toBe(true);
  });
});
