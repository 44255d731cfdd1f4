/**
 * The command-line tools some tests run besides Chromium: Debian's nginx (the production guide's proxy,
 * test/production/), curl and jq (the README's shell snippets, test/examples/readme.test.ts). Before
 * `npm test` they are installed where they can be (root, with apt), else the setup stops with one line.
 */
import { existsSync } from 'node:fs';
import { aptInstall, hasApt, isRoot } from './apt.js';

/** Each tool: the Debian package that brings it, and where that package puts it. */
export const DEBIAN_TOOLS = [
  { name: 'nginx', path: '/usr/sbin/nginx' },
  { name: 'curl', path: '/usr/bin/curl' },
  { name: 'jq', path: '/usr/bin/jq' },
] as const;

/** Makes sure every tool is there; returns the line to stop with when they cannot be. */
export function ensureDebianTools(): string | undefined {
  const missing = DEBIAN_TOOLS.filter((tool) => !existsSync(tool.path)).map((tool) => tool.name);
  if (missing.length === 0) return undefined;
  if (!isRoot() || !hasApt()) {
    return `Some tests run Debian's ${missing.join(', ')}: install them with \`sudo apt-get install ${missing.join(' ')}\`.`;
  }
  return aptInstall(missing);
}
