import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCookieAuth } from '../../examples/cookie-auth/server.js';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { fromPage } from '../helpers/page-errors.js';

/** What the page records (window.example.seen). */
interface Seen {
  events: string[];
  errors: number;
  readyState: number | undefined;
}

interface PageApi {
  seen: Seen;
  login(password: string): Promise<number>;
  connect(withCredentials: boolean): void;
}

const OPEN = 1;
const CLOSED = 2;

type Example = Awaited<ReturnType<typeof startCookieAuth>> & { log: string[] };
let examples: Example[] = [];
afterEach(async () => {
  await Promise.all(examples.map((example) => example.close()));
  examples = [];
});

/** Both servers on 127.0.0.1, on two ports: two origins, one site. */
async function cookieAuth(): Promise<Example> {
  const log: string[] = [];
  const started = await startCookieAuth({
    pagePort: 0,
    apiPort: 0,
    host: '127.0.0.1',
    intervalMs: 20,
    log: (line) => log.push(line),
  });
  const example = { ...started, log };
  examples.push(example);
  return example;
}

describe('example: cookie-auth, over a socket', () => {
  it('refuses another origin with 403 and allows the page origin only, with credentials', async () => {
    const { pageUrl, apiUrl, log } = await cookieAuth();
    const other = await fetch(`${apiUrl}/events`, { headers: { origin: 'http://evil.example' } });
    expect(other.status).toBe(403);
    await other.text();
    const page = await fetch(`${apiUrl}/events`, { headers: { origin: pageUrl } });
    expect(page.status).toBe(401);
    expect(page.headers.get('access-control-allow-origin')).toBe(pageUrl);
    expect(page.headers.get('access-control-allow-credentials')).toBe('true');
    expect(await page.text()).toContain('log in first');
    expect(log).toEqual([`GET /events from ${pageUrl}: no auth cookie -> 401`]);
  });
});

describe.skipIf(skipBrowserTests())('example: cookie-auth, in Chromium', () => {
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

  async function openPage(example: Example): Promise<Page> {
    context = await browser.newContext();
    context.setDefaultTimeout(5000);
    const page = await context.newPage();
    await page.goto(example.pageUrl);
    return page;
  }

  const login = (page: Page, password: string) =>
    fromPage(page.evaluate((p) => (window as unknown as { example: PageApi }).example.login(p), password));
  const connect = (page: Page, withCredentials: boolean) =>
    fromPage(
      page.evaluate((w) => (window as unknown as { example: PageApi }).example.connect(w), withCredentials),
    );
  const seen = (page: Page) =>
    fromPage(page.evaluate(() => (window as unknown as { example: PageApi }).example.seen));

  /** Waits until the EventSource failed for good (a 401 closes it), then returns what the page saw. */
  async function refused(page: Page, name: string): Promise<Seen> {
    await fromPage(
      page.waitForFunction(() => {
        const { seen } = (window as unknown as { example: PageApi }).example;
        return seen.errors > 0 && seen.readyState === 2;
      }),
    );
    await page.screenshot({ path: screenshotPath(name) });
    return seen(page);
  }

  it('right cookie: the stream opens and the numbers arrive', async () => {
    const example = await cookieAuth();
    const page = await openPage(example);
    expect(await login(page, 'siar')).toBe(204);
    // HttpOnly: the cookie is the browser's, the page's script cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await connect(page, true);
    await fromPage(
      page.waitForFunction(() => (window as unknown as { example: PageApi }).example.seen.events.length >= 3),
    );
    await page.screenshot({ path: screenshotPath('example-cookie-auth-right-cookie') });
    const result = await seen(page);
    expect(result.events.slice(0, 3)).toEqual(['1', '2', '3']);
    expect(result.readyState).toBe(OPEN);
    expect(result.errors).toBe(0);
    expect(example.log).toEqual([`GET /events from ${example.pageUrl}: auth cookie ok -> stream`]);
  });

  it('wrong cookie: 401, the EventSource closes for good', async () => {
    const example = await cookieAuth();
    const page = await openPage(example);
    await context?.addCookies([{ name: 'auth', value: 'forged-or-expired', url: example.apiUrl }]);
    await connect(page, true);
    const result = await refused(page, 'example-cookie-auth-wrong-cookie');
    expect(result).toEqual({ events: [], errors: 1, readyState: CLOSED });
    expect(example.log).toEqual([`GET /events from ${example.pageUrl}: wrong auth cookie -> 401`]);
  });

  it('no cookie (the login failed): 401', async () => {
    const example = await cookieAuth();
    const page = await openPage(example);
    expect(await login(page, 'not the password')).toBe(401);
    await connect(page, true);
    const result = await refused(page, 'example-cookie-auth-no-cookie');
    expect(result).toEqual({ events: [], errors: 1, readyState: CLOSED });
    expect(example.log).toEqual([`GET /events from ${example.pageUrl}: no auth cookie -> 401`]);
  });

  it('logged in but EventSource without withCredentials: no cookie is sent, 401', async () => {
    const example = await cookieAuth();
    const page = await openPage(example);
    expect(await login(page, 'siar')).toBe(204);
    await connect(page, false);
    const result = await refused(page, 'example-cookie-auth-without-credentials');
    expect(result).toEqual({ events: [], errors: 1, readyState: CLOSED });
    expect(example.log).toEqual([`GET /events from ${example.pageUrl}: no auth cookie -> 401`]);
    // The same browser, with credentials this time: the cookie was there all along.
    await connect(page, true);
    await page.waitForFunction(
      () => (window as unknown as { example: PageApi }).example.seen.events.length > 0,
    );
    expect(example.log[1]).toBe(`GET /events from ${example.pageUrl}: auth cookie ok -> stream`);
  });
});
