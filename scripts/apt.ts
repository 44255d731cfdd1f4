/** Debian's apt, for the tools the tests drive: whether it may be used here, and one bounded install. */
import { execFileSync } from 'node:child_process';

/** Bounds on apt: the package lists, then the packages and what they need (Chromium is about 100 MB). */
const APT_UPDATE_TIMEOUT_MS = 5 * 60_000;
const APT_INSTALL_TIMEOUT_MS = 15 * 60_000;

/** Running as root, so apt-get may install packages. */
export const isRoot = (): boolean => process.getuid?.() === 0;

/** apt-get is on this machine (Debian, Ubuntu). */
export function hasApt(): boolean {
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian packages; returns the line to stop with when that fails. */
export function aptInstall(packages: readonly string[]): string | undefined {
  console.error(`Installing Debian's ${packages.join(', ')} for the tests (apt-get)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: APT_UPDATE_TIMEOUT_MS });
    execFileSync('apt-get', ['install', '-y', '-qq', ...packages], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
      timeout: APT_INSTALL_TIMEOUT_MS,
    });
  } catch (error) {
    return `Installing Debian's ${packages.join(', ')} failed (${(error as Error).message.split('\n')[0]}): install ${packages.length > 1 ? 'them' : 'it'} with \`apt-get install ${packages.join(' ')}\`.`;
  }
  return undefined;
}
