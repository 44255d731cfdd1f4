/**
 * The Siar hub as users run it: the real CLI, `siar serve` (from src/, through tsx, so the bench
 * measures the working tree without a build), on a loopback port, anonymous subscribers, a
 * publisher key made for the run and a token signed with `createToken`.
 */
import { randomBytes } from 'node:crypto';
import { createToken } from '../../src/hub/index.js';
import { freePort } from '../../test/helpers/net.js';
import { launch, removeTempDir, tempDir, waitForLine } from '../lib/children.js';
import { ENGINES, type EngineName } from './engines.js';
import type { ServerName, ServerUnderTest } from './index.js';

export const HUB_TOPIC = 'https://bench.siar.test/updates';

export function hubServer(
  name: ServerName,
  label: string,
  store: 'memory' | 'sqlite' | EngineName,
  profileDir: string | undefined,
  protocol: 'http1' | 'h2c' = 'http1',
  /** More of `siar serve`'s arguments (`--workers 3`). */
  args: readonly string[] = [],
): ServerUnderTest {
  const engine = store === 'memory' || store === 'sqlite' ? undefined : ENGINES[store];
  return {
    name,
    label,
    unavailable: () => (engine ? engine.unavailable() : Promise.resolve(undefined)),
    async start() {
      const port = await freePort();
      const key = randomBytes(32).toString('base64url');
      const token = await createToken({ publish: ['*'] }, key);
      const dir = tempDir(name);
      // The run's own space on a shared engine, removed after it.
      const space = engine?.newSpace();
      const spec = space?.url ?? (store === 'sqlite' ? `sqlite:${dir}/hub.db` : 'memory');
      const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
      const child = launch(name, process.execPath, [
        ...profile,
        '--import',
        'tsx',
        'src/cli/main.ts',
        'serve',
        '--port',
        `${port}`,
        '--host',
        '127.0.0.1',
        // One argument: a base64url key may start with "-", which would read as an option.
        `--publisher-jwt-key=${key}`,
        '--anonymous',
        '--store',
        spec,
        // Many streams of the load generator share each connection over h2c.
        ...(protocol === 'h2c' ? ['--h2c'] : []),
        ...args,
      ]);
      const stop = async () => {
        // With a profile, the hub must exit by itself for V8 to write it: give it time.
        await child.stop('SIGTERM', profileDir === undefined ? 5000 : 20_000);
        removeTempDir(dir);
        await space?.drop();
      };
      try {
        await waitForLine(child, /Siar hub listening on/, 20_000);
      } catch (error) {
        await stop();
        throw error;
      }
      return {
        child,
        sampleStore: engine ? await engine.sampler(child.pid) : undefined,
        endpoints: {
          host: '127.0.0.1',
          port,
          subscribePath: `/.well-known/mercure?topic=${encodeURIComponent(HUB_TOPIC)}`,
          publishPath: '/.well-known/mercure',
          publishHeaders: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          publishBody: { mercureTopic: HUB_TOPIC },
          protocol,
        },
        stop,
      };
    },
  };
}
