/**
 * On a Node.js without a settled node:sqlite (20, 22), the SQLite store runs on the better-sqlite3 package, an
 * optional peer dependency that only those users install. The suite tests that path there, so
 * before `npm test` this installs it into `.runtimes/`, one folder per Node.js ABI (it compiles from
 * source when no prebuilt binary can be fetched, so once per ABI, not at every `npm ci`), and links
 * it into node_modules, where npm's next install drops the link again. It is built against the
 * headers of the Node.js that runs this (`npm_config_nodedir`, when not given, is that Node.js's own
 * folder where it has `include/node`), so no headers are downloaded. On Node.js 24 and later there is
 * nothing to do.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { sqliteBinding } from '../src/hub/stores/sqlite-binding.js';
import { npmInstallInto, PROJECT_ROOT, RUNTIMES_DIR } from './runtimes.js';

/** A bound on installing it (compiling the SQLite amalgamation takes minutes on a busy machine). */
const BUILD_TIMEOUT_MS = 15 * 60_000;

/** A bound on the process that tries to load it. */
const LOAD_TIMEOUT_MS = 30_000;

const LINK = join(PROJECT_ROOT, 'node_modules', 'better-sqlite3');

/**
 * Whether it opens a database on this Node.js: asked of a new process, since a process that once
 * failed to find a package remembers that (node's package.json cache).
 */
function loads(): boolean {
  try {
    execFileSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], {
      cwd: PROJECT_ROOT,
      stdio: 'ignore',
      timeout: LOAD_TIMEOUT_MS,
    });
    return true;
  } catch {
    return false;
  }
}

/** The version range the project asks for, from its peer dependencies. */
function wantedRange(): string {
  const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    peerDependencies?: Record<string, string>;
  };
  return manifest.peerDependencies?.['better-sqlite3'] ?? 'latest';
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The environment for npm: this Node.js first on PATH (npm and node-gyp run on it), and native builds
 * pointed at its own headers when it has them and none were given.
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const bin = dirname(process.execPath);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
  const prefix = dirname(bin);
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node.h'))) {
    env.npm_config_nodedir = prefix;
  }
  return env;
}

/** Makes sure the SQLite store can open a database here; returns the line to stop with when it cannot. */
export function ensureBetterSqlite(): string | undefined {
  if (sqliteBinding() === 'node:sqlite' || loads()) return undefined;
  // One the developer installed (or built for another Node.js) is theirs: say so rather than replace it.
  if (existsSync(LINK) && !isLink(LINK)) {
    return `node_modules/better-sqlite3 does not load on Node.js ${process.versions.node}: run \`npm rebuild better-sqlite3\`.`;
  }
  const range = wantedRange();
  const folder = join(
    RUNTIMES_DIR,
    `better-sqlite3-${range.replace(/[^\w.-]/g, '')}-abi${process.versions.modules}`,
  );
  const installed = join(folder, 'node_modules', 'better-sqlite3');
  if (!existsSync(join(installed, 'build', 'Release', 'better_sqlite3.node'))) {
    console.error(
      `Node.js ${process.versions.node}: installing better-sqlite3 for the SQLite store's tests (it may compile)...`,
    );
    mkdirSync(folder, { recursive: true });
    // npm asks that a package's install script be allowed: this one builds the native module.
    writeFileSync(
      join(folder, 'package.json'),
      `${JSON.stringify({ private: true, allowScripts: { 'better-sqlite3': true } }, null, 2)}\n`,
    );
    try {
      npmInstallInto(folder, `better-sqlite3@${range}`, BUILD_TIMEOUT_MS, npmEnvironment());
    } catch (error) {
      return `Installing better-sqlite3 failed (${(error as Error).message.split('\n')[0]}): the SQLite store needs it on Node.js ${process.versions.node}, or Node.js 24 or later.`;
    }
  }
  rmSync(LINK, { force: true });
  symlinkSync(relative(join(PROJECT_ROOT, 'node_modules'), installed), LINK, 'dir');
  return loads()
    ? undefined
    : `better-sqlite3 in ${relative(PROJECT_ROOT, folder)} does not load on Node.js ${process.versions.node}: delete that folder and run npm test again.`;
}
