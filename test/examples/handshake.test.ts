import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../examples/handshake/client.js';
import { startHandshake } from '../../examples/handshake/server.js';
import type { Running } from '../../examples/serve.js';
import { waitFor } from '../helpers/net.js';

let closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

async function server(port = 0, log: string[] = []): Promise<Running> {
  const example = await startHandshake({
    port,
    host: '127.0.0.1',
    retryMs: 50,
    log: (line) => log.push(line),
  });
  closers.push(() => example.close());
  return example;
}

function client(url: string) {
  const messages: string[] = [];
  const log: string[] = [];
  let opens = 0;
  const connection = connect(`${url}/handshake`, {
    onMessage: (message) => messages.push(message),
    onOpen: () => opens++,
    log: (line) => log.push(line),
  });
  closers.push(() => connection.close());
  return { messages, log, opens: () => opens, close: () => connection.close() };
}

async function send(url: string, message?: string): Promise<string> {
  const response =
    message === undefined
      ? await fetch(`${url}/sendmessage`)
      : await fetch(`${url}/sendmessage`, { method: 'POST', body: message });
  expect(response.status).toBe(200);
  return response.text();
}

describe('example: handshake', () => {
  it('pushes each message to every connected client, by GET or POST', async () => {
    const log: string[] = [];
    const { url } = await server(0, log);
    const first = client(url);
    const second = client(url);
    await waitFor(() => first.opens() === 1 && second.opens() === 1, 5000, 'both clients to connect');
    expect(await send(url)).toBe('Sent to 2 client(s).\n');
    expect(await send(url, 'two\nlines')).toBe('Sent to 2 client(s).\n');
    const query = await fetch(`${url}/sendmessage?message=${encodeURIComponent('from the query')}`);
    expect(await query.text()).toBe('Sent to 2 client(s).\n');
    await waitFor(() => first.messages.length === 3 && second.messages.length === 3);
    expect(first.messages).toEqual(['Hello', 'two\nlines', 'from the query']);
    expect(second.messages).toEqual(first.messages);

    second.close();
    await waitFor(() => log.includes('client disconnected (1 connected)'), 5000, 'the server to notice');
    expect(await send(url, 'only one')).toBe('Sent to 1 client(s).\n');
    await waitFor(() => first.messages.length === 4);
    expect(second.messages).toHaveLength(3);
  });

  it('the client reconnects when the server restarts, and gets the messages sent after', async () => {
    const before = await server();
    const { port } = before.server.address() as AddressInfo;
    const listener = client(before.url);
    await waitFor(() => listener.opens() === 1, 5000, 'the client to connect');
    await send(before.url, 'before the restart');
    await waitFor(() => listener.messages.length === 1);

    await before.close();
    await waitFor(
      () => listener.log.some((line) => line.startsWith('connection lost')),
      5000,
      'the client to notice',
    );
    const after = await server(port); // the same port: a restart
    await waitFor(() => listener.opens() === 2, 5000, 'the client to reconnect');
    expect(await send(after.url, 'after the restart')).toBe('Sent to 1 client(s).\n');
    await waitFor(() => listener.messages.length === 2);
    expect(listener.messages).toEqual(['before the restart', 'after the restart']);
  });
});
