// README.md's code blocks, read from README.md and run for real by readme.test.ts: a README edit that
// breaks a snippet fails that test.
//
// A block the test runs has a mark on the line just before its opening fence, in an HTML comment (so
// the rendered README does not show it):
//
//   <!-- test: NAME -->                                              run as written
//   <!-- test: NAME, run with `FROM` as `TO`, `FROM2` as `TO2` -->   each FROM replaced by its TO first
//
// A replacement is for what cannot run as written on a machine the tests share, such as a fixed port:
// `3001` as `{port}`; the test fills each {placeholder} in. A FROM the block does not contain fails the
// test, so a mark cannot go stale silently. Every TypeScript block, marked or not, is type-checked as
// written (as a user would copy it); a marked one then runs with the replacements in a process of its
// own. Shell blocks run with `sh -e` in the same workspace, where `siar` (and `npx siar`) is this
// checkout's dist/cli/main.js.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { REPO_ROOT, spawnProcess } from '../helpers/child-process.js';
import { waitFor } from '../helpers/net.js';

/** How long a snippet's process may take to print what a test waits for. */
const OUTPUT_TIMEOUT_MS = 20_000;
/** How long a snippet's process may take to end once asked to (or once it should have by itself). */
const EXIT_TIMEOUT_MS = 15_000;
/** How long tsc may take over every snippet (the declarations of express, fastify, hono… included). */
const TYPECHECK_TIMEOUT_MS = 90_000;

export interface Snippet {
  /** The mark's NAME; unmarked blocks are named for their line (`line-42`). */
  name: string;
  marked: boolean;
  /** The fence's language: ts, tsx, sh, js… */
  lang: string;
  /** The README line of the opening fence (1-based), for messages. */
  line: number;
  /** The block as written. */
  source: string;
  /** The block with its replacements made, each {placeholder} filled from `values`. */
  code(values?: Record<string, string | number>): string;
  /** The shell commands of the block (comment lines dropped, `\` continuations joined), replaced. */
  commands(values?: Record<string, string | number>): string[];
}

const FENCE = /^```(\w+)$/;
const MARK = /^<!-- test: ([a-z0-9-]+)(?:, run with (.*))? -->$/;
const REPLACEMENT = /`([^`]+)` as `([^`]*)`/g;

function fill(text: string, values: Record<string, string | number>, where: string): string {
  return text.replace(/\{([a-z]+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${where}: no value for {${key}}`);
    return String(value);
  });
}

function makeSnippet(
  fields: Pick<Snippet, 'name' | 'marked' | 'lang' | 'line' | 'source'>,
  marks: string,
): Snippet {
  const replacements = [...marks.matchAll(REPLACEMENT)].map(([, from = '', to = '']) => [from, to] as const);
  const where = `README.md:${fields.line} (${fields.name})`;
  const code = (values: Record<string, string | number> = {}) => {
    let text = fields.source;
    for (const [from, to] of replacements) {
      if (!text.includes(from)) throw new Error(`${where}: the mark replaces \`${from}\`, not in the block`);
      text = text.replaceAll(from, fill(to, values, where));
    }
    return text;
  };
  return {
    ...fields,
    code,
    commands: (values) =>
      code(values)
        .replace(/\\\n\s*/g, '')
        .split('\n')
        .filter((command) => command.trim() !== '' && !command.trimStart().startsWith('#')),
  };
}

/** Every fenced code block of README.md, in order; a marked one carries its mark's name. */
export function readmeSnippets(path = join(REPO_ROOT, 'README.md')): Snippet[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const snippets: Snippet[] = [];
  const names = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const lang = FENCE.exec(lines[i] as string)?.[1];
    if (lang === undefined) continue;
    const end = lines.indexOf('```', i + 1);
    if (end === -1) throw new Error(`README.md:${i + 1}: a code block that never closes`);
    const mark = MARK.exec(lines[i - 1] ?? '');
    const name = mark?.[1] ?? `line-${i + 1}`;
    if (names.has(name)) throw new Error(`README.md:${i}: a second mark named ${name}`);
    names.add(name);
    const source = `${lines.slice(i + 1, end).join('\n')}\n`;
    snippets.push(makeSnippet({ name, marked: mark !== null, lang, line: i + 1, source }, mark?.[2] ?? ''));
    i = end;
  }
  return snippets;
}

export interface Running {
  stdout(): string;
  stderr(): string;
  /** Waits until stdout or stderr matches `pattern`; returns the match. Fails if the process ends first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  hasEnded(): boolean;
  /** Resolves to the exit code (or the signal's name) once the process ends by itself, within `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | string>;
  /** Sends `signal` to the process and its children; resolves once it has ended. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** A directory under test-output/ where snippets are written and run, with `siar` on its PATH. */
export class Workspace {
  readonly dir: string;
  private readonly bin: string;
  private readonly running: Running[] = [];

  constructor() {
    mkdirSync(join(REPO_ROOT, 'test-output'), { recursive: true });
    // Inside the repository, so `siar/*` resolves to this package (its dist/) and its dependencies to
    // node_modules/, as they would in a project that installed siar.
    this.dir = mkdtempSync(join(REPO_ROOT, 'test-output', 'readme-'));
    this.bin = join(this.dir, 'bin');
    mkdirSync(this.bin);
    const shim = join(this.bin, 'siar');
    writeFileSync(
      shim,
      `#!/bin/sh\nexec '${process.execPath}' '${join(REPO_ROOT, 'dist/cli/main.js')}' "$@"\n`,
    );
    chmodSync(shim, 0o755);
  }

  /** Writes `code` to `<name>.<lang>` in the workspace; returns its path. */
  write(name: string, lang: string, code: string): string {
    const path = join(this.dir, `${name}.${lang}`);
    writeFileSync(path, code);
    return path;
  }

  /**
   * Type-checks TypeScript snippets as written, as a project of their own with strict settings (the
   * declarations of its dependencies checked too); resolves to tsc's report, '' when clean.
   */
  async typeCheck(snippets: Snippet[]): Promise<string> {
    const dir = join(this.dir, 'typecheck');
    mkdirSync(dir, { recursive: true });
    const files = snippets.map((snippet) => {
      writeFileSync(join(dir, `${snippet.name}.${snippet.lang}`), snippet.source);
      return `${snippet.name}.${snippet.lang}`;
    });
    const compilerOptions = {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      target: 'ES2022',
      lib: ['ES2023', 'DOM'], // Hono's declarations name DOM types (MessageEvent, CloseEvent)
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      jsx: 'react-jsx',
      noEmit: true,
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
    const tsc = this.start(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir],
      {},
    );
    await tsc.exit(TYPECHECK_TIMEOUT_MS);
    return `${tsc.stdout()}${tsc.stderr()}`;
  }

  /** Runs a TypeScript file with tsx, in the workspace. */
  runTs(path: string, env: Record<string, string> = {}): Running {
    return this.start(process.execPath, ['--import', 'tsx', path], env);
  }

  /** Runs shell commands with `sh -e`, in the workspace, `npx siar` being `siar`. */
  runShell(commands: string, env: Record<string, string> = {}): Running {
    return this.start('sh', ['-ec', commands.replaceAll('npx siar ', 'siar ')], env);
  }

  /** Runs one of package.json's scripts as `npm run` would: in the repository, `node` being this Node.js. */
  runScript(name: string, env: Record<string, string> = {}): Running {
    const scripts: Record<string, string> = JSON.parse(
      readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'),
    ).scripts;
    const script = scripts[name];
    if (script === undefined) throw new Error(`package.json has no script ${name}`);
    return this.start('sh', ['-ec', script], env, REPO_ROOT);
  }

  private start(program: string, args: string[], env: Record<string, string>, cwd = this.dir): Running {
    const name = [program, ...args].join(' ');
    // Under setsid: a process group of its own (spawned as no group's leader, setsid does not fork,
    // so the pid is the group's), so that stop() reaches what a shell started too.
    const started = spawnProcess('setsid', [program, ...args], {
      cwd,
      env: { NO_COLOR: '1', ...env, PATH: `${this.bin}:${dirname(process.execPath)}:${process.env.PATH}` },
      name,
    });
    let ended = false;
    void started.exited.then(() => {
      ended = true;
    });
    const running: Running = {
      stdout: started.stdout,
      stderr: started.stderr,
      hasEnded: () => ended,
      exit: (timeoutMs) => within(started.exited, `${name} to end`, timeoutMs),
      waitFor: (pattern) => started.waitFor(pattern, OUTPUT_TIMEOUT_MS),
      async stop(signal = 'SIGTERM') {
        try {
          if (!ended) process.kill(-started.pid, signal);
        } catch (error) {
          // Ended meanwhile: nothing left to stop.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
        return within(started.exited, `${name} to end`);
      },
    };
    this.running.push(running);
    return running;
  }

  /** Stops every process still running; removes the workspace. */
  async close(): Promise<void> {
    await Promise.all(this.running.map((running) => running.stop('SIGKILL').catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `promise`, or a failure once `timeoutMs` have passed. */
function within<T>(promise: Promise<T>, what: string, timeoutMs = EXIT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until something accepts TCP connections on 127.0.0.1:`port`; fails if `running` ends first. */
export async function listening(port: number, running: Running): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  await waitFor(
    async () => {
      if (running.hasEnded())
        throw new Error(`it ended before listening:\n${running.stdout()}\n${running.stderr()}`);
      return accepts();
    },
    OUTPUT_TIMEOUT_MS,
    `a server on port ${port}`,
  );
}
