/** Facts about the machine and the software of a run, for the report's header. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { nchanVersions } from '../servers/nchan.js';
import { REPO_ROOT } from './children.js';
import { openFileLimits } from './proc.js';

export interface MachineFacts {
  date: string;
  cpu: string;
  cores: number;
  memory: string;
  kernel: string;
  node: string;
  nginx: string;
  nchan: string;
  betterSse: string;
  openFiles: string;
  commit: string;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

export function machineFacts(): MachineFacts {
  const versions = nchanVersions();
  let betterSse = 'missing';
  try {
    betterSse = (
      JSON.parse(readFileSync(`${REPO_ROOT}/node_modules/better-sse/package.json`, 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    // Not installed: the row fails and says so.
  }
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', 'src']) !== '';
  const limits = openFileLimits();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    node: process.version,
    nginx: versions.nginx ?? 'not installed',
    nchan: versions.nchan ?? 'not installed',
    betterSse,
    openFiles: `${limits.soft} (hard ${limits.hard})`,
    commit: commit === '' ? 'unknown' : `${commit}${dirty ? ' with uncommitted changes in src/' : ''}`,
  };
}
