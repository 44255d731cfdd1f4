import { afterEach, describe, expect, it } from 'vitest';
import { startCounter } from '../../examples/counter/server.js';
import type { Running } from '../../examples/serve.js';
import { sleep, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';

let running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.map((example) => example.close()));
  running = [];
});

async function counter(intervalMs: number, limit: number) {
  const log: string[] = [];
  const example = await startCounter({
    port: 0,
    host: '127.0.0.1',
    intervalMs,
    limit,
    log: (line) => log.push(line),
  });
  running.push(example);
  return { url: `${example.url}/stream`, log };
}

describe('example: counter', () => {
  it('sends 1, 2, 3… with ids, then ends the stream at the limit', async () => {
    const { url, log } = await counter(10, 3);
    const client = await openSse(url);
    expect(client.status).toBe(200);
    await client.ended;
    expect(client.events).toEqual([
      { type: 'message', data: '1', lastEventId: '1' },
      { type: 'message', data: '2', lastEventId: '2' },
      { type: 'message', data: '3', lastEventId: '3' },
    ]);
    expect(log).toContain('stream closed after 3');
  });

  it('stops the loop as soon as the client disconnects', async () => {
    const { url, log } = await counter(10, 1_000_000);
    const client = await openSse(url);
    await client.waitForEvents(2);
    client.close();
    await waitFor(
      () => log.some((line) => line.startsWith('stream closed after')),
      5000,
      'the stream to close',
    );
    const sent = log.filter((line) => line.startsWith('sent ')).length;
    await sleep(100); // ten intervals: a loop still running would have logged more numbers
    expect(log.filter((line) => line.startsWith('sent ')).length).toBe(sent);
  });

  it('resumes after the Last-Event-ID, and answers 204 once the limit was reached', async () => {
    const { url } = await counter(10, 4);
    const resumed = await openSse(url, { headers: { 'Last-Event-ID': '2' } });
    await resumed.ended;
    expect(resumed.events.map((event) => event.data)).toEqual(['3', '4']);
    const done = await openSse(url, { headers: { 'Last-Event-ID': '4' } });
    expect(done.status).toBe(204);
    await done.ended;
    expect(done.text).toBe('');
  });

  it('answers 404 on any other path', async () => {
    const { url } = await counter(10, 3);
    const response = await fetch(url.replace('/stream', '/other'));
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('/stream');
  });
});
