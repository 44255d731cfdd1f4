/**
 * The browser tests drive Debian's Chromium (never a downloaded browser). Before `npm test`, this
 * makes sure it is there: it installs Debian's `chromium` where it can (root, with apt), and
 * otherwise stops with one line saying what to install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian puts Chromium; `CHROMIUM_PATH` points the tests elsewhere (test/helpers/browser.ts reads it too). */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Bounds on apt: the package lists, then Chromium and what it needs (about 100 MB). */
const APT_UPDATE_TIMEOUT_MS = 5 * 60_000;
const APT_INSTALL_TIMEOUT_MS = 15 * 60_000;

export interface ChromiumFacts {
  /** The executable the tests will launch. */
  path: string;
  exists: boolean;
  /** Running as root, so apt-get may install packages. */
  root: boolean;
  /** apt-get is on this machine (Debian, Ubuntu). */
  apt: boolean;
}

export type ChromiumPlan = { action: 'ready' } | { action: 'install' } | { action: 'stop'; message: string };

/** What to do about Chromium, from what is true of this machine. */
export function planChromium(facts: ChromiumFacts): ChromiumPlan {
  if (facts.exists) return { action: 'ready' };
  if (facts.path !== DEBIAN_CHROMIUM) {
    return {
      action: 'stop',
      message: `No Chromium at ${facts.path} (CHROMIUM_PATH): point it at a Chromium, or unset it to use Debian's ${DEBIAN_CHROMIUM}.`,
    };
  }
  if (facts.root && facts.apt) return { action: 'install' };
  return {
    action: 'stop',
    message: `The browser tests need Debian's Chromium at ${DEBIAN_CHROMIUM}: install it with \`sudo apt-get install chromium\` (or set CHROMIUM_PATH to a Chromium).`,
  };
}

function hasApt(): boolean {
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Makes sure Chromium is there; returns the line to stop with when it cannot be. */
export function ensureChromium(path = process.env.CHROMIUM_PATH ?? DEBIAN_CHROMIUM): string | undefined {
  const plan = planChromium({
    path,
    exists: existsSync(path),
    root: process.getuid?.() === 0,
    apt: !existsSync(path) && hasApt(),
  });
  if (plan.action === 'ready') return undefined;
  if (plan.action === 'stop') return plan.message;
  console.error(`Installing Debian's chromium for the browser tests (apt-get)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: APT_UPDATE_TIMEOUT_MS });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
      timeout: APT_INSTALL_TIMEOUT_MS,
    });
  } catch (error) {
    return `Installing Debian's chromium failed (${(error as Error).message.split('\n')[0]}): install it with \`apt-get install chromium\`.`;
  }
  return existsSync(path) ? undefined : `apt-get installed chromium, but ${path} is not there.`;
}
