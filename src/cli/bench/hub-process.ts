/**
 * A hub of the load generator's own: `siar serve` started as a child process on a free loopback
 * port, and what /proc says of it (Linux): its CPU time and its resident memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../usage-error.js';

/** Longest wait for the hub's "listening on" line. */
const START_TIMEOUT_MS = 30_000;

export interface HubProcess {
  /** The hub's URL: `http://127.0.0.1:<port>/.well-known/mercure`. */
  url: string;
  child: ChildProcess;
}

/**
 * Starts `siar serve` on 127.0.0.1 with a free port, anonymous subscribers, `key` for publishers,
 * no dashboard, and `args` added (a store, limits); resolves to its hub URL once it listens.
 */
export async function startHubProcess(key: string, args: readonly string[]): Promise<HubProcess> {
  const main = fileURLToPath(
    new URL(`../main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
  );
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      main,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--anonymous',
      `--publisher-jwt-key=${key}`,
      '--no-dashboard',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new UsageError(`The hub did not start:\n${output}`, 1)),
      START_TIMEOUT_MS,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new UsageError(`The hub exited:\n${output}`, 1));
    });
  });
  return { url, child };
}

/** CPU time of a process (all its threads), in µs, from the schedstat of each of its tasks in /proc (Linux); undefined elsewhere. */
export function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1000;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status; Linux); undefined elsewhere. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
