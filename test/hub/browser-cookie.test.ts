// The hub in Chromium, the way a web app uses it: the app's page on one origin, the hub on another
// origin of the same site, the subscriber's JWT in the HttpOnly `mercureAuthorization` cookie that
// the app's server sets, and `new EventSource(url, { withCredentials: true })` sending it.
//
// Both servers listen on 127.0.0.1, on two ports: two origins (CORS applies), one host (a cookie
// belongs to a host, not a port, so the cookie the app set goes to the hub), one site (SameSite=Strict
// lets it go).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authorizationCookie, HUB_PATH } from '../../src/hub/index.js';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { fromPage } from '../helpers/page-errors.js';
import { type StaticPage, serveStaticPage } from '../helpers/static-page.js';
import { startHub, type TestHub, token } from './hub-helpers.js';

/** What the page records (window.page.seen). */
interface Seen {
  events: Array<{ type: string; id: string; data: string }>;
  opened: number;
  errors: number;
  readyState: number | undefined;
}

interface PageApi {
  seen: Seen;
  connect(url: string, withCredentials: boolean): void;
}

const OPEN = 1;
const CLOSED = 2;

/** The selector the page subscribes to, and the one private topic the cookie's token may receive. */
const SELECTOR = 'https://example.com/books/{id}';
const ALLOWED = 'https://example.com/books/1';

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>An app on another origin</title></head>
<body>
  <h1>An app on another origin than the hub</h1>
  <p>EventSource: <strong id="state">not connected</strong></p>
  <ol id="events"></ol>
  <script type="module">
    const seen = { events: [], opened: 0, errors: 0, readyState: undefined };
    let source;
    function show() {
      seen.readyState = source.readyState;
      const names = ['connecting', 'open', 'closed'];
      document.getElementById('state').textContent =
        names[source.readyState] + ', ' + seen.opened + ' open(s), ' + seen.errors + ' error(s)';
    }
    function connect(url, withCredentials) {
      source?.close();
      source = new EventSource(url, { withCredentials });
      source.onopen = () => { seen.opened++; show(); };
      source.onmessage = (event) => {
        seen.events.push({ type: event.type, id: event.lastEventId, data: event.data });
        const item = document.createElement('li');
        item.textContent = event.lastEventId + ': ' + event.data;
        document.getElementById('events').append(item);
        show();
      };
      // A refused request (401, 403, a CORS failure) fails the connection for good: CLOSED, one error.
      source.onerror = () => { seen.errors++; show(); };
      show();
    }
    window.page = { seen, connect };
  </script>
</body>
</html>`;

describe.skipIf(skipBrowserTests())('hub in Chromium: the mercureAuthorization cookie across origins', () => {
  let browser: Browser;
  let context: BrowserContext | undefined;
  let hub: TestHub;
  /** The app: its page, and its server setting the subscriber's cookie. Its origin is in corsOrigins. */
  let app: StaticPage;
  /** Another origin of the same host, also setting the cookie, but not in corsOrigins. */
  let other: StaticPage;
  /** The subscribe requests the hub got: origin, whether the cookie came, the status answered. */
  let requests: Array<{
    origin: string | undefined;
    cookie: boolean;
    lastEventId: string | undefined;
    req: IncomingMessage;
    res: ServerResponse;
  }> = [];

  beforeAll(async () => {
    const subscriberToken = await token({ subscribe: [ALLOWED] });
    // Secure off: the pages are served over plain http. HttpOnly and SameSite=Strict, as the helper sets them.
    const cookie = { 'set-cookie': authorizationCookie(subscriberToken, { secure: false }) };
    app = await serveStaticPage(PAGE, cookie);
    other = await serveStaticPage(PAGE, cookie);
    hub = await startHub({ corsOrigins: [app.url], anonymous: false, heartbeatMs: 0 });
    hub.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!req.url?.startsWith(HUB_PATH) || req.method !== 'GET') return;
      const cookie = /(?:^|;\s*)mercureAuthorization=/.test(req.headers.cookie ?? '');
      const lastEventId = req.headers['last-event-id'] as string | undefined;
      requests.push({ origin: req.headers.origin, cookie, lastEventId, req, res });
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([hub?.close(), app?.close(), other?.close()]);
  });
  beforeEach(() => {
    requests = [];
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  /** The hub's log, one line a subscribe request; a stream still open shows its 200. */
  const hubLog = () =>
    requests.map(
      ({ origin, cookie, res }) =>
        `GET from ${origin} ${cookie ? 'with' : 'without'} the cookie -> ${res.headersSent ? res.statusCode : 'no answer yet'}`,
    );

  async function openPage(page: StaticPage): Promise<Page> {
    context = await browser.newContext();
    context.setDefaultTimeout(5000);
    const tab = await context.newPage();
    await tab.goto(`${page.url}/`);
    return tab;
  }

  const connect = (page: Page, withCredentials: boolean) =>
    fromPage(
      page.evaluate(
        ([url, credentials]) =>
          (window as unknown as { page: PageApi }).page.connect(url as string, credentials as boolean),
        [hub.subscribeUrl([SELECTOR]), withCredentials] as const,
      ),
    );
  const seen = (page: Page) =>
    fromPage(page.evaluate(() => (window as unknown as { page: PageApi }).page.seen));

  /** Waits until the EventSource failed for good, then returns what the page saw. */
  async function refused(page: Page, name: string): Promise<Seen> {
    await fromPage(
      page.waitForFunction(() => {
        const { seen } = (window as unknown as { page: PageApi }).page;
        return seen.errors > 0 && seen.readyState === 2;
      }),
    );
    await page.screenshot({ path: screenshotPath(name) });
    return seen(page);
  }

  it('with credentials: the cookie authorizes the private update its claim names, and public ones', async () => {
    const page = await openPage(app);
    // HttpOnly: the cookie is the browser's; the page's script cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await connect(page, true);
    await fromPage(
      page.waitForFunction(() => (window as unknown as { page: PageApi }).page.seen.opened === 1),
    );

    // All three match the page's selector; the token's mercure.subscribe claim names only books/1.
    // The public one goes last: once it is in, the refused one would have been too.
    const published: Array<Record<string, string>> = [
      {
        topic: 'https://example.com/books/2',
        id: 'private-not-allowed',
        data: 'not for this cookie',
        private: 'on',
      },
      { topic: ALLOWED, id: 'private-allowed', data: 'for this cookie\n\nonly', private: 'on' },
      { topic: 'https://example.com/books/3', id: 'public', data: 'for everyone' },
    ];
    for (const fields of published) {
      const response = await hub.publish(fields);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(fields.id);
    }
    await fromPage(
      page.waitForFunction(() => (window as unknown as { page: PageApi }).page.seen.events.length >= 2),
    );
    await page.screenshot({ path: screenshotPath('hub-cookie-with-credentials') });
    const result = await seen(page);
    expect(result.events).toEqual([
      { type: 'message', id: 'private-allowed', data: 'for this cookie\n\nonly' },
      { type: 'message', id: 'public', data: 'for everyone' },
    ]);
    expect(result).toMatchObject({ opened: 1, errors: 0, readyState: OPEN });
    expect(await page.textContent('#events')).toContain('private-allowed: for this cookie');
    expect(hubLog()).toEqual([`GET from ${app.url} with the cookie -> 200`]);
  });

  it('after a dropped connection the browser comes back with the cookie and Last-Event-ID, and gets what it missed', async () => {
    const page = await openPage(app);
    await connect(page, true);
    await fromPage(
      page.waitForFunction(() => (window as unknown as { page: PageApi }).page.seen.opened === 1),
    );
    // Its retry field tells the browser to come back 100 ms after a drop.
    await hub.publish({
      topic: 'https://example.com/books/3',
      id: 'before-drop',
      data: 'before',
      retry: '100',
    });
    await fromPage(
      page.waitForFunction(() => (window as unknown as { page: PageApi }).page.seen.events.length === 1),
    );
    for (const { req } of requests) req.socket.destroy();
    // Published while the page is away: private, for the cookie's claim.
    await hub.publish({ topic: ALLOWED, id: 'while-away', data: 'missed', private: 'on' });
    await fromPage(
      page.waitForFunction(() => (window as unknown as { page: PageApi }).page.seen.events.length === 2),
    );
    await page.screenshot({ path: screenshotPath('hub-cookie-reconnect') });
    const result = await seen(page);
    expect(result.events.map(({ id, data }) => `${id}: ${data}`)).toEqual([
      'before-drop: before',
      'while-away: missed',
    ]);
    expect(result).toMatchObject({ opened: 2, errors: 1, readyState: OPEN });
    expect(hubLog()).toEqual([
      `GET from ${app.url} with the cookie -> 200`,
      `GET from ${app.url} with the cookie -> 200`,
    ]);
    expect(requests.map(({ lastEventId }) => lastEventId)).toEqual([undefined, 'before-drop']);
  });

  it('without withCredentials: the browser keeps the cookie to itself, the hub answers 401', async () => {
    const page = await openPage(app);
    await connect(page, false);
    const result = await refused(page, 'hub-cookie-without-credentials');
    expect(result).toEqual({ events: [], opened: 0, errors: 1, readyState: CLOSED });
    expect(hubLog()).toEqual([`GET from ${app.url} without the cookie -> 401`]);
    // The same page with credentials: the cookie was there all along.
    await connect(page, true);
    await fromPage(
      page.waitForFunction(() => (window as unknown as { page: PageApi }).page.seen.opened === 1),
    );
    expect(hubLog()[1]).toBe(`GET from ${app.url} with the cookie -> 200`);
  });

  it('an origin not in corsOrigins: refused even with the cookie, nothing received', async () => {
    const page = await openPage(other);
    await connect(page, true);
    const result = await refused(page, 'hub-cookie-other-origin');
    expect(result).toEqual({ events: [], opened: 0, errors: 1, readyState: CLOSED });
    // The browser sent the cookie (same host), and the hub refused the origin before looking at it.
    expect(hubLog()).toEqual([`GET from ${other.url} with the cookie -> 403`]);
    expect(await page.textContent('#state')).toBe('closed, 0 open(s), 1 error(s)');
  });
});
