/**
 * The benchmark's child processes and temporary directories, and the guarantee that none
 * outlives the run: every child is registered when it starts and killed (SIGKILL, by its own
 * pid) when the orchestrator exits, fails or is interrupted; every temporary directory is removed.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

let codeRoot = REPO_ROOT;

/**
 * Where children run (relative paths such as `bench/servers/…` resolve from it): the repository,
 * or the copy of its code taken when the run started (see snapshot.ts).
 */
export function setCodeRoot(dir: string): void {
  codeRoot = dir;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** The last lines it printed (stdout and stderr), for error messages. */
  tail(): string;
  /**
   * Stops it: `signal` first, SIGKILL after `graceMs` if it is still there. Resolves once it has
   * ended.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const live = new Set<Child>();
const tempDirs = new Set<string>();
const TAIL_LINES = 40;

/** Starts a process; its output is kept (last lines) and, when `onLine` is given, passed line by line. */
export function launch(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions & { onLine?: (line: string) => void } = {},
): Child {
  const { onLine, ...spawnOptions } = options;
  const child = spawn(command, args, { cwd: codeRoot, stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
  if (child.pid === undefined) throw new Error(`Could not start ${name} (${command}).`);
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null) => {
    if (stream === null) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > TAIL_LINES) lines.shift();
        onLine?.(line);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(handle);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const handle: Child = {
    name,
    process: child,
    pid: child.pid,
    exited,
    tail: () => lines.join('\n'),
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(handle);
  return handle;
}

/** Resolves with the first line matching `pattern`; rejects when the child exits first or after `timeoutMs`. */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const streams = [child.process.stdout, child.process.stderr];
    const timer = setTimeout(
      () => finish(new Error(`${child.name} did not get ready within ${timeoutMs} ms:\n${child.tail()}`)),
      timeoutMs,
    );
    const onData = () => {
      for (const line of child.tail().split('\n')) {
        const match = line.match(pattern);
        if (match) return finish(undefined, match);
      }
    };
    const onExit = () => finish(new Error(`${child.name} exited before it was ready:\n${child.tail()}`));
    function finish(error: Error | undefined, match?: RegExpMatchArray) {
      clearTimeout(timer);
      for (const stream of streams) stream?.off('data', onData);
      child.process.off('exit', onExit);
      if (error) reject(error);
      else resolve(match as RegExpMatchArray);
    }
    // Listeners added after launch's own: by the time ours runs, the line is in the tail.
    for (const stream of streams) stream?.on('data', onData);
    child.process.once('exit', onExit);
    onData();
  });
}

/** A new temporary directory, removed when the run ends whatever happens. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `siar-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Kills every child still running and removes the temporary directories: synchronous, for exit handlers. */
export function killAll(): void {
  for (const child of live) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;

/** Makes sure nothing is left behind on exit, on an uncaught error, and on Ctrl-C or SIGTERM. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the benchmark's processes.\n`);
      killAll();
      process.exit(130);
    });
  }
}
