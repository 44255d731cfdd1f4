/**
 * Siar as a user's project gets it today: `npm pack` (which runs `prepare`, the build), then a throwaway
 * project installs the tarball, imports each public part and runs the `siar` bin through npx.
 *
 * The install passes --ignore-scripts: the store clients' native build (better-sqlite3) is not what this
 * checks, and no part imported here loads it (stores load only when used).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
/** What the build reads and the package ships; everything else of the repository stays behind. */
const PACKED_SOURCES = ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'src', 'web'];
/** Packing builds the whole package and installing resolves its dependencies: both take a while. */
const STEP_TIMEOUT_MS = 240_000;

describe('the packed package, installed into a new project', () => {
  let work: string;
  let project: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'siar-pack-'));
    project = join(work, 'app');
    // Packed from a copy, so that `prepare` (the build) writes its own dist/, not the one other tests run.
    const copy = join(work, 'siar');
    for (const entry of PACKED_SOURCES) await cp(join(root, entry), join(copy, entry), { recursive: true });
    await symlink(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
    await run('npm', ['pack', '--pack-destination', work, '--silent'], {
      cwd: copy,
      timeout: STEP_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [tarball] = (await readdir(work)).filter((name) => name.endsWith('.tgz'));
    expect(tarball, 'npm pack wrote no tarball').toBeDefined();
    await run('mkdir', [project]);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }),
    );
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        join(work, tarball as string),
        'react',
      ],
      { cwd: project, timeout: STEP_TIMEOUT_MS },
    );
  }, 2 * STEP_TIMEOUT_MS);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports every subpath export and finds what each part is known by', async () => {
    const script = `
      const protocol = await import('siar/protocol');
      const server = await import('siar/server');
      const client = await import('siar/client');
      const hub = await import('siar/hub');
      const pkg = (await import('siar/package.json', { with: { type: 'json' } })).default;
      console.log(JSON.stringify({
        encode: typeof protocol.encode,
        createParser: typeof protocol.createParser,
        createEventStream: typeof server.createEventStream,
        EventSource: typeof client.EventSource,
        subscribe: typeof client.subscribe,
        createHub: typeof hub.createHub,
        name: pkg.name,
        frame: protocol.encode({ data: 'a\\nb' }),
      }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      encode: 'function',
      createParser: 'function',
      createEventStream: 'function',
      EventSource: 'function',
      subscribe: 'function',
      createHub: 'function',
      name: 'siar',
      frame: 'data: a\ndata: b\n\n',
    });
  });

  it('imports siar/react beside the React the project installed (an optional peer)', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const r = await import('siar/react'); console.log(Object.keys(r).sort().join(','))",
      ],
      { cwd: project },
    );
    expect(stdout.trim().split(',')).toEqual(expect.arrayContaining(['useEventSource', 'useSubscribe']));
  });

  it('runs the siar bin through npx', async () => {
    const { stdout } = await run('npx', ['--no-install', 'siar', '--help'], {
      cwd: project,
      timeout: STEP_TIMEOUT_MS,
    });
    expect(stdout).toMatch(/Usage: siar <command>/);
    expect(stdout).toMatch(/serve/);
  });
});
