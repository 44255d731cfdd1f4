// The code the demo page offers to copy, run as it is: the `siar` commands in a shell (with `siar` on the
// PATH, running the sources), the browser code in Chromium. Each must do what the forms did.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath, skipBrowserTests } from '../helpers/browser.js';
import { startHub, type TestHub, token } from '../hub/hub-helpers.js';

const run = promisify(execFile);
const DATA = 'it\'s "two"\nlines';

describe.skipIf(skipBrowserTests())('the code the demo page shows', () => {
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let bin: string;

  beforeAll(async () => {
    const publisherToken = await token({ publish: ['*'], subscribe: ['*'] });
    const subscriberToken = await token({ subscribe: ['https://example.com/books/{id}'] });
    hub = await startHub({ demo: { publisherToken, subscriberToken }, heartbeatMs: 0 });
    bin = mkdtempSync(join(tmpdir(), 'siar-bin-'));
    writeFileSync(
      join(bin, 'siar'),
      `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(process.cwd(), 'src/cli/main.ts')}" "$@"\n`,
    );
    chmodSync(join(bin, 'siar'), 0o755);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 1200 } });
    context.setDefaultTimeout(8000);
    page = await context.newPage();
    await page.goto(`${hub.url}/`);
    await page.waitForSelector('body[data-ready]');
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    rmSync(bin, { recursive: true, force: true });
  });

  async function fillForms(id: string): Promise<void> {
    await page.selectOption('#selector-type', 'topic');
    await page.fill('#subscribe-form [name=topics]', 'https://example.com/books/{id}');
    await page.fill('#subscribe-form [name=types]', 'sold');
    await page.fill('#publish-form [name=topics]', 'https://example.com/books/7');
    await page.fill('#publish-form [name=data]', DATA);
    await page.fill('#publish-form [name=id]', id);
    await page.fill('#publish-form [name=type]', 'sold');
    await page.fill('#publish-form [name=retry]', '1500');
    await page.setChecked('#private', true);
  }

  const shown = async (id: string) => (await page.textContent(`#${id}`)) ?? '';

  it('siar subscribe and siar publish, as shown, deliver the update the forms describe', async () => {
    await fillForms('from-siar');
    const subscribeCommand = await shown('subscribe-siar');
    const publishCommand = await shown('publish-siar');
    expect(subscribeCommand).toContain("--topic 'https://example.com/books/{id}'");
    expect(publishCommand).toContain(' --private');
    expect(publishCommand).toContain("--retry '1500'");

    // The tabs show one form of the code at a time; Copy takes the one shown.
    await page.click('#publish-code .tab[data-show="publish-siar"]');
    expect(await page.isVisible('#publish-siar')).toBe(true);
    expect(await page.isVisible('#curl')).toBe(false);
    await page.click('#subscribe-code summary');
    await page.click('#subscribe-code .tab[data-show="subscribe-siar"]');
    await page.screenshot({ path: screenshotPath('demo-page-siar-code'), fullPage: true });

    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };
    const subscriber = spawn('sh', ['-c', `${subscribeCommand} --count 1 --format json --timeout 15`], {
      env,
    });
    let out = '';
    subscriber.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => subscriber.once('exit', resolve));
    // Published once the subscription is in place.
    const topic = 'https://example.com/books/{id}';
    for (let i = 0; i < 200 && !hub.hub.stats().topSelectors.some((entry) => entry.selector === topic); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const published = await run('sh', ['-c', publishCommand], { env });
    expect(published.stdout).toBe('from-siar\n');
    expect(await exited).toBe(0);
    expect(JSON.parse(out)).toEqual({ type: 'sold', data: DATA, lastEventId: 'from-siar' });
  });

  it('the browser code, as shown, subscribes and publishes the same way', async () => {
    await fillForms('from-browser');
    const subscribeCode = await shown('subscribe-browser');
    const publishCode = await shown('publish-browser');
    expect(subscribeCode).toContain('source.addEventListener("sold"');
    expect(publishCode).toContain('["private", "on"]');
    const logs = await page.evaluate(
      async ({ subscribeCode, publishCode }) => {
        const logs: string[] = [];
        const console = { log: (...values: unknown[]) => logs.push(values.map(String).join(' ')) };
        const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
        await new AsyncFunction('console', subscribeCode)(console);
        // Published once the EventSource is open.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await new AsyncFunction('console', publishCode)(console);
        for (let i = 0; i < 100 && logs.length < 2; i++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        return logs;
      },
      { subscribeCode, publishCode },
    );
    expect(logs.sort()).toEqual(['200 from-browser', `sold ${DATA}`].sort());
  });
});
