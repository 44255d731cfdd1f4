import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startJson } from '../../examples/json/server.js';
import type { Running } from '../../examples/serve.js';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { fromPage } from '../helpers/page-errors.js';
import { openSse } from '../helpers/sse-client.js';

interface Message {
  message: string;
  time: number;
}

let running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.map((example) => example.close()));
  running = [];
});

async function json(): Promise<string> {
  const example = await startJson({ port: 0, host: '127.0.0.1', intervalMs: 20 });
  running.push(example);
  return example.url;
}

function expectMessages(messages: Message[], from: number, to: number): void {
  expect(messages[0]?.message).toBe('Hello from Siar!');
  for (const { message } of messages.slice(1)) expect(message).toBe('Another message from Siar!');
  for (const { time } of messages) {
    expect(Number.isInteger(time)).toBe(true);
    expect(time).toBeGreaterThanOrEqual(from);
    expect(time).toBeLessThanOrEqual(to);
  }
}

const now = () => Math.floor(Date.now() / 1000);

describe('example: json', () => {
  it('sends one JSON object {message, time} per event', async () => {
    const url = await json();
    const from = now();
    const client = await openSse(`${url}/events`);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = await client.waitForEvents(3);
    client.close();
    expect(client.text.startsWith('data: {"message":"Hello from Siar!","time":')).toBe(true);
    expectMessages(
      events.map((event) => JSON.parse(event.data) as Message),
      from,
      now(),
    );
  });
});

describe.skipIf(skipBrowserTests())('example: json, in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the page parses each message and lists it', async () => {
    const url = await json();
    const from = now();
    const context = await browser.newContext();
    context.setDefaultTimeout(5000);
    try {
      const page = await context.newPage();
      await page.goto(url);
      await fromPage(
        page.waitForFunction(() => (window as unknown as { received: Message[] }).received.length >= 3),
      );
      const received = await fromPage(
        page.evaluate(() => (window as unknown as { received: Message[] }).received),
      );
      expectMessages(received, from, now());
      const items = await page.locator('#messages li').allTextContents();
      expect(items.length).toBeGreaterThanOrEqual(3);
      expect(items[0]).toContain('Hello from Siar!');
      await page.screenshot({ path: screenshotPath('example-json') });
    } finally {
      await context.close();
    }
  });
});
