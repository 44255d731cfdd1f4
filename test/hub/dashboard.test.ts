// The live dashboard: the hub's own figures as an ephemeral private update on the reserved topic (over
// real sockets), and the page at /dashboard in Chromium, built by `npm run build` into dist/web/dashboard.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DashboardFigures } from '../../src/hub/dashboard-figures.js';
import { DASHBOARD_TOPIC } from '../../src/hub/dashboard-figures.js';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { sleep, waitFor } from '../helpers/net.js';
import { describeRedis, prefixFor, startRedisHub } from '../helpers/redis.js';
import { openSse as openSseOnce } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { hubsClosedAfterEach, send, sseClosedAfterEach, type TestHub, token } from './hub-helpers.js';

const BOOKS = 'https://example.com/books/1';

function figures(data: string): DashboardFigures {
  return JSON.parse(data) as DashboardFigures;
}

describe('the dashboard feed on /.well-known/mercure/dashboard', () => {
  const startHub = hubsClosedAfterEach();
  const openSse = sseClosedAfterEach();

  const watch = async (hub: TestHub, claim: string[] | undefined, topics = [DASHBOARD_TOPIC], params = {}) =>
    openSse(hub.subscribeUrl(topics, params), {
      headers: claim === undefined ? {} : { authorization: `Bearer ${await token({ subscribe: claim })}` },
    });

  it("reaches the subscribers whose claim matches the topic, once a second, with the hub's figures and no ID", async () => {
    const hub = await startHub({ anonymous: true, heartbeatMs: 0 });
    const watcher = await watch(hub, [DASHBOARD_TOPIC]);
    const anonymous = await watch(hub, undefined);
    const narrowClaim = await watch(hub, [BOOKS]);
    // `*` takes every update its claim allows, but the dashboard's figures go only to who names the topic.
    const everything = await watch(hub, ['*'], ['*']);
    expect((await hub.publish({ topic: BOOKS, data: 'one', id: 'book-1' })).status).toBe(200);

    const [first, second] = await watcher.waitForEvents(2, 5000);
    expect(first?.lastEventId).toBe('');
    expect(first?.type).toBe('message');
    const before = figures(first?.data ?? '');
    const after = figures(second?.data ?? '');
    expect(after.time - before.time).toBeGreaterThanOrEqual(900);
    expect(after.time - before.time).toBeLessThan(1500);
    expect(after).toMatchObject({
      intervalMs: 1000,
      subscribers: 4,
      subscribersTotal: 4,
      updatesPublished: 1,
      updatesDispatched: 1,
      deliveries: 1,
      historySize: 1,
      store: { kind: 'memory', ok: true },
      nodes: null,
    });
    expect(after.slowConsumersClosed).toBeGreaterThanOrEqual(0);
    expect(after.topSelectors).toEqual([
      { selector: DASHBOARD_TOPIC, subscribers: 3 },
      { selector: '*', subscribers: 1 },
    ]);

    expect(anonymous.events).toEqual([]);
    expect(narrowClaim.events).toEqual([]);
    expect(everything.events.map((event) => event.data)).toEqual(['one']);
  });

  it('times publishes to their dispatch while someone watches, and reports the percentiles of each second', async () => {
    const hub = await startHub({ heartbeatMs: 0 });
    const watcher = await watch(hub, [DASHBOARD_TOPIC]);
    await watcher.waitForEvents(1, 5000);
    for (let i = 0; i < 5; i++)
      expect((await hub.publish({ topic: BOOKS, data: String(i) })).status).toBe(200);
    await hub.hub.publish({ topics: [BOOKS], data: 'from the API' });
    const seen = watcher.events.length;
    await watcher.waitForEvents(seen + 1, 5000);
    const latency = figures(watcher.events[seen]?.data ?? '').latency;
    expect(latency?.count).toBe(6);
    expect(latency?.p50).toBeGreaterThan(0);
    expect(latency?.p50).toBeLessThanOrEqual(latency?.p99 ?? 0);
    expect(latency?.p99).toBeLessThanOrEqual(latency?.max ?? 0);
    expect(latency?.max).toBeLessThan(1000);
    // A second with no publish has no latency.
    await watcher.waitForEvents(seen + 2, 5000);
    expect(figures(watcher.events[seen + 1]?.data ?? '').latency).toBeNull();
  });

  it('is not stored: a subscriber replaying from "earliest" gets the real updates only, and IDs stay theirs', async () => {
    const hub = await startHub({ heartbeatMs: 0 });
    const watcher = await watch(hub, ['*']);
    await hub.publish({ topic: BOOKS, data: 'stored', id: 'real-1' });
    await watcher.waitForEvents(2, 5000);
    expect(hub.hub.stats().historySize).toBe(1);

    const replaying = await watch(hub, ['*'], [DASHBOARD_TOPIC, BOOKS], { lastEventID: 'earliest' });
    await replaying.waitForEvents(2, 5000);
    expect(replaying.events[0]).toMatchObject({ data: 'stored', lastEventId: 'real-1' });
    expect(replaying.events.slice(1).every((event) => 'subscribers' in figures(event.data))).toBe(true);
    // The figures carry no ID: the last event ID, sent back on a reconnection, is still the real update's.
    expect(replaying.events.at(-1)?.lastEventId).toBe('real-1');
    expect(hub.hub.stats().historySize).toBe(1);
  });

  it('runs its timer only while a subscriber watches, and stops it on close', async () => {
    const setTimer = vi.spyOn(globalThis, 'setInterval');
    const clearTimer = vi.spyOn(globalThis, 'clearInterval');
    try {
      const dashboardTimers = () => setTimer.mock.calls.filter(([, ms]) => ms === 1000).length;
      const hub = await startHub({ heartbeatMs: 0, anonymous: true });
      await watch(hub, undefined); // no claim: not a watcher
      await watch(hub, [BOOKS], [BOOKS]);
      expect(dashboardTimers()).toBe(0);

      const first = await watch(hub, [DASHBOARD_TOPIC]);
      const second = await watch(hub, [DASHBOARD_TOPIC]);
      await first.waitForEvents(1, 5000);
      expect(dashboardTimers()).toBe(1);
      const timer = setTimer.mock.results.find((_, i) => setTimer.mock.calls[i]?.[1] === 1000)?.value;
      first.close();
      await sleep(100);
      expect(clearTimer).not.toHaveBeenCalledWith(timer);
      second.close();
      await vi.waitFor(() => expect(clearTimer).toHaveBeenCalledWith(timer));

      await watch(hub, [DASHBOARD_TOPIC]);
      expect(dashboardTimers()).toBe(2);
      const again = setTimer.mock.results.filter((_, i) => setTimer.mock.calls[i]?.[1] === 1000)[1]?.value;
      await hub.close();
      expect(clearTimer).toHaveBeenCalledWith(again);
    } finally {
      setTimer.mockRestore();
      clearTimer.mockRestore();
    }
  });

  it('serves the page and its assets, publicly; dashboard: false serves nothing and sends nothing', async () => {
    const hub = await startHub({ heartbeatMs: 0 });
    const page = await send(`${hub.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<div id="app">');
    const script = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(page.body)?.[1] as string;
    expect(script).toBeDefined();
    const asset = await send(`${hub.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await send(`${hub.url}/dashboard/`)).body).toBe(page.body);
    expect((await send(`${hub.url}/dashboard/../package.json`)).status).toBe(404);
    expect((await send(`${hub.url}/dashboard/nothing.js`)).status).toBe(404);

    const off = await startHub({ heartbeatMs: 0, dashboard: false });
    expect((await send(`${off.url}/dashboard`)).status).toBe(404);
    const watcher = await watch(off, [DASHBOARD_TOPIC]);
    await sleep(1500);
    expect(watcher.events).toEqual([]);
  });
});

describeRedis('the dashboard feed on Redis', () => {
  const teardown = cleanupAfterEach();

  it("lists the hub's nodes, this one marked, and the store's health", async () => {
    const prefix = prefixFor(teardown);
    const a = await startRedisHub(teardown, { prefix });
    const b = await startRedisHub(teardown, { prefix });
    const bearer = await token({ subscribe: [DASHBOARD_TOPIC] });
    const watcher = await openSseOnce(a.subscribeUrl([DASHBOARD_TOPIC]), {
      headers: { authorization: `Bearer ${bearer}` },
    });
    teardown(() => watcher.close());
    // The node list is read from Redis in the background: the first figures may come before it.
    await waitFor(
      () => watcher.events.some((event) => figures(event.data).nodes?.length === 2),
      8000,
      'figures listing both nodes',
    );
    const latest = figures(watcher.events.at(-1)?.data ?? '');
    expect(latest.store).toEqual({ kind: 'redis', ok: true });
    expect(latest.nodes?.map((node) => node.id).sort()).toEqual([a.store.nodeId, b.store.nodeId].sort());
    expect(latest.nodes?.filter((node) => node.self).map((node) => node.id)).toEqual([a.store.nodeId]);
  });
});

describe.skipIf(skipBrowserTests())('the dashboard page, in Chromium', () => {
  const startHub = hubsClosedAfterEach();
  const openSse = sseClosedAfterEach();
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  async function open(hub: TestHub, query = '', cookie?: string): Promise<{ page: Page; errors: string[] }> {
    context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
    context.setDefaultTimeout(8000);
    if (cookie !== undefined) {
      await context.addCookies([{ name: 'mercureAuthorization', value: cookie, url: hub.url }]);
    }
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const response = await page.goto(`${hub.url}/dashboard${query}`);
    expect(response?.status()).toBe(200);
    return { page, errors };
  }

  const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').trim();
  const points = async (page: Page, chart: string) =>
    Number(await page.getAttribute(`#${chart} svg`, 'data-points'));

  it('loads with a token in the URL, and its numbers move as subscribers come and updates are published', async () => {
    const hub = await startHub({ heartbeatMs: 0 });
    const dashboardToken = await token({ subscribe: [DASHBOARD_TOPIC] });
    const { page, errors } = await open(hub, `?token=${dashboardToken}`);
    await page.waitForSelector('#connection.live');
    expect(await text(page, '#connection')).toBe('live');
    expect(await text(page, '#stat-subscribers .value')).toBe('1');
    expect(await text(page, '#stat-published .value')).toBe('0');
    expect(await text(page, '#store')).toBe('memory: healthy');

    const reader = await token({ subscribe: ['*'] });
    for (let i = 0; i < 2; i++) {
      await openSse(hub.subscribeUrl([BOOKS]), { headers: { authorization: `Bearer ${reader}` } });
    }
    await page.waitForFunction(() => document.querySelector('#stat-subscribers .value')?.textContent === '3');
    const chartBefore = await points(page, 'chart-subscribers');
    for (let i = 0; i < 5; i++) await hub.publish({ topic: BOOKS, data: `update ${i}` });
    await page.waitForFunction(() => document.querySelector('#stat-published .value')?.textContent === '5');
    expect(await text(page, '#stat-deliveries .value')).toBe('10');
    expect(await text(page, '#stat-latency .value')).toMatch(/^\d+(\.\d+)? ms$/);
    expect(await text(page, '#stat-latency .detail')).toContain('5 updates, last second');
    // The latest latency stays shown through the seconds without a publish.
    await page.waitForFunction(() =>
      document.querySelector('#stat-latency .detail')?.textContent?.endsWith('ago'),
    );
    expect(await text(page, '#stat-latency .value')).toMatch(/^\d+(\.\d+)? ms$/);
    expect(await text(page, `#top-topics tr[data-selector="${BOOKS}"] td.num`)).toBe('2');
    // The charts gain a point a second; the rates are drawn from the second figures on.
    await page.waitForFunction(
      (before) =>
        Number(document.querySelector('#chart-subscribers svg')?.getAttribute('data-points')) > before + 1,
      chartBefore,
    );
    expect(await points(page, 'chart-updates')).toBeGreaterThan(0);
    expect(await points(page, 'chart-latency')).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('hub-dashboard-live'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('takes the token from the mercureAuthorization cookie too', async () => {
    const hub = await startHub({ heartbeatMs: 0 });
    const { page, errors } = await open(hub, '', await token({ subscribe: [DASHBOARD_TOPIC] }));
    await page.waitForSelector('#connection.live');
    expect(await text(page, '#stat-subscribers .value')).toBe('1');
    await page.screenshot({ path: screenshotPath('hub-dashboard-cookie'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('without a token, says the hub refused and how to get one', async () => {
    const hub = await startHub({ heartbeatMs: 0 });
    const { page } = await open(hub);
    await page.waitForSelector('#connection.refused');
    const refusal = await text(page, '#refusal');
    expect(await text(page, '#refusal h2')).toBe("The hub refused the dashboard's figures");
    expect(await text(page, '#refusal .reason')).toMatch(/^401 Subscribing to this hub needs a JWT/);
    expect(refusal).toContain(`siar token --subscribe '${DASHBOARD_TOPIC}'`);
    expect(await page.$('#stat-subscribers')).toBeNull();
    await page.screenshot({ path: screenshotPath('hub-dashboard-refused'), fullPage: true });
  });

  it('on a hub with anonymous subscribers, says the figures are private when the token does not allow them', async () => {
    const hub = await startHub({ heartbeatMs: 0, anonymous: true });
    const { page } = await open(hub, `?token=${await token({ subscribe: [BOOKS] })}`);
    await page.waitForSelector('#no-figures', { timeout: 10_000 });
    expect(await text(page, '#connection')).toBe('connected, waiting for figures');
    expect(await text(page, '#no-figures')).toContain('only a token whose claim matches');
    await page.screenshot({ path: screenshotPath('hub-dashboard-no-figures'), fullPage: true });
  });

  describeRedis('on Redis', () => {
    const teardown = cleanupAfterEach();

    it('lists the nodes, this one marked', async () => {
      const prefix = prefixFor(teardown);
      const a = await startRedisHub(teardown, { prefix });
      await startRedisHub(teardown, { prefix });
      const { page, errors } = await open(a, `?token=${await token({ subscribe: [DASHBOARD_TOPIC] })}`);
      await page.waitForFunction(() => document.querySelectorAll('#nodes tbody tr').length === 2);
      expect(await text(page, '#store')).toBe('redis: healthy');
      expect(await text(page, '#nodes tr.self code')).toBe(a.store.nodeId);
      expect(await text(page, '#nodes tr.self .tag')).toBe('this node');
      await page.screenshot({ path: screenshotPath('hub-dashboard-redis-nodes'), fullPage: true });
      expect(errors).toEqual([]);
    });
  });

  it('is not served when the hub is created with dashboard: false', async () => {
    const hub = await startHub({ heartbeatMs: 0, dashboard: false });
    context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(
      `${hub.url}/dashboard?token=${await token({ subscribe: [DASHBOARD_TOPIC] })}`,
    );
    expect(response?.status()).toBe(404);
    expect(await page.textContent('body')).toContain('Nothing at /dashboard');
    await page.screenshot({ path: screenshotPath('hub-dashboard-off') });
  });
});
