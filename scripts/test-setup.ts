/**
 * Run by `npm test` before the suite (its `pretest`): installs what the tests need and can install,
 * and stops with one line per thing it cannot, saying what to install. The services the tests talk
 * to (Redis, PostgreSQL, NATS) are the machine's own.
 */
import { ensureBetterSqlite } from './better-sqlite3.js';
import { ensureChromium } from './chromium.js';
import { ensureDebianTools } from './debian-tools.js';
import { otherRuntime } from './runtimes.js';

function runtimes(): string | undefined {
  try {
    otherRuntime('bun');
    otherRuntime('deno');
    return undefined;
  } catch (error) {
    return `Installing Bun and Deno from npm (for test/runtimes) failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

const problems = [ensureChromium(), ensureDebianTools(), ensureBetterSqlite(), runtimes()].filter(
  (line) => line !== undefined,
);
for (const line of problems) console.error(line);
if (problems.length > 0) process.exitCode = 1;
