/**
 * The real `siar` command in a process of its own, run from the sources (`node --import tsx
 * src/cli/main.ts`, so a stale dist/ cannot hide a change), and killed when the test ends; and
 * `siar serve` on 127.0.0.1, once its banner says where it listens.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createToken } from '../../src/hub/index.js';
import {
  type ProcessOptions,
  READY_TIMEOUT_MS,
  REPO_ROOT,
  type RunningProcess,
  spawnProcess,
} from './child-process.js';
import type { Teardown } from './teardown.js';

/** Absolute, so that the CLI can run in any directory. */
const TSX = createRequire(import.meta.url).resolve('tsx');
const MAIN = join(REPO_ROOT, 'src/cli/main.ts');

/** The publisher key of hub processes that are given none. */
export const CLI_KEY = 'siar-hub-process-test-key-long-enough-for-hs256';

/** A token of CLI_KEY allowed to publish and subscribe everywhere. */
export function cliPublisherToken(): Promise<string> {
  return createToken({ publish: ['*'], subscribe: ['*'] }, CLI_KEY);
}

/** Runs `siar <args>`; `teardown` kills it if it still runs. */
export function runCli(
  teardown: Teardown,
  args: readonly string[],
  options: ProcessOptions = {},
): RunningProcess {
  const run = spawnProcess(process.execPath, ['--import', TSX, MAIN, ...args], {
    name: `siar ${args.join(' ')}`,
    ...options,
  });
  teardown(() => run.kill());
  return run;
}

/** Where a hub in another process listens. */
export interface HubAddress {
  /** e.g. `http://127.0.0.1:1234` (https: over TLS), no trailing slash. */
  url: string;
  port: number;
  /** `${url}/.well-known/mercure` */
  hubUrl: string;
}

export function hubAddress(url: string): HubAddress {
  return { url, port: Number(new URL(url).port), hubUrl: `${url}/.well-known/mercure` };
}

/** What `siar serve` prints once it listens: "Siar hub listening on <url>/.well-known/mercure (store: …)…". */
const BANNER = /Siar hub listening on (https?:\/\/127\.0\.0\.1:\d+)\/\.well-known\/mercure.*/;

/** Waits for the banner of a `siar serve`; resolves with its address and the banner's line. */
export async function waitForBanner(
  run: RunningProcess,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<HubAddress & { line: string }> {
  const [line, url] = await run.waitFor(BANNER, timeoutMs);
  return { ...hubAddress(url as string), line };
}

export interface HubProcessOptions extends ProcessOptions {
  /** 0 (the default): one of the system's choosing; a given one, to start a hub again where it was. */
  port?: number;
  /** `--publisher-jwt-key`. Default: CLI_KEY. */
  key?: string;
  /** More of `siar serve`'s arguments (`--store`, limits…). */
  args?: readonly string[];
  /** Default: READY_TIMEOUT_MS. */
  readyTimeoutMs?: number;
}

export type HubProcess = RunningProcess & HubAddress & { line: string };

/**
 * `siar serve --host 127.0.0.1 --port <port> --publisher-jwt-key <key> --anonymous <args>`, once it
 * listens; `teardown` kills it.
 */
export async function startHubProcess(
  teardown: Teardown,
  options: HubProcessOptions = {},
): Promise<HubProcess> {
  const { port = 0, key = CLI_KEY, args = [], readyTimeoutMs, ...processOptions } = options;
  const run = runCli(
    teardown,
    // The key in the same argument: a key may start with "-", which would read as an option.
    [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      `--publisher-jwt-key=${key}`,
      '--anonymous',
      ...args,
    ],
    processOptions,
  );
  return Object.assign(run, await waitForBanner(run, readyTimeoutMs));
}
