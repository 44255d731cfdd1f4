// The CLI as a person meets it: help with examples for every command, colour only on a terminal, errors
// that say what to do next, and the serve banner's links (the dashboard's with a token that opens it).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:http2';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { styleFor } from '../../src/cli/style.js';
import { DASHBOARD_TOPIC } from '../../src/hub/dashboard-figures.js';
import { h2Request } from '../helpers/http2.js';
import { openSse } from '../helpers/sse-client.js';
import { cliKilledAfterEach, send, startHub, TEST_KEY, token } from '../hub/hub-helpers.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const COMMANDS = ['serve', 'publish', 'token', 'subscribe', 'bench'];
/** What every ANSI colour code starts with. */
const ESC = '\x1b[';
/** No key from the environment reaches a test's CLI. */
const NO_KEYS = {
  SIAR_PUBLISHER_JWT_KEY: '',
  SIAR_SUBSCRIBER_JWT_KEY: '',
  MERCURE_PUBLISHER_JWT_KEY: '',
  MERCURE_SUBSCRIBER_JWT_KEY: '',
  SIAR_TOKEN: '',
  SIAR_DASHBOARD: '',
  NO_COLOR: '',
};

async function siar(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], {
      env: { ...process.env, ...NO_KEYS },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('siar --help', () => {
  it('lists every command with its summary, and examples', async () => {
    for (const args of [['--help'], ['-h'], ['help'], []]) {
      const { code, stdout } = await siar(args);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^siar \d+\.\d+\.\d+: server-sent events toolkit and Mercure hub\n/);
      for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} +\\S.+$`, 'm'));
      const examples = stdout.slice(stdout.indexOf('\nExamples:\n'));
      expect(examples.match(/^ {2}siar \w+/gm)?.length).toBeGreaterThanOrEqual(4);
      expect(stdout).toContain('Run "siar <command> --help"');
      expect(stdout).not.toContain(ESC);
    }
  });

  it.each(COMMANDS)('siar %s --help: usage, options and examples of that command', async (command) => {
    const { code, stdout, stderr } = await siar([command, '--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(new RegExp(`^Usage: siar ${command} `));
    expect(stdout).toContain('\nOptions:\n');
    expect(stdout).toMatch(/^ {2}-h, --help +show this help$/m);
    const examples = stdout.slice(stdout.indexOf('\nExamples:\n'));
    expect(
      examples.match(new RegExp(`^ {2}(\\S+=\\S+ )*(echo .* \\| )?siar ${command}\\b`, 'gm'))?.length,
    ).toBeGreaterThanOrEqual(2);
    expect(stdout).not.toContain(ESC);
  });

  it('siar serve --help documents --no-dashboard and how to get a dashboard token', async () => {
    const { stdout } = await siar(['serve', '--help']);
    expect(stdout).toMatch(/--no-dashboard +do not serve the live dashboard/);
    expect(stdout).toContain('[SIAR_DASHBOARD=0]');
    expect(stdout).toContain(`siar token --subscribe '${DASHBOARD_TOPIC}'`);
  });
});

describe('siar errors say what to do next', () => {
  it('suggests the command meant, and exits 2', async () => {
    const { code, stderr } = await siar(['sever']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'siar: unknown command "sever". Did you mean "siar serve"? Run "siar --help" to see the commands.\n',
    );
    expect((await siar(['frobnicate'])).stderr).toBe(
      'siar: unknown command "frobnicate". Run "siar --help" to see the commands.\n',
    );
  });

  it('points to the help on a bad option', async () => {
    for (const command of COMMANDS) {
      const { code, stderr } = await siar([command, '--no-such-option']);
      expect(code).toBe(2);
      expect(stderr).toContain(`Run "siar ${command} --help" for the options.`);
      expect(stderr).not.toContain('    at ');
    }
  });

  it('siar publish: a refusal comes with the next step for its status', async () => {
    const hub = await startHub();
    try {
      const books = await token({ publish: ['https://example.com/books/{id}'] });
      const refused = await siar([
        'publish',
        '--hub',
        hub.hubUrl,
        '--token',
        books,
        '-t',
        'https://example.com/authors/1',
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('The hub refused the update: 403');
      expect(refused.stderr).toContain("The token's mercure.publish claim must match every --topic");
      const wrongKey = await siar([
        'publish',
        '--hub',
        hub.hubUrl,
        '--key',
        'not-the-key',
        '-t',
        'https://example.com/1',
      ]);
      expect(wrongKey.stderr).toContain('The hub refused the update: 401');
      expect(wrongKey.stderr).toContain('Check --token, or that --key is the key the hub was started with.');
    } finally {
      await hub.close();
    }
  });
});

describe('colour', () => {
  it('only on a terminal, and never with NO_COLOR set', () => {
    expect(styleFor({ isTTY: true }, {}).red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(styleFor({ isTTY: true }, { NO_COLOR: '' }).color).toBe(true);
    expect(styleFor({ isTTY: true }, { NO_COLOR: '1' }).red('x')).toBe('x');
    expect(styleFor({ isTTY: false }, {}).bold('x')).toBe('x');
    expect(styleFor({}, {}).color).toBe(false);
  });

  // `script` runs the CLI on a pseudo-terminal, as a person's shell does.
  it.skipIf(!existsSync('/usr/bin/script'))('errors are red on a terminal, plain with NO_COLOR', () => {
    const onTerminal = (env: Record<string, string>) =>
      spawnSync('/usr/bin/script', ['-qec', `${process.execPath} ${CLI.join(' ')} sever`, '/dev/null'], {
        env: { ...process.env, ...NO_KEYS, ...env },
        encoding: 'utf8',
      }).stdout;
    expect(onTerminal({})).toContain('\x1b[31msiar:\x1b[39m unknown command "sever"');
    expect(onTerminal({ NO_COLOR: '1' })).toMatch(/^siar: unknown command "sever"/);
  });
});

describe('siar serve banner', () => {
  const cli = cliKilledAfterEach();

  it('in development, prints a dashboard link with a token that opens it', async () => {
    const serve = cli(['serve', '--host', '127.0.0.1', '--port', '0', '--demo'], NO_KEYS);
    const [, base] = await serve.waitFor(
      /listening on (http:\/\/127\.0\.0\.1:\d+)\/\.well-known\/mercure \(store: memory\)/,
    );
    const [, link, dashboardToken] = await serve.waitFor(/^ {2}Dashboard: +(\S+\/dashboard\?token=(\S+))$/m);
    expect(link?.startsWith(`${base}/dashboard?token=`)).toBe(true);
    expect(serve.stdout()).toContain(`  Demo page:  ${base}/\n`);
    expect(serve.stdout()).not.toContain(ESC);
    expect((await send(link as string)).status).toBe(200);
    const figures = await openSse(
      `${base}/.well-known/mercure?topic=${encodeURIComponent(DASHBOARD_TOPIC)}`,
      {
        headers: { authorization: `Bearer ${dashboardToken}` },
      },
    );
    try {
      const [event] = await figures.waitForEvents(1, 5000);
      expect(JSON.parse(event?.data ?? '{}')).toMatchObject({
        subscribers: 1,
        store: { kind: 'memory', ok: true },
      });
    } finally {
      figures.close();
    }
  });

  it('with a key, says how to make a dashboard token', async () => {
    const serve = cli(
      ['serve', '--host', '127.0.0.1', '--port', '0', '--publisher-jwt-key', TEST_KEY],
      NO_KEYS,
    );
    const [line] = await serve.waitFor(/^ {2}Dashboard: .*$/m);
    expect(line).toMatch(
      /\/dashboard \(add \?token=<JWT>: siar token --subscribe '\/\.well-known\/mercure\/dashboard' --key <the key>\)$/,
    );
  });

  it('--h2c: no link a browser cannot open, but what h2c is for and the paths to open through a proxy', async () => {
    const serve = cli(['serve', '--host', '127.0.0.1', '--port', '0', '--h2c', '--demo'], NO_KEYS);
    const [, base] = await serve.waitFor(
      /listening on (http:\/\/127\.0\.0\.1:\d+)\/\.well-known\/mercure .* over cleartext HTTP\/2 \(h2c\)$/m,
    );
    const [, dashboard] = await serve.waitFor(/^ {2}Dashboard: +(\/dashboard\?token=\S+)$/m);
    expect(serve.stdout()).toContain('\n  Demo page:  /\n');
    expect(serve.stdout()).toContain('for a proxy in front of the hub that terminates TLS; browsers do not');
    expect(
      serve
        .stdout()
        .split('\n')
        .filter((line) => line.includes('://')),
    ).toHaveLength(1);
    // The paths are the pages, over h2c as the proxy would ask for them.
    const session = connect(base as string);
    session.on('error', () => {});
    try {
      for (const path of ['/', dashboard as string]) {
        const exchange = h2Request(session, path, { read: false });
        expect((await exchange.response)[':status']).toBe(200);
        exchange.stream.close();
      }
    } finally {
      session.destroy();
    }
  });

  it.each([
    ['--no-dashboard', ['--no-dashboard'], {}],
    ['SIAR_DASHBOARD=0', [], { SIAR_DASHBOARD: '0' }],
  ])('%s: no dashboard link, no page', async (_name, flags, env) => {
    const serve = cli(['serve', '--host', '127.0.0.1', '--port', '0', ...flags], { ...NO_KEYS, ...env });
    const [, base] = await serve.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
    expect(serve.stdout()).not.toContain('Dashboard');
    expect((await send(`${base}/dashboard`)).status).toBe(404);
  });
});
