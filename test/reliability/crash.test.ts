// kill -9 of `siar serve` with the SQLite store while publishes are in flight (test/hub/sqlite.test.ts
// kills it between two publishes): every update that was acknowledged (200 and its ID) is there
// after the restart, none twice, in the order they were stored; and a client that was subscribed
// comes back by itself (siar/client's EventSource, same URL) and has every acknowledged update once.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { EventSource } from '../../src/client/index.js';
import { createToken } from '../../src/hub/index.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { freePort, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { ids, tempDirsRemovedAfterEach } from '../hub/hub-helpers.js';

const defer = cleanupAfterEach();
const tempDir = tempDirsRemovedAfterEach();

const KEY = 'crash-test-secret-of-a-decent-length!';
const TOPIC = 'https://example.com/crash';
const PUBLISHERS = 8;

/** One publish on its own connection; resolves to the ID on 200, undefined on anything else. */
function publish(url: string, token: string, id: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.end(new URLSearchParams({ topic: TOPIC, id, data: `data of ${id}` }).toString());
  });
}

describe('siar serve with SQLite, killed (SIGKILL) in the middle of a publish burst', () => {
  it('keeps every acknowledged update, once, and a subscribed EventSource resumes with all of them', async () => {
    const port = await freePort();
    const hubUrl = `http://127.0.0.1:${port}/.well-known/mercure`;
    const store = `sqlite:${tempDir()}/crash.db`;
    const serve = () => startHubProcess(defer, { port, key: KEY, args: ['--store', store] });
    const token = await createToken({ publish: ['*'] }, KEY);
    const first = await serve();
    const source = new EventSource(`${hubUrl}?topic=${encodeURIComponent(TOPIC)}`);
    defer(() => source.close());
    const seen: string[] = [];
    source.onmessage = (event) => seen.push(event.lastEventId);
    await waitFor(() => source.readyState === EventSource.OPEN, 5000, 'the EventSource to open');

    // Eight publishers, each sending the next update as soon as the last one is answered.
    const acknowledged = new Set<string>();
    let crashed = false;
    let next = 0;
    const publishers = Array.from({ length: PUBLISHERS }, async () => {
      while (!crashed) {
        const id = `c${next++}`;
        const answer = await publish(hubUrl, token, id);
        if (answer !== undefined) acknowledged.add(answer);
      }
    });
    await waitFor(() => acknowledged.size >= 300, 20_000, '300 acknowledged publishes');
    first.child.kill('SIGKILL');
    crashed = true;
    expect(await first.exited).toBe('SIGKILL');
    await Promise.all(publishers);
    const sent = next;

    await serve();
    // What the store holds, from its beginning.
    const history = await openSse(`${hubUrl}?topic=${encodeURIComponent(TOPIC)}`, {
      headers: { 'last-event-id': 'earliest' },
    });
    defer(() => history.close());
    expect(await publish(hubUrl, token, 'after-restart')).toBe('after-restart');
    await waitFor(() => ids(history).includes('after-restart'), 10_000, 'the whole history');
    const stored = ids(history).slice(0, -1);
    expect(stored.filter((id) => !acknowledged.has(id)).length).toBeLessThanOrEqual(PUBLISHERS);
    expect([...acknowledged].filter((id) => !stored.includes(id))).toEqual([]);
    expect(new Set(stored).size).toBe(stored.length);

    // The EventSource came back by itself with its Last-Event-ID: the rest of the history, then live.
    await waitFor(() => seen.includes('after-restart'), 15_000, 'the EventSource to resume');
    expect(seen).toEqual([...stored, 'after-restart']);
    console.info(
      `kill -9 in a burst: ${sent} publishes sent, ${acknowledged.size} acknowledged, ${stored.length} stored, none lost`,
    );
  }, 60_000);
});
