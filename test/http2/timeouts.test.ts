// HTTP/2 connections and publish bodies are bounded in time, as HTTP/1.1 ones are: a connection that
// opens no stream, and a publish whose body trickles, are dropped; a subscription with heartbeats is not.
import { connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeHubServer, createHubServer, type HubServer } from '../../src/hub/hub-server.js';
import { createHub, type Hub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/server/index.js';
import { sleep, waitFor } from '../helpers/net.js';
import { TEST_KEY, token } from '../hub/hub-helpers.js';

let running: { hub: Hub; server: HubServer } | undefined;
afterEach(async () => {
  if (running) await closeHubServer(running.server, { graceMs: 100 });
  running = undefined;
});

async function h2cHub(
  hubOptions: Parameters<typeof createHub>[0],
  idleSessionTimeoutMs: number,
): Promise<string> {
  const hub = createHub({
    publisherJwt: { key: TEST_KEY },
    logger: silentLogger,
    anonymous: true,
    ...hubOptions,
  });
  await hub.ready();
  const server = createHubServer(hub, { h2c: true, idleSessionTimeoutMs });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  running = { hub, server };
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('HTTP/2 timeouts', () => {
  it('closes a connection that stays silent, and keeps one whose subscription has heartbeats', async () => {
    const url = await h2cHub({ heartbeatMs: 100 }, 400);
    const silent = connect(url);
    silent.on('error', () => {});
    let silentClosed = false;
    silent.on('close', () => {
      silentClosed = true;
    });
    const busy = connect(url);
    busy.on('error', () => {});
    const stream = busy.request({ ':path': '/.well-known/mercure?topic=a', accept: 'text/event-stream' });
    stream.on('data', () => {});
    await waitFor(() => silentClosed, 5000, 'the silent connection to close');
    await sleep(600);
    expect(busy.closed || busy.destroyed).toBe(false);
    expect(running?.hub.stats().subscribers).toBe(1);
    busy.destroy();
  });

  it('answers 408 to a publish whose body does not arrive in time', async () => {
    const url = await h2cHub({ bodyTimeoutMs: 300 }, 0);
    const session = connect(url);
    session.on('error', () => {});
    const publisher = await token({ publish: ['*'] });
    const stream = session.request({
      ':method': 'POST',
      ':path': '/.well-known/mercure',
      authorization: `Bearer ${publisher}`,
      'content-type': 'application/x-www-form-urlencoded',
    });
    stream.write('topic=a&data=');
    const status = await new Promise<number>((resolve) => {
      stream.on('response', (headers) => resolve(Number(headers[':status'])));
      stream.on('close', () => resolve(0));
    });
    expect([408, 0]).toContain(status);
    expect(running?.hub.stats().updatesPublished).toBe(0);
    session.destroy();
  });
});
