/**
 * The code under test, copied when the run starts. Others may edit the working tree while a run
 * of 20 minutes goes on; each server is started afresh for every run, so without a copy the runs
 * of one report would measure different versions of the hub. The copy holds src/, bench/, web/,
 * package.json and tsconfig.json, with a link to the repository's node_modules, and is removed
 * when the run ends.
 */
import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from './children.js';

const COPIED = ['src', 'bench', 'web', 'package.json', 'tsconfig.json'];

/** Copies the code under test to a temporary directory and returns it. */
export function snapshotSources(): string {
  const dir = tempDir('code');
  for (const entry of COPIED) {
    cpSync(join(REPO_ROOT, entry), join(dir, entry), {
      recursive: true,
      // Generated output and profiles are not code.
      filter: (source) => !source.startsWith(join(REPO_ROOT, 'bench', 'charts')),
    });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}
