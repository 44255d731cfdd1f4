/**
 * The processes a test starts (a hub, a redis-server, a script): spawned with their output kept,
 * waited on for a line with a bound, stopped with a signal and a bound. None outlives the process
 * that started it: whatever is still running when it exits is killed (SIGKILL).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './net.js';

/** The repository's root: where a process runs unless told otherwise. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Characters of output kept per stream, at least (the newest): enough for any banner or failure. */
export const OUTPUT_LIMIT_CHARS = 1_000_000;
/** How long `waitFor` waits for a line, unless told. */
export const READY_TIMEOUT_MS = 20_000;
/** How long `kill` gives a process after its signal before SIGKILL: above siar serve's own 10 s bound. */
export const STOP_GRACE_MS = 15_000;

export interface ProcessOptions {
  /** Default: the repository's root. */
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /**
   * Runs it under the hard descriptor limit (`ulimit -n "$(ulimit -Hn)"`, then `exec`: the pid is
   * its own), for a process that holds more than the usual 1,024 sockets.
   */
  raiseDescriptorLimit?: boolean;
  /** Runs it under this descriptor limit (`ulimit -n <n>`, then `exec`), to try what a low one does. */
  descriptorLimit?: number;
  /** What failure messages call it. Default: the command line. */
  name?: string;
}

export interface RunningProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr as they came. */
  output(): string;
  /** The exit code, or the name of the signal that ended it, once it has exited and its output is read. */
  exited: Promise<number | string>;
  /**
   * Resolves with the first match of `pattern` in stdout (or else stderr); fails at once if the
   * process exits first, or after `timeoutMs`, quoting what it printed.
   */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` (default SIGKILL), then SIGKILL after `graceMs` if it is still there; resolves as `exited`. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A growing text of which at least the newest `OUTPUT_LIMIT_CHARS` are kept. */
function boundedText(): { append(text: string): void; read(): string } {
  let text = '';
  return {
    append(more) {
      text += more;
      if (text.length > 2 * OUTPUT_LIMIT_CHARS) text = text.slice(-OUTPUT_LIMIT_CHARS);
    },
    read: () => text,
  };
}

/** Starts `command` with `args` (stdin closed, stdout and stderr kept). */
export function spawnProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions = {},
): RunningProcess {
  const name = options.name ?? [command, ...args].join(' ');
  const limit =
    options.descriptorLimit !== undefined
      ? `ulimit -n ${options.descriptorLimit} &&`
      : options.raiseDescriptorLimit
        ? 'ulimit -n "$(ulimit -Hn)" 2>/dev/null;'
        : undefined;
  const [file, argv] =
    limit === undefined ? [command, args] : ['/bin/sh', ['-c', `${limit} exec "$@"`, 'sh', command, ...args]];
  const child = spawn(file, argv, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const stdout = boundedText();
  const stderr = boundedText();
  const output = boundedText();
  const collect = (stream: NodeJS.ReadableStream | null, into: ReturnType<typeof boundedText>) => {
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      into.append(text);
      output.append(text);
    });
  };
  collect(child.stdout, stdout);
  collect(child.stderr, stderr);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    const finish = (result: number | string) => {
      done = true;
      running.delete(child);
      resolve(result);
    };
    // 'close', not 'exit': by then the output is all read.
    child.once('close', (code, signal) => finish(code ?? signal ?? -1));
    child.once('error', (error: NodeJS.ErrnoException) => {
      output.append(`${name}: ${error.message}\n`);
      if (child.pid === undefined) finish(error.code ?? 'error');
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    stdout: stdout.read,
    stderr: stderr.read,
    output: output.read,
    exited,
    async waitFor(pattern, timeoutMs = READY_TIMEOUT_MS) {
      try {
        const match = await waitFor(
          () => {
            const found = pattern.exec(stdout.read()) ?? pattern.exec(stderr.read());
            if (found === null && done) throw new Error(`${name} exited before printing ${pattern}`);
            return found;
          },
          timeoutMs,
          `${name} to print ${pattern}`,
        );
        return match as RegExpExecArray;
      } catch (error) {
        throw new Error(`${(error as Error).message}; it printed:\n${output.read()}`);
      }
    },
    async kill(signal = 'SIGKILL', graceMs = STOP_GRACE_MS) {
      if (done) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
