import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../../examples/serve.js';
import { startTicker } from '../../examples/ticker/server.js';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { fromPage } from '../helpers/page-errors.js';
import { openSse } from '../helpers/sse-client.js';

/** What the page records (window.ticker). */
interface Ticker {
  ids: number[];
  lastIdAtOpen: Array<number | null>;
}

let running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.map((example) => example.close()));
  running = [];
});

async function ticker() {
  const log: string[] = [];
  const example = await startTicker({
    port: 0,
    host: '127.0.0.1',
    intervalMs: 20,
    retryMs: 200,
    log: (line) => log.push(line),
  });
  running.push(example);
  return { url: example.url, log };
}

/** The ids from the first one on, each one more than the one before: none lost, none repeated. */
function expectContiguous(ids: number[]): void {
  const first = ids[0] ?? 0;
  expect(ids).toEqual(ids.map((_, at) => first + at));
}

describe('example: ticker, over a socket', () => {
  it('sends the retry hint, then named multi-line events with an id each', async () => {
    const { url } = await ticker();
    const client = await openSse(`${url}/prices`);
    const events = await client.waitForEvents(3);
    client.close();
    expect(client.text.startsWith('retry: 200\n\n')).toBe(true);
    expect(client.text).toMatch(/\nevent: price\nid: \d+\ndata: (GOOG|AAPL|MSFT)\ndata: \d+\.\d\d\n\n/);
    expect(client.retries).toEqual([200]);
    for (const event of events) {
      expect(event.type).toBe('price');
      expect(event.data).toMatch(/^(GOOG|AAPL|MSFT)\n\d+\.\d\d$/);
    }
    expectContiguous(events.map((event) => Number(event.lastEventId)));
  });

  it('replays what a client missed after its Last-Event-ID, then goes on live', async () => {
    const { url, log } = await ticker();
    const first = await openSse(`${url}/prices`);
    await first.waitForEvents(6);
    first.close();
    const last = first.events[2]?.lastEventId as string;
    const resumed = await openSse(`${url}/prices`, { headers: { 'Last-Event-ID': last } });
    const events = await resumed.waitForEvents(6);
    resumed.close();
    const ids = events.map((event) => Number(event.lastEventId));
    expect(ids[0]).toBe(Number(last) + 1);
    expectContiguous(ids);
    expect(log[1]).toMatch(new RegExp(`^connected, Last-Event-ID: ${last}, replayed [1-9]\\d*$`));
  });
});

describe.skipIf(skipBrowserTests())('example: ticker, in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('reconnects after the server drops it and gets every event once, twice over', async () => {
    const { url, log } = await ticker();
    const context = await browser.newContext();
    context.setDefaultTimeout(5000);
    try {
      const page = await context.newPage();
      await page.goto(url);
      const state = () => fromPage(page.evaluate(() => (window as unknown as { ticker: Ticker }).ticker));
      /** Waits until the page has had `connections` connections and 5 more events than `after`. */
      const waitFor = (connections: number, after: number) =>
        fromPage(
          page.waitForFunction(
            ([connections, after]) => {
              const { ids, lastIdAtOpen } = (window as unknown as { ticker: Ticker }).ticker;
              return lastIdAtOpen.length >= connections && ids.length >= after + 5;
            },
            [connections, after] as const,
          ),
        );

      await waitFor(1, 0);
      for (const connections of [2, 3]) {
        const before = (await state()).ids.length;
        await page.click('#drop');
        await waitFor(connections, before);
      }
      await page.screenshot({ path: screenshotPath('example-ticker-resume') });

      const { ids, lastIdAtOpen } = await state();
      expectContiguous(ids);
      expect(await page.locator('#prices tr').count()).toBe(15); // the newest prices, on screen
      expect(lastIdAtOpen).toHaveLength(3);
      expect(lastIdAtOpen[0]).toBeNull();
      // The server saw each reconnection's Last-Event-ID header: the last id the page had.
      const connected = log.filter((line) => line.startsWith('connected'));
      expect(connected[0]).toBe('connected, Last-Event-ID: none, replayed 0');
      expect(connected.slice(1).map((line) => line.split(',')[1])).toEqual(
        lastIdAtOpen.slice(1).map((id) => ` Last-Event-ID: ${id}`),
      );
      // Prices went on while the page was away (retry: 200 ms, one every 20 ms): it got them by replay.
      const replayed = connected.slice(1).map((line) => Number(line.split('replayed ')[1]));
      expect(replayed.some((count) => count > 0)).toBe(true);
      expect(log.filter((line) => line.startsWith('dropped'))).toEqual([
        'dropped 1 connection(s)',
        'dropped 1 connection(s)',
      ]);
    } finally {
      await context.close();
    }
  });
});
