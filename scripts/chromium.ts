/**
 * The browser tests drive Debian's Chromium (never a downloaded browser). Before `npm test`, this
 * makes sure it is there: it installs Debian's `chromium` where it can (root, with apt), and
 * otherwise stops with one line saying what to install.
 */
import { existsSync } from 'node:fs';
import { aptInstall, hasApt, isRoot } from './apt.js';

/** Where Debian puts Chromium; `CHROMIUM_PATH` points the tests elsewhere (test/helpers/browser.ts reads it too). */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

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

/** Makes sure Chromium is there; returns the line to stop with when it cannot be. */
export function ensureChromium(path = process.env.CHROMIUM_PATH ?? DEBIAN_CHROMIUM): string | undefined {
  const plan = planChromium({
    path,
    exists: existsSync(path),
    root: isRoot(),
    apt: !existsSync(path) && hasApt(),
  });
  if (plan.action === 'ready') return undefined;
  if (plan.action === 'stop') return plan.message;
  const failed = aptInstall(['chromium']);
  if (failed !== undefined) return failed;
  return existsSync(path) ? undefined : `apt-get installed chromium, but ${path} is not there.`;
}
