// siar bench as a person runs it: against a hub of its own, against a running hub, and refusing what
// it must not do (a hub on another machine, sizes past what one process can hold).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startHub, TEST_KEY, type TestHub } from '../hub/hub-helpers.js';

const run = promisify(execFile);

async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'bench', ...args],
      {
        env: { ...process.env, NO_COLOR: '1' },
        timeout: 60_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe('siar bench', () => {
  it('measures a hub of its own: every subscriber gets every update once, with the hub CPU', async () => {
    const { code, stdout } = await bench(['--subscribers', '40', '--updates', '15', '--json']);
    expect(code).toBe(0);
    const figures = JSON.parse(stdout) as Record<string, unknown> & { latencyMs: { p50: number } };
    expect(figures).toMatchObject({ subscribers: 40, updates: 15, lost: 0, duplicated: 0 });
    expect(figures.deliveriesPerSecond).toBeGreaterThan(0);
    expect(figures.latencyMs.p50).toBeGreaterThan(0);
    expect(figures.hubCpuMicrosPerDelivery).toBeGreaterThan(0);
  });

  it('prints a table for a running hub, publishing with its key', async () => {
    hub = await startHub({ anonymous: true });
    const { code, stdout } = await bench([hub.hubUrl, '--key', TEST_KEY, '-s', '20', '-u', '5']);
    expect(code).toBe(0);
    expect(stdout).toContain(hub.hubUrl);
    expect(stdout).toMatch(/lost \/ repeated\s+0 \/ 0/);
    expect(stdout).toMatch(/deliveries\/s\s+[\d,]+/);
    expect(hub.hub.stats().updatesPublished).toBe(5);
  });

  it('says the hub refused when the token does not allow publishing', async () => {
    hub = await startHub({ anonymous: true });
    const { code, stderr } = await bench([
      hub.hubUrl,
      '--key',
      'not-the-hub-key-at-all-0123456789',
      '-s',
      '5',
      '-u',
      '2',
    ]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/401/);
  });

  it('refuses a hub on another machine, and sizes one process cannot hold', async () => {
    const remote = await bench(['http://example.com/.well-known/mercure', '--key', TEST_KEY]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('loopback');
    const tooMany = await bench(['--subscribers', '50000']);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('--subscribers');
  });
});
