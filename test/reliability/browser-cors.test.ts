// The hub's CORS policy and its CSRF rule for cookie publishes, in Chromium, from real pages on
// other origins (test/hub/cors.test.ts checks the headers over plain HTTP; test/hub/browser-cookie
// .test.ts subscribes with the cookie). The hub is the standalone server (createHubServer).
//
// Every page is served from 127.0.0.1 on a port of its own: another origin than the hub's, but the
// same host, hence the same site, so the browser sends the hub's SameSite=Strict cookie from all of
// them — the worst case, where only the hub's rules stand between a page and the cookie's rights.
//   app      in corsOrigins and in publishOrigins
//   partner  in corsOrigins only: may subscribe with the cookie, may not publish with it
//   evil     in neither
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authorizationCookie, createToken, HUB_PATH, type HubOptions } from '../../src/hub/index.js';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { H2_TEST_KEY, type ServedHub, serveHub } from '../helpers/http2.js';
import { sleep, waitFor } from '../helpers/net.js';
import { fromPage } from '../helpers/page-errors.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';
import { type StaticPage, serveStaticPage } from '../helpers/static-page.js';

const TOPIC = 'https://example.com/cors/1';

/** What a page can do to the hub; each returns what the page could see of the answer. */
interface PageApi {
  /** fetch(): `credentials` 'include' (the cookie) or 'omit'; `bearer` adds an Authorization header (a preflight). */
  publish(
    hubUrl: string,
    fields: Record<string, string>,
    options: {
      credentials: 'include' | 'omit';
      bearer?: string;
      mode?: 'cors' | 'no-cors';
    },
  ): Promise<{ status?: number; body?: string; type?: string; error?: string }>;
  /** A classic CSRF: a form posted into a hidden iframe. Resolves when the iframe has loaded. */
  postForm(hubUrl: string, fields: Record<string, string>): Promise<void>;
  /** The same form, posted from a sandboxed iframe: an opaque origin, so "Origin: null". */
  postSandboxedForm(hubUrl: string, fields: Record<string, string>): void;
  /** new EventSource(url, { withCredentials }); resolves once it opened or failed for good. */
  subscribe(url: string, withCredentials: boolean): Promise<{ opened: boolean; readyState: number }>;
  /** The events the last EventSource received. */
  events(): string[];
}

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A page on another origin</title></head>
<body>
  <h1>A page on <span id="origin"></span></h1>
  <ol id="log"></ol>
  <script type="module">
    document.getElementById('origin').textContent = location.origin;
    const log = (text) => {
      const item = document.createElement('li');
      item.textContent = text;
      document.getElementById('log').append(item);
    };
    let source;
    const received = [];
    window.page = {
      async publish(hubUrl, fields, { credentials, bearer, mode = 'cors' }) {
        const headers = bearer ? { Authorization: 'Bearer ' + bearer } : {};
        try {
          const response = await fetch(hubUrl, {
            method: 'POST', mode, credentials, headers, body: new URLSearchParams(fields),
          });
          const body = response.type === 'opaque' ? '' : await response.text();
          log('publish ' + fields.id + ': ' + response.type + ' ' + response.status + ' ' + body);
          return { status: response.status, body, type: response.type };
        } catch (error) {
          log('publish ' + fields.id + ': ' + error);
          return { error: String(error) };
        }
      },
      postForm(hubUrl, fields) {
        return new Promise((resolve) => {
          const frame = document.createElement('iframe');
          frame.name = 'target-' + Math.random().toString(36).slice(2);
          frame.hidden = true;
          document.body.append(frame);
          const form = document.createElement('form');
          form.method = 'POST';
          form.action = hubUrl;
          form.target = frame.name;
          for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement('input');
            input.name = name;
            input.value = value;
            form.append(input);
          }
          document.body.append(form);
          frame.addEventListener('load', () => { log('form ' + fields.id + ' posted'); resolve(); }, { once: true });
          form.submit();
        });
      },
      postSandboxedForm(hubUrl, fields) {
        const frame = document.createElement('iframe');
        frame.hidden = true;
        frame.sandbox = 'allow-scripts allow-forms';
        const inputs = Object.entries(fields)
          .map(([name, value]) => '<input name="' + name + '" value="' + value + '">')
          .join('');
        frame.srcdoc = '<form method="POST" action="' + hubUrl + '">' + inputs + '</form>' +
          '<script>document.forms[0].submit()<' + '/script>';
        document.body.append(frame);
      },
      subscribe(url, withCredentials) {
        source?.close();
        received.length = 0;
        source = new EventSource(url, { withCredentials });
        source.onmessage = (event) => { received.push(event.lastEventId); log('event ' + event.lastEventId); };
        return new Promise((resolve) => {
          source.onopen = () => { log('open'); resolve({ opened: true, readyState: source.readyState }); };
          source.onerror = () => {
            if (source.readyState === 2) { log('closed'); resolve({ opened: false, readyState: 2 }); }
          };
        });
      },
      events: () => [...received],
    };
  </script>
</body>
</html>`;

describe.skipIf(skipBrowserTests())(
  'hub in Chromium: CORS and the cookie-publish CSRF rule, from real pages',
  () => {
    let browser: Browser;
    let context: BrowserContext | undefined;
    let app: StaticPage;
    let partner: StaticPage;
    let evil: StaticPage;
    let cookieToken: string;
    /** The requests node:http served on the hub (the fast path takes subscriptions before it). */
    let requests: Array<{ method: string; origin: string | undefined; cookie: boolean; res: ServerResponse }>;
    const served: ServedHub[] = [];

    beforeAll(async () => {
      cookieToken = await createToken({ publish: ['*'], subscribe: ['*'] }, H2_TEST_KEY);
      // The app's server hands out the hub's cookie (HttpOnly, SameSite=Strict; not Secure: plain http).
      app = await serveStaticPage(PAGE, {
        'set-cookie': authorizationCookie(cookieToken, { secure: false }),
      });
      partner = await serveStaticPage(PAGE);
      evil = await serveStaticPage(PAGE);
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await Promise.all([app?.close(), partner?.close(), evil?.close()]);
    });
    beforeEach(() => {
      requests = [];
    });
    afterEach(async () => {
      await context?.close();
      context = undefined;
      while (served.length > 0) await served.pop()?.close();
    });

    async function hub(options: HubOptions): Promise<{ hub: ServedHub; watcher: SseConnection }> {
      const started = await serveHub({ anonymous: false, ...options }, { plain: true });
      served.push(started);
      started.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        if (!req.url?.startsWith(HUB_PATH)) return;
        const cookie = /(?:^|;\s*)mercureAuthorization=/.test(req.headers.cookie ?? '');
        requests.push({ method: req.method ?? '', origin: req.headers.origin, cookie, res });
      });
      const watcher = await openSse(started.subscribeUrl(['*']), {
        headers: { authorization: `Bearer ${started.publisherToken}` },
      });
      expect(watcher.status).toBe(200);
      return { hub: started, watcher };
    }

    /** The hub's log of what node:http served: method, origin, cookie, status. */
    const hubLog = () =>
      requests.map(
        ({ method, origin, cookie, res }) =>
          `${method} from ${origin ?? 'no origin'}${cookie ? ' with the cookie' : ''} -> ${res.headersSent ? res.statusCode : 'no answer'}`,
      );

    /** A tab that has been to the app first (so the browser holds the hub's cookie), then opens `page`. */
    async function tab(page: StaticPage): Promise<Page> {
      context = await browser.newContext();
      context.setDefaultTimeout(5000);
      const opened = await context.newPage();
      await opened.goto(`${app.url}/`);
      if (page !== app) await opened.goto(`${page.url}/`);
      return opened;
    }

    /** The page's functions, called from the test. */
    const inPage = (page: Page) => {
      type PublishOptions = Parameters<PageApi['publish']>[2];
      return {
        publish: (hubUrl: string, fields: Record<string, string>, options: PublishOptions) =>
          fromPage(
            page.evaluate(([u, f, o]) => (window as unknown as { page: PageApi }).page.publish(u, f, o), [
              hubUrl,
              fields,
              options,
            ] as const),
          ),
        postSandboxedForm: (hubUrl: string, fields: Record<string, string>) =>
          fromPage(
            page.evaluate(([u, f]) => (window as unknown as { page: PageApi }).page.postSandboxedForm(u, f), [
              hubUrl,
              fields,
            ] as const),
          ),
        postForm: (hubUrl: string, fields: Record<string, string>) =>
          fromPage(
            page.evaluate(([u, f]) => (window as unknown as { page: PageApi }).page.postForm(u, f), [
              hubUrl,
              fields,
            ] as const),
          ),
        subscribe: (url: string, withCredentials: boolean) =>
          fromPage(
            page.evaluate(([u, w]) => (window as unknown as { page: PageApi }).page.subscribe(u, w), [
              url,
              withCredentials,
            ] as const),
          ),
        waitForEvents: (count: number) =>
          fromPage(
            page.waitForFunction(
              (n) => (window as unknown as { page: PageApi }).page.events().length >= n,
              count,
            ),
          ),
      };
    };

    const ids = (watcher: SseConnection) => watcher.events.map((event) => event.lastEventId);

    it('a page whose origin is in publishOrigins publishes with the cookie alone, and reads the answer', async () => {
      const { hub: h, watcher } = await hub({
        corsOrigins: [app.url, partner.url],
        publishOrigins: [app.url],
      });
      const page = await tab(app);
      const answer = await inPage(page).publish(
        h.hubUrl,
        { topic: TOPIC, id: 'from-app' },
        { credentials: 'include' },
      );
      expect(answer).toEqual({ status: 200, body: 'from-app', type: 'cors' });
      await watcher.waitForEvents(1);
      expect(ids(watcher)).toEqual(['from-app']);
      expect(hubLog()).toEqual([`POST from ${app.url} with the cookie -> 200`]);
      await page.screenshot({ path: screenshotPath('reliability-cors-app-publishes') });
    });

    it('a page allowed by CORS but not in publishOrigins is refused 403 with the cookie, and can read why', async () => {
      const { hub: h, watcher } = await hub({
        corsOrigins: [app.url, partner.url],
        publishOrigins: [app.url],
      });
      const page = await tab(partner);
      const answer = await inPage(page).publish(
        h.hubUrl,
        { topic: TOPIC, id: 'from-partner' },
        { credentials: 'include' },
      );
      expect(answer.status).toBe(403);
      expect(answer.body).toContain(`Publishing with a cookie is not allowed from origin ${partner.url}`);
      // With a token of its own in the Authorization header, the same page may publish: no CSRF there.
      const bearer = await inPage(page).publish(
        h.hubUrl,
        { topic: TOPIC, id: 'partner-bearer' },
        { credentials: 'omit', bearer: h.publisherToken },
      );
      expect(bearer).toEqual({ status: 200, body: 'partner-bearer', type: 'cors' });
      await watcher.waitForEvents(1);
      await sleep(50);
      expect(ids(watcher)).toEqual(['partner-bearer']);
      expect(hubLog()).toEqual([
        `POST from ${partner.url} with the cookie -> 403`,
        `OPTIONS from ${partner.url} -> 204`,
        `POST from ${partner.url} -> 200`,
      ]);
    });

    it('a page on another origin cannot publish with the cookie: fetch, no-cors fetch, a sandboxed form, a form — all 403, nothing published', async () => {
      const { hub: h, watcher } = await hub({
        corsOrigins: [app.url, partner.url],
        publishOrigins: [app.url],
      });
      const page = await tab(evil);
      // A CORS fetch with credentials: a "simple" request, so no preflight; the browser hides the answer.
      const cors = await inPage(page).publish(
        h.hubUrl,
        { topic: TOPIC, id: 'evil-cors' },
        { credentials: 'include' },
      );
      expect(cors.error).toMatch(/TypeError/);
      // no-cors: the page gets an opaque answer and cannot tell; the hub refused all the same.
      const opaque = await inPage(page).publish(
        h.hubUrl,
        { topic: TOPIC, id: 'evil-no-cors' },
        { credentials: 'include', mode: 'no-cors' },
      );
      expect(opaque).toMatchObject({ type: 'opaque', status: 0 });
      // From a sandboxed frame the browser sends "Origin: null", which no list holds.
      await inPage(page).postSandboxedForm(h.hubUrl, { topic: TOPIC, id: 'evil-null' });
      await waitFor(() => requests.length === 3 && requests[2]?.res.headersSent, 5000, 'the sandboxed form');
      // The classic CSRF: a form posted to the hub.
      await inPage(page).postForm(h.hubUrl, { topic: TOPIC, id: 'evil-form', data: 'forged' });
      await page.screenshot({ path: screenshotPath('reliability-cors-evil-refused') });
      await waitFor(
        () => requests.length === 4 && requests.every(({ res }) => res.headersSent),
        5000,
        'four answers',
      );
      expect(hubLog()).toEqual([
        `POST from ${evil.url} with the cookie -> 403`,
        `POST from ${evil.url} with the cookie -> 403`,
        // An opaque origin is another site: the SameSite=Strict cookie stays home.
        'POST from null -> 403',
        `POST from ${evil.url} with the cookie -> 403`,
      ]);
      // Proof that nothing got through: the next update is the first the watcher sees.
      expect(await h.publish({ topic: TOPIC, id: 'after' })).toBe(200);
      await watcher.waitForEvents(1);
      expect(ids(watcher)).toEqual(['after']);
    });

    it('preflights: the browser asks first for a header it may not send freely; another origin never gets to POST', async () => {
      const { hub: h, watcher } = await hub({
        corsOrigins: [app.url, partner.url],
        publishOrigins: [app.url],
      });
      const page = await tab(evil);
      const answer = await inPage(page).publish(
        h.hubUrl,
        { topic: TOPIC, id: 'evil-bearer' },
        { credentials: 'omit', bearer: h.publisherToken },
      );
      expect(answer.error).toMatch(/TypeError/);
      // The preflight was refused, so the POST itself was never sent, token and all.
      expect(hubLog()).toEqual([`OPTIONS from ${evil.url} -> 403`]);
      await sleep(50);
      expect(ids(watcher)).toEqual([]);
    });

    it('subscriptions: the cookie works from corsOrigins, not from another origin', async () => {
      const { hub: h } = await hub({ corsOrigins: [app.url, partner.url], publishOrigins: [app.url] });
      const url = h.subscribeUrl([TOPIC]);
      const page = await tab(partner);
      expect(await inPage(page).subscribe(url, true)).toEqual({ opened: true, readyState: 1 });
      // A private update: only the cookie's claim lets the page have it.
      expect(await h.publish({ topic: TOPIC, id: 'private-1', private: 'on' })).toBe(200);
      await inPage(page).waitForEvents(1);
      const evilPage = await context?.newPage();
      if (evilPage === undefined) throw new Error('no context');
      await evilPage.goto(`${evil.url}/`);
      expect(await inPage(evilPage).subscribe(url, true)).toEqual({ opened: false, readyState: 2 });
      expect(await inPage(evilPage).subscribe(url, false)).toEqual({ opened: false, readyState: 2 });
      await evilPage.screenshot({ path: screenshotPath('reliability-cors-evil-subscribe') });
    });

    it('with corsOrigins "*", any page may subscribe and publish with a token, never with credentials', async () => {
      const { hub: h, watcher } = await hub({ corsOrigins: '*', anonymous: true });
      const page = await tab(evil);
      const url = h.subscribeUrl([TOPIC]);
      // "*" and credentials exclude each other: the browser refuses the answer, whatever its status.
      expect(await inPage(page).subscribe(url, true)).toEqual({ opened: false, readyState: 2 });
      const withCookie = await inPage(page).publish(
        h.hubUrl,
        { topic: TOPIC, id: 'star-cookie' },
        { credentials: 'include' },
      );
      expect(withCookie.error).toMatch(/TypeError/);
      // What the hub answers such a request, read outside the browser: "*", never with credentials.
      const direct = await openSse(url, { headers: { origin: evil.url } });
      direct.close();
      expect(direct.headers['access-control-allow-origin']).toBe('*');
      expect(direct.headers['access-control-allow-credentials']).toBeUndefined();
      // Without credentials it all works, from any origin.
      expect(await inPage(page).subscribe(url, false)).toEqual({ opened: true, readyState: 1 });
      const withToken = await inPage(page).publish(
        h.hubUrl,
        { topic: TOPIC, id: 'star-token' },
        { credentials: 'omit', bearer: h.publisherToken },
      );
      expect(withToken).toEqual({ status: 200, body: 'star-token', type: 'cors' });
      await inPage(page).waitForEvents(1);
      await watcher.waitForEvents(1);
      await sleep(50);
      expect(ids(watcher)).toEqual(['star-token']);
      // The cookie publish reached the hub (a simple request needs no preflight) and was refused there.
      expect(hubLog()).toEqual([
        `POST from ${evil.url} with the cookie -> 403`,
        `OPTIONS from ${evil.url} -> 204`,
        `POST from ${evil.url} -> 200`,
      ]);
    });
  },
);
