// siar/react as a web app gets it: bundled for the browser by Vite (with React), then its hooks run in
// Chromium against a hub on the page's own origin — the browser's EventSource, siar/client's EventSource
// and subscribe() on the page's fetch.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build, type Rollup } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/server/index.js';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';
import { TEST_KEY, token } from '../hub/hub-helpers.js';

const TOPIC = 'https://example.com/rooms/1';
const HUB = `/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}`;

/** Bundles one entry for the browser, as an app's build would. */
async function bundle(entry: string, external: string[] = []): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    mode: 'production',
    oxc: { jsx: { runtime: 'automatic', development: false } },
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      write: false,
      minify: false,
      lib: { entry, formats: ['es'], fileName: 'bundle' },
      rollupOptions: { external },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
  return outputs
    .flatMap((output) => output.output)
    .map((chunk) => (chunk.type === 'chunk' ? chunk.code : ''))
    .join('\n');
}

/** Where a bundler left a Node.js built-in it could not bring to the browser. */
function nodeBuiltins(code: string): string[] {
  return code.split('\n').filter((line) => /vite_browser_external|from ["']node:/.test(line));
}

describe('siar/react bundled for a browser', () => {
  it.each([
    ['siar/client', 'src/client/index.ts'],
    ['siar/react', 'src/react/index.ts'],
  ])('%s: no Node.js built-in in the bundle', async (_name, entry) => {
    expect(
      nodeBuiltins(await bundle(entry, ['react'])),
      'siar/client runs in browsers (siar/react bundles it): load Node-only modules lazily, where they are used',
    ).toEqual([]);
  });
});

describe.skipIf(skipBrowserTests())('siar/react in Chromium', () => {
  let hub: Hub;
  let server: Server;
  let url: string;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let app: string;
  const sockets = new Set<Socket>();
  const streams: string[] = [];

  beforeAll(async () => {
    app = await bundle('test/react/fixtures/browser-app.tsx');
    hub = createHub({ publisherJwt: { key: TEST_KEY }, logger: silentLogger, heartbeatMs: 0 });
    await hub.ready();
    // The page, its bundle and the hub on one origin, as an app serving its own hub has them.
    server = createServer((req, res) => {
      if (req.url === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(app);
      } else if (req.url === '/') {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            '<!doctype html><title>app</title><div id="root"></div><script type="module" src="/app.js"></script>',
          );
      } else {
        if (req.url?.startsWith('/.well-known/mercure?'))
          streams.push(String(req.headers['last-event-id'] ?? ''));
        hub.handler(req, res);
      }
    });
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    url = await listen(server);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close({ graceMs: 100 });
    if (server) await closeServer(server);
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    streams.length = 0;
    await waitFor(() => hub.stats().subscribers === 0, 5000, 'every subscription to end');
  });

  async function open(): Promise<{ page: Page; errors: string[] }> {
    context = await browser.newContext();
    context.setDefaultTimeout(8000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${url}/`);
    await page.waitForFunction(() => 'siarTest' in window);
    return { page, errors };
  }

  const rendered = (page: Page, text: string) =>
    page.waitForFunction((expected) => document.getElementById('hook')?.textContent === expected, text);
  const state = (page: Page) => page.getAttribute('#hook', 'data-state');
  const subscribed = () => waitFor(() => hub.stats().subscribers === 1, 5000, 'the page to subscribe');

  it('useSubscribe sends its headers through the page fetch, receives private updates, and ends on unmount', async () => {
    const { page, errors } = await open();
    const subscriberToken = await token({ subscribe: [TOPIC] });
    await page.evaluate(([hubPath, bearer]) => window.siarTest.subscribe(hubPath, bearer), [
      HUB,
      subscriberToken,
    ] as const);
    await subscribed();
    await page.waitForSelector('#hook[data-state="open"]', { state: 'attached' });
    await hub.publish({ topics: [TOPIC], data: 'private hello', private: true });
    await rendered(page, 'private hello');
    await page.screenshot({ path: screenshotPath('react-use-subscribe-chromium') });

    await page.evaluate(() => window.siarTest.unmount());
    await waitFor(() => hub.stats().subscribers === 0, 5000, 'the request to be cancelled');
    expect(errors).toEqual([]);
  });

  it("useEventSource with headers takes siar/client's EventSource, on the page fetch", async () => {
    const { page, errors } = await open();
    const subscriberToken = await token({ subscribe: [TOPIC] });
    await page.evaluate(([hubPath, bearer]) => window.siarTest.eventSource(hubPath, bearer), [
      HUB,
      subscriberToken,
    ] as const);
    await subscribed();
    await page.waitForSelector('#hook[data-state="1"]', { state: 'attached' });
    await hub.publish({ topics: [TOPIC], data: 'a note', type: 'note', private: true });
    await rendered(page, 'a note');
    expect(await page.getAttribute('#hook', 'data-type')).toBe('note');
    await page.evaluate(() => window.siarTest.unmount());
    await waitFor(() => hub.stats().subscribers === 0, 5000, 'the stream to close');
    expect(errors).toEqual([]);
  });

  it("useEventSource takes the browser's EventSource, which reconnects with Last-Event-ID after a drop", async () => {
    const { page, errors } = await open();
    const subscriberToken = await token({ subscribe: [TOPIC] });
    await page.evaluate(
      ([hubPath, bearer]) => window.siarTest.eventSource(`${hubPath}&authorization=${bearer}`),
      [HUB, subscriberToken] as const,
    );
    await subscribed();
    // retry: 100 so the browser comes back at once.
    await hub.publish({ topics: [TOPIC], data: 'before', id: 'before-drop', retry: 100 });
    await rendered(page, 'before');
    for (const socket of sockets) socket.destroy();
    await hub.publish({ topics: [TOPIC], data: 'missed', id: 'missed' });
    await rendered(page, 'missed');
    expect(streams).toEqual(['', 'before-drop']);
    expect(await state(page)).toBe('1');
    await page.screenshot({ path: screenshotPath('react-use-event-source-chromium') });
    await page.evaluate(() => window.siarTest.unmount());
    expect(errors).toEqual([]);
  });
});
