import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEBIAN_CHROMIUM, planChromium } from '../../scripts/chromium.js';
import { PROJECT_ROOT } from '../../scripts/runtimes.js';

const missing = { path: DEBIAN_CHROMIUM, exists: false };

describe("npm test's setup (scripts/test-setup.ts): Chromium", () => {
  it('runs before the suite, from the test command the README gives', () => {
    const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.pretest).toBe('node --import tsx scripts/test-setup.ts');
    expect(readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')).toMatch(/^npm test {2,}# /m);
  });

  it('does nothing when Chromium is there', () => {
    expect(planChromium({ ...missing, exists: true, root: false, apt: false })).toEqual({ action: 'ready' });
  });

  it("installs Debian's chromium when it is missing, as root with apt", () => {
    expect(planChromium({ ...missing, root: true, apt: true })).toEqual({ action: 'install' });
  });

  it('otherwise stops with one line saying what to install', () => {
    for (const facts of [
      { ...missing, root: false, apt: true },
      { ...missing, root: true, apt: false },
    ]) {
      const plan = planChromium(facts);
      expect(plan.action).toBe('stop');
      const message = plan.action === 'stop' ? plan.message : '';
      expect(message).toContain('apt-get install chromium');
      expect(message).not.toContain('\n');
    }
  });

  it('never installs over a CHROMIUM_PATH of your own: it says to fix that path', () => {
    const plan = planChromium({ path: '/opt/chromium/chrome', exists: false, root: true, apt: true });
    expect(plan).toEqual({
      action: 'stop',
      message: expect.stringContaining('/opt/chromium/chrome (CHROMIUM_PATH)'),
    });
  });

  it('as a process: a missing Chromium stops it with status 1 and that one line on stderr', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/test-setup.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CHROMIUM_PATH: join(PROJECT_ROOT, 'no-such-chromium') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      `No Chromium at ${join(PROJECT_ROOT, 'no-such-chromium')} (CHROMIUM_PATH): point it at a Chromium, or unset it to use Debian's ${DEBIAN_CHROMIUM}.`,
    ]);
  });
});
