// 1,000 subscribers that never read, against the real `siar serve` in a child process: the hub's
// memory stays within a stated bound while it writes to them, it drops each one once it holds
// --max-buffered-bytes unread for it, and ten subscribers that read get every update meanwhile.
//
// The bound: RSS grows by at most N × (maxBufferedBytes + 32 KiB) over what it was before the N
// stalled subscribers came: the unread bytes the hub lets each one hold, plus its connection and
// the bookkeeping of its pending writes. (An update's frame is one Buffer shared by every
// subscriber, so what is queued for them costs less than that.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createToken } from '../../src/hub/index.js';
import { spawnProcess } from '../helpers/child-process.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { sleep, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { ids } from '../hub/hub-helpers.js';

const defer = cleanupAfterEach();

const KEY = 'stalled-subscribers-secret-long-enough';
const TOPIC = 'https://example.com/stalled';
const STALLED = 1000;
const READERS = 10;
const MAX_BUFFERED_BYTES = 16 * 1024;
const PER_SUBSCRIBER_OVERHEAD = 32 * 1024;
const UPDATE_BYTES = 8 * 1024;
/** Enough to fill every stalled subscriber's kernel buffers and then its 16 KiB, many times over. */
const MAX_UPDATES = 3000;

/** Resident memory of a process, from /proc (`exec` keeps the shell's pid for node). */
function rss(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) * 1024;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

describe('1,000 subscribers that never read', () => {
  it('hold the hub to N × (maxBufferedBytes + 32 KiB) more memory, are dropped, and the readers miss nothing', async () => {
    // Under the hard descriptor limit: a thousand sockets need more than 1024.
    const hub = await startHubProcess(defer, {
      key: KEY,
      args: ['--max-buffered-bytes', String(MAX_BUFFERED_BYTES), '--heartbeat', '0', '--no-dashboard'],
      raiseDescriptorLimit: true,
    });
    const { url: base, port, hubUrl, pid } = hub;
    const subscribers = async () =>
      ((await (await fetch(`${base}/healthz`)).json()) as { subscribers: number }).subscribers;
    const publisher = await createToken({ publish: ['*'] }, KEY);
    let published = 0;
    const publish = async () => {
      const id = `u${published++}`;
      const response = await fetch(hubUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher}` },
        body: new URLSearchParams({ topic: TOPIC, id, data: `${id} ${'d'.repeat(UPDATE_BYTES)}` }),
      });
      expect(response.status).toBe(200);
      await response.text();
    };

    const readers = await Promise.all(
      Array.from({ length: READERS }, () => openSse(`${hubUrl}?topic=${encodeURIComponent(TOPIC)}`)),
    );
    for (const reader of readers) defer(() => reader.close());
    // Warm up the paths the measurement goes through, then take the baseline.
    for (let i = 0; i < 50; i++) await publish();
    await sleep(500);
    const before = rss(pid);

    const stalled = spawnProcess(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/reliability/helpers/stalled-subscribers.ts',
        String(port),
        String(STALLED),
        `/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}`,
      ],
      { raiseDescriptorLimit: true },
    );
    defer(() => stalled.kill());
    await waitFor(() => stalled.output().includes(`connected ${STALLED}`), 30_000, 'the stalled subscribers');
    await waitFor(
      async () => (await subscribers()) === STALLED + READERS,
      30_000,
      'the hub to register them',
    );
    const connected = rss(pid);

    let peak = connected;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss(pid));
    }, 10);
    defer(() => clearInterval(sampler));
    // Publish until the hub has dropped every stalled subscriber, then a little more.
    let after: number | undefined;
    while (published < MAX_UPDATES && (after === undefined || published < after + 20)) {
      await publish();
      if (after === undefined && published % 10 === 0 && (await subscribers()) === READERS) after = published;
    }
    for (const reader of readers) await reader.waitForEvents(published, 30_000);
    clearInterval(sampler);
    peak = Math.max(peak, rss(pid));

    // Every stalled subscriber was dropped as a slow consumer; the readers got every update, in order.
    expect(after, `the stalled subscribers were still connected after ${MAX_UPDATES} updates`).toBeDefined();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^siar_slow_consumers_closed_total ${STALLED}$`, 'm'));
    const expected = Array.from({ length: published }, (_, i) => `u${i}`);
    for (const reader of readers) {
      expect(reader.isEnded()).toBe(false);
      expect(ids(reader)).toEqual(expected);
    }
    const bound = STALLED * (MAX_BUFFERED_BYTES + PER_SUBSCRIBER_OVERHEAD);
    console.info(
      `stalled subscribers: RSS ${mib(before)} before, ${mib(connected)} with ${STALLED} connected ` +
        `(${((connected - before) / STALLED / 1024).toFixed(1)} KiB each), peak ${mib(peak)}: ` +
        `+${mib(peak - before)} for a bound of ${mib(bound)}; all dropped after ${after} updates of ` +
        `${UPDATE_BYTES / 1024} KiB, ${published} published`,
    );
    expect(peak - before).toBeLessThanOrEqual(bound);
  }, 120_000);
});
