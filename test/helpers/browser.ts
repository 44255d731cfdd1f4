import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type LaunchOptions } from 'playwright-core';

/** Debian's Chromium: the only browser these tests use (never a downloaded one). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Why browser tests cannot run here, or undefined when they can. In CI (`CI=true`) a missing
 * Chromium is a failure, not a reason to skip: call {@link requireChromium} there.
 */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  return `Chromium not found at ${CHROMIUM_PATH} (install Debian's "chromium" package)`;
}

/** True when the suite should skip its browser tests; prints why. Never true in CI. */
export function skipBrowserTests(): boolean {
  const missing = chromiumMissing();
  if (missing === undefined) return false;
  if (process.env.CI === 'true') return false; // launching will fail loudly, as it must in CI
  console.warn(`Skipping browser tests: ${missing}.`);
  return true;
}

/** Launches headless Debian Chromium with the flags this machine needs. */
export function launchChromium(extraArgs: string[] = [], options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...FLAGS, ...extraArgs],
    ...options,
  });
}

/** Where a test saves its screenshots (not committed). */
export function screenshotPath(name: string): string {
  const dir = join(process.cwd(), 'test-output', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
}
