// The demo page at `/`, in Chromium, against a hub set up as `siar serve --demo` sets it up in
// development (no key given): subscribers need a token, and the page is handed a publisher token
// and a subscriber token (`mercure.subscribe: ["*"]`) to fill in.
import type { Socket } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HUB_PATH } from '../../src/hub/index.js';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { startHub, type TestHub, token } from './hub-helpers.js';

describe.skipIf(skipBrowserTests())('hub demo page, in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext | undefined;
  let hub: TestHub;
  let publisherToken: string;
  let subscriberToken: string;
  const sockets = new Set<Socket>();
  /** The Last-Event-ID of each subscribe request the hub got ('' for none). */
  const resumedFrom: string[] = [];

  beforeAll(async () => {
    publisherToken = await token({ publish: ['*'], subscribe: ['*'] });
    subscriberToken = await token({ subscribe: ['*'] });
    hub = await startHub({ demo: { publisherToken, subscriberToken }, heartbeatMs: 0 });
    hub.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    hub.server.on('request', (req) => {
      if (req.method === 'GET' && req.url?.startsWith(`${HUB_PATH}?`)) {
        resumedFrom.push(String(req.headers['last-event-id'] ?? ''));
      }
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  async function openDemo(): Promise<Page> {
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    context.setDefaultTimeout(5000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${hub.url}/`);
    await page.waitForSelector('body[data-ready]');
    expect(errors).toEqual([]);
    return page;
  }

  /** Subscribes with the form: draft-07 topics unless another selector type is picked. */
  async function subscribe(
    page: Page,
    topics: string,
    subscriber = subscriberToken,
    type = 'topic',
  ): Promise<void> {
    await page.selectOption('#selector-type', type);
    await page.fill('#subscribe-form [name=topics]', topics);
    await page.fill('#subscriber-token', subscriber);
    await page.click('#subscribe-button');
    await page.waitForSelector('#status.open');
  }

  /** Fills the publish form (fields not given are emptied), publishes, and returns what the page says. */
  async function publish(
    page: Page,
    fields: { topics: string; data: string; id?: string; type?: string; retry?: string; private?: boolean },
  ): Promise<string> {
    await page.fill('#publish-form [name=topics]', fields.topics);
    await page.fill('#publish-form [name=data]', fields.data);
    await page.fill('#publish-form [name=id]', fields.id ?? '');
    await page.fill('#publish-form [name=type]', fields.type ?? '');
    await page.fill('#publish-form [name=retry]', fields.retry ?? '');
    await page.setChecked('#private', fields.private ?? false);
    // The button is disabled from the click until the page has shown the hub's answer.
    await page.click('#publish-button');
    await page.waitForSelector('#publish-button:not([disabled])');
    return (await page.textContent('#publish-result')) ?? '';
  }

  /** The events the panel shows, oldest first. */
  async function shown(page: Page): Promise<Array<{ type: string; id: string; data: string }>> {
    const items = await page.$$eval('#events li.event', (list) =>
      list.map((item) => ({
        type: (item as HTMLElement).dataset.type ?? '',
        id: (item as HTMLElement).dataset.id ?? '',
        data: item.querySelector('pre')?.textContent ?? '',
      })),
    );
    return items.reverse();
  }

  const waitForEvent = (page: Page, id: string) => page.waitForSelector(`#events li.event[data-id="${id}"]`);

  it('subscribes to a template, publishes with the form, and shows the events live', async () => {
    const page = await openDemo();
    // The development tokens are filled in.
    expect(await page.inputValue('#publisher-token')).toBe(publisherToken);
    expect(await page.inputValue('#subscriber-token')).toBe(subscriberToken);
    expect(await page.textContent('#fact-anonymous')).toBe('Subscribers need a token');
    expect(await page.textContent('#hub-url')).toBe(hub.hubUrl);

    await subscribe(page, 'https://example.com/books/{id}');
    expect(await page.textContent('#events li.note.ok')).toContain(
      'subscribed to https://example.com/books/{id}',
    );

    // The curl command follows the form as it is typed.
    await page.fill('#publish-form [name=topics]', 'https://example.com/books/42');
    await page.fill('#publish-form [name=id]', "book-42's");
    await page.setChecked('#private', true);
    const curl = (await page.textContent('#curl')) ?? '';
    expect(curl).toContain(`curl -X POST '${hub.hubUrl}'`);
    expect(curl).toContain(`-H 'Authorization: Bearer ${publisherToken}'`);
    expect(curl).toContain("--data-urlencode 'topic=https://example.com/books/42'");
    expect(curl).toContain("--data-urlencode 'id=book-42'\\''s'");
    expect(curl).toContain("--data-urlencode 'private=on'");
    expect(await page.textContent('#subscribe-curl')).toContain(
      "--data-urlencode 'topic=https://example.com/books/{id}'",
    );

    const data = '{"title": "Dune"}\n\n  second paragraph';
    expect(await publish(page, { topics: 'https://example.com/books/42', data, id: 'book-42' })).toBe(
      'published book-42',
    );
    await waitForEvent(page, 'book-42');
    // A named event type: the page listens to the types it publishes.
    await publish(page, {
      topics: 'https://example.com/books/42',
      data: 'sold out',
      id: 'sold-42',
      type: 'sold',
    });
    await waitForEvent(page, 'sold-42');
    // A topic the template does not match: published, not shown (the next one proves it would be by now).
    await publish(page, { topics: 'https://example.com/authors/1', data: 'not a book', id: 'author-1' });
    await publish(page, { topics: 'https://example.com/books/43', data: 'last', id: 'book-43' });
    await waitForEvent(page, 'book-43');
    await page.screenshot({ path: screenshotPath('hub-demo-page-publish'), fullPage: true });

    expect(await shown(page)).toEqual([
      { type: 'message', id: 'book-42', data },
      { type: 'sold', id: 'sold-42', data: 'sold out' },
      { type: 'message', id: 'book-43', data: 'last' },
    ]);
    expect(await page.textContent('#event-count')).toBe('3 events');
    expect(await page.inputValue('#event-types')).toBe('sold');
  });

  it("shows a private update only when the subscriber token's claim allows it", async () => {
    const page = await openDemo();
    // The development subscriber token (mercure.subscribe ["*"]) gets every private update.
    await subscribe(page, 'https://example.com/books/{id}');
    await publish(page, {
      topics: 'https://example.com/books/2',
      data: 'private 2',
      id: 'p2-all',
      private: true,
    });
    await waitForEvent(page, 'p2-all');

    // A token allowed books/1 only: the private update of books/2 does not reach it.
    await page.click('#clear-button');
    await subscribe(
      page,
      'https://example.com/books/{id}',
      await token({ subscribe: ['https://example.com/books/1'] }),
    );
    expect(
      await publish(page, {
        topics: 'https://example.com/books/2',
        data: 'private 2',
        id: 'p2',
        private: true,
      }),
    ).toBe('published p2');
    await publish(page, {
      topics: 'https://example.com/books/1',
      data: 'private 1',
      id: 'p1',
      private: true,
    });
    await publish(page, { topics: 'https://example.com/books/2', data: 'public 2', id: 'public-2' });
    await waitForEvent(page, 'public-2');
    await page.screenshot({ path: screenshotPath('hub-demo-page-private'), fullPage: true });
    expect(await shown(page)).toEqual([
      { type: 'message', id: 'p1', data: 'private 1' },
      { type: 'message', id: 'public-2', data: 'public 2' },
    ]);
  });

  it('lets the visitor pick the selector type: a URL Pattern, an exact topic, or a draft-07 topic', async () => {
    const page = await openDemo();
    // Mercure 1.0's URL Pattern is the default; each type shows its own example.
    expect(await page.inputValue('#selector-type')).toBe('match_urlpattern');
    expect(await page.inputValue('#subscribe-form [name=topics]')).toBe('https://example.com/books/:id');
    await page.selectOption('#selector-type', 'match');
    expect(await page.inputValue('#subscribe-form [name=topics]')).toBe('https://example.com/books/1');
    expect(await page.textContent('#subscribe-siar')).toContain("--match 'https://example.com/books/1'");
    await page.selectOption('#selector-type', 'match_urlpattern');
    expect(await page.textContent('#subscribe-curl')).toContain(
      "--data-urlencode 'match_urlpattern=https://example.com/books/:id'",
    );
    await subscribe(page, 'https://example.com/books/:id', subscriberToken, 'match_urlpattern');
    await publish(page, {
      topics: 'https://example.com/authors/1',
      data: 'not a book',
      id: 'pattern-author',
    });
    await publish(page, { topics: 'https://example.com/books/9', data: 'a book', id: 'pattern-book' });
    await waitForEvent(page, 'pattern-book');
    expect((await shown(page)).map((event) => event.id)).toEqual(['pattern-book']);
    // An exact match: {id} is text, not a template.
    await page.click('#clear-button');
    await subscribe(page, 'https://example.com/books/{id}', subscriberToken, 'match');
    await publish(page, { topics: 'https://example.com/books/9', data: 'expanded', id: 'exact-9' });
    await publish(page, { topics: 'https://example.com/books/{id}', data: 'literal', id: 'exact-literal' });
    await waitForEvent(page, 'exact-literal');
    expect((await shown(page)).map((event) => event.id)).toEqual(['exact-literal']);
    await page.screenshot({ path: screenshotPath('hub-demo-page-selector-types'), fullPage: true });
  });

  it('explains, rather than send it in the URL, that an access token cannot subscribe through an EventSource', async () => {
    const page = await openDemo();
    const access = await hub.accessToken({ subscribe: ['*'] });
    await page.fill('#subscriber-token', access);
    await page.click('#subscribe-button');
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#events li.note.error')).toContain('never goes in a URL');
  });

  it('without a token the hub refuses the subscription, and the page says why', async () => {
    const page = await openDemo();
    await page.fill('#subscriber-token', '');
    await page.click('#subscribe-button');
    await page.waitForSelector('#status.error');
    const refusal = await page.waitForSelector('#events li.note.error');
    expect(await refusal.textContent()).toContain('refused: 401 Subscribing to this hub needs a JWT');
    expect(await page.textContent('#status')).toBe('refused');
    await page.screenshot({ path: screenshotPath('hub-demo-page-refused'), fullPage: true });
  });

  it('says when the connection drops and when the browser has reconnected, with the last event ID', async () => {
    const page = await openDemo();
    await subscribe(page, 'https://example.com/books/{id}');
    // The update's retry field sets how soon the browser reconnects.
    await publish(page, {
      topics: 'https://example.com/books/7',
      data: 'before',
      id: 'before-drop',
      retry: '100',
    });
    await waitForEvent(page, 'before-drop');
    resumedFrom.length = 0;
    for (const socket of sockets) socket.destroy();
    await page.waitForSelector('#events li.note.warn');
    await page.waitForSelector('#status.open');
    await publish(page, { topics: 'https://example.com/books/7', data: 'after', id: 'after-drop' });
    await waitForEvent(page, 'after-drop');
    await page.screenshot({ path: screenshotPath('hub-demo-page-reconnect'), fullPage: true });

    const notes = await page.$$eval('#events li.note span', (list) =>
      list.map((item) => item.textContent).reverse(),
    );
    expect(notes).toEqual([
      'subscribed to https://example.com/books/{id}',
      'connection lost: the browser reconnects by itself, sending Last-Event-ID: before-drop',
      'reconnected',
    ]);
    expect(resumedFrom).toEqual(['before-drop']);
    expect((await shown(page)).map((event) => event.id)).toEqual(['before-drop', 'after-drop']);
  });
});
