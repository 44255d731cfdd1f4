// Past the browser's six-connection limit: one page opens 20 EventSources to one hub origin. Over
// HTTPS the hub speaks HTTP/2 and all 20 share one connection; over plain HTTP/1.1 Chromium opens
// six connections to the origin and holds the other 14 requests until one frees up.
//
// The page is the hub's own /healthz (same origin: no CORS in the way); the test writes its
// EventSources and a small table of their states into it. Chromium trusts the test's self-signed
// certificate through --ignore-certificate-errors.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2Session } from 'node:http2';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { type ServedHub, serveHub } from '../helpers/http2.js';
import { sleep, waitFor } from '../helpers/net.js';
import { fromPage } from '../helpers/page-errors.js';

const TOPIC = 'https://example.com/news';
const SOURCES = 20;
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

interface PageApi {
  open(url: string, count: number): void;
  close(indexes: number[]): void;
  states(): number[];
  received(): number[];
}

/** Runs in the page: the EventSources, what each received, and a table of their states. */
function install(): void {
  const sources: EventSource[] = [];
  const received: number[] = [];
  const names = ['connecting', 'open', 'closed'];
  function render(): void {
    const rows = sources
      .map(
        (source, i) =>
          `<tr class="s${source.readyState}"><td>EventSource ${i + 1}</td><td>${names[source.readyState]}</td><td>${received[i]} update(s)</td></tr>`,
      )
      .join('');
    const open = sources.filter((source) => source.readyState === 1).length;
    document.body.innerHTML = `<style>body{font:14px system-ui;margin:16px}table{border-collapse:collapse}td{padding:2px 10px;border:1px solid #ccc}
      .s0{background:#fff3c4}.s1{background:#c8f0c8}.s2{background:#ddd}</style>
      <h1>${location.protocol} — ${open} of ${sources.length} open</h1><table>${rows}</table>`;
  }
  const api: PageApi = {
    open(url, count) {
      for (let i = 0; i < count; i++) {
        const source = new EventSource(url);
        const index = sources.push(source) - 1;
        received[index] = 0;
        source.onopen = render;
        source.onerror = render;
        source.onmessage = () => {
          received[index] = (received[index] ?? 0) + 1;
          render();
        };
      }
      render();
    },
    close(indexes) {
      for (const i of indexes) sources[i]?.close();
      render();
    },
    states: () => sources.map((source) => source.readyState),
    received: () => [...received],
  };
  (window as unknown as { siar: PageApi }).siar = api;
}

const count = (states: number[], state: number) => states.filter((value) => value === state).length;

describe.skipIf(skipBrowserTests())('Chromium: 20 EventSources to one hub origin', () => {
  let browser: Browser;
  let context: BrowserContext | undefined;
  let served: ServedHub | undefined;

  beforeAll(async () => {
    browser = await launchChromium(['--ignore-certificate-errors']);
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    await served?.close();
    served = undefined;
  });

  async function openPage(hub: ServedHub): Promise<Page> {
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(`${hub.url}/healthz`);
    await fromPage(page.evaluate(install));
    return page;
  }

  const states = (page: Page) =>
    fromPage(page.evaluate(() => (window as unknown as { siar: PageApi }).siar.states()));
  const received = (page: Page) =>
    fromPage(page.evaluate(() => (window as unknown as { siar: PageApi }).siar.received()));

  it('over HTTPS (HTTP/2): all 20 open on one connection, and all 20 receive the update', async () => {
    served = await serveHub();
    const hub = served;
    const requests: Array<{ version: string; session: Http2Session | undefined }> = [];
    hub.server.on('request', (req: IncomingMessage | Http2ServerRequest) => {
      if (!req.url?.startsWith('/.well-known/mercure')) return;
      requests.push({ version: req.httpVersion, session: 'stream' in req ? req.stream.session : undefined });
    });
    const page = await openPage(hub);
    await fromPage(
      page.evaluate(
        ([url, n]) => (window as unknown as { siar: PageApi }).siar.open(url as string, n as number),
        [hub.subscribeUrl([TOPIC]), SOURCES] as const,
      ),
    );
    await fromPage(
      page.waitForFunction(
        (n) =>
          (window as unknown as { siar: PageApi }).siar.states().filter((state) => state === 1).length === n,
        SOURCES,
      ),
    );
    await waitFor(() => hub.hub.stats().subscribers === SOURCES);
    expect(requests).toHaveLength(SOURCES);
    expect(new Set(requests.map(({ version }) => version))).toEqual(new Set(['2.0']));
    expect(new Set(requests.map(({ session }) => session)).size).toBe(1);

    expect(await hub.publish({ topic: TOPIC, data: 'to every tab' })).toBe(200);
    await fromPage(
      page.waitForFunction(
        (n) =>
          (window as unknown as { siar: PageApi }).siar.received().filter((value) => value === 1).length ===
          n,
        SOURCES,
      ),
    );
    await page.screenshot({ path: screenshotPath('http2-20-eventsources-h2') });
    expect(count(await states(page), OPEN)).toBe(SOURCES);
    expect(await received(page)).toEqual(new Array(SOURCES).fill(1));
  });

  it('over plain HTTP/1.1: exactly 6 open, the other 14 wait; closing 2 lets 2 more in', async () => {
    served = await serveHub({}, { plain: true });
    const hub = served;
    const page = await openPage(hub);
    await fromPage(
      page.evaluate(
        ([url, n]) => (window as unknown as { siar: PageApi }).siar.open(url as string, n as number),
        [hub.subscribeUrl([TOPIC]), SOURCES] as const,
      ),
    );
    await fromPage(
      page.waitForFunction(
        () =>
          (window as unknown as { siar: PageApi }).siar.states().filter((state) => state === 1).length >= 6,
      ),
    );
    // Give the other 14 every chance: they stay CONNECTING, held by the browser, not refused by the hub.
    await sleep(2000);
    const held = await states(page);
    expect({ open: count(held, OPEN), connecting: count(held, CONNECTING) }).toEqual({
      open: 6,
      connecting: 14,
    });
    expect(hub.hub.stats().subscribers).toBe(6);

    expect(await hub.publish({ topic: TOPIC, data: 'to six tabs' })).toBe(200);
    await fromPage(
      page.waitForFunction(
        () =>
          (window as unknown as { siar: PageApi }).siar.received().filter((value) => value === 1).length ===
          6,
      ),
    );
    await page.screenshot({ path: screenshotPath('http2-20-eventsources-http1') });
    expect(count(await received(page), 0)).toBe(14);

    // The limit is the connections: two of the open ones closed, two waiting ones take their place.
    const openIndexes = held.flatMap((state, i) => (state === OPEN ? [i] : [])).slice(0, 2);
    await fromPage(
      page.evaluate((indexes) => (window as unknown as { siar: PageApi }).siar.close(indexes), openIndexes),
    );
    await fromPage(
      page.waitForFunction(
        () =>
          (window as unknown as { siar: PageApi }).siar.states().filter((state) => state === 1).length === 6,
      ),
    );
    await sleep(500);
    const after = await states(page);
    expect({
      open: count(after, OPEN),
      connecting: count(after, CONNECTING),
      closed: count(after, CLOSED),
    }).toEqual({ open: 6, connecting: 12, closed: 2 });
  });
});
