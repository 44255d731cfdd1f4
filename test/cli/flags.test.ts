// The flag table every command is written with: parsing (the flag, else the environment, else the
// default), what each kind makes of its text, the mistakes it refuses, and the help it writes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineFlags, flagsHelp, parseFlags } from '../../src/cli/flags.js';
import { UsageError } from '../../src/cli/usage-error.js';

const FLAGS = defineFlags({
  port: {
    kind: 'integer',
    short: 'p',
    value: '<port>',
    env: ['T_PORT', 'T_PORT_TOO'],
    default: 3000,
    help: 'port',
  },
  limit: { kind: 'integer', value: '<n>', env: ['T_LIMIT'], defaultText: 'the hub’s', help: 'a limit' },
  name: { kind: 'string', value: '<name>', env: ['T_NAME'], help: 'a name' },
  mode: { kind: 'string', value: '<mode>', choices: ['fast', 'slow'], default: 'fast', help: 'a mode' },
  key: { kind: 'key', short: 'k', value: '<key>', env: ['T_KEY'], help: 'a key' },
  origin: { kind: 'list', value: '<origin>', env: ['T_ORIGINS'], help: 'an origin (repeatable)' },
  quiet: { kind: 'boolean', env: ['T_QUIET'], help: 'say less' },
  colour: { kind: 'boolean', default: true, env: ['T_COLOUR'], help: 'no colour' },
  cluster: { kind: 'boolean', envOnly: true, env: ['T_CLUSTER'], help: 'a cluster' },
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function parse(argv: string[], env: Record<string, string> = {}) {
  return parseFlags('try', FLAGS, argv, env).values;
}

function mistake(argv: string[], env: Record<string, string> = {}): string {
  try {
    parse(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error(`parsed ${argv.join(' ')} without a mistake`);
}

describe('parseFlags', () => {
  it('gives the defaults when nothing is set', () => {
    expect(parse([])).toEqual({
      port: 3000,
      limit: undefined,
      name: undefined,
      mode: 'fast',
      key: undefined,
      origin: undefined,
      quiet: false,
      colour: true,
      cluster: false,
    });
  });

  it('reads the flag first, then the first environment variable set; an empty variable is unset', () => {
    expect(parse(['-p', '8080'], { T_PORT: '9090' }).port).toBe(8080);
    expect(parse([], { T_PORT: '9090', T_PORT_TOO: '7070' }).port).toBe(9090);
    expect(parse([], { T_PORT: '', T_PORT_TOO: '7070' }).port).toBe(7070);
    expect(parse([], { T_PORT: '  ' }).port).toBe(3000);
    expect(parse(['--name', 'ada'], { T_NAME: 'bob' }).name).toBe('ada');
    expect(parse([], { T_NAME: 'bob' }).name).toBe('bob');
  });

  it('reads booleans: the flag, --no-<name> for one on by default, and true-ish or false-ish variables', () => {
    expect(parse(['--quiet']).quiet).toBe(true);
    expect(parse([], { T_QUIET: 'yes' }).quiet).toBe(true);
    expect(parse([], { T_QUIET: '0' }).quiet).toBe(false);
    expect(parse(['--no-colour']).colour).toBe(false);
    expect(parse([], { T_COLOUR: 'off' }).colour).toBe(false);
    expect(parse([], { T_COLOUR: '1' }).colour).toBe(true);
    expect(mistake(['--colour'])).toContain("Unknown option '--colour'");
  });

  it('reads a list from repeated flags, or its variable comma-separated', () => {
    expect(parse(['--origin', 'a', '--origin', 'b'], { T_ORIGINS: 'c' }).origin).toEqual(['a', 'b']);
    expect(parse([], { T_ORIGINS: ' a, b ,,c ' }).origin).toEqual(['a', 'b', 'c']);
  });

  it('reads an environment-only setting from its variable, and refuses it as a flag', () => {
    expect(parse([], { T_CLUSTER: 'true' }).cluster).toBe(true);
    expect(mistake(['--cluster'])).toContain("Unknown option '--cluster'");
  });

  it('reads a key from a file with @path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'siar-flags-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'key.pem'), 'from the file');
    expect(parse(['-k', `@${join(dir, 'key.pem')}`]).key).toBe('from the file');
    expect(parse([], { T_KEY: 'plain' }).key).toBe('plain');
    expect(parse(['--key', '']).key).toBeUndefined();
    expect(mistake(['--key', `@${join(dir, 'missing.pem')}`])).toMatch(
      /^--key: cannot read the key file .*missing\.pem/,
    );
  });

  it('refuses a bad value, naming the flag or the variable it came from, and points to the help', () => {
    expect(mistake(['--port', '80x'])).toBe(
      '--port must be a non-negative integer, got "80x".\nRun "siar try --help" for the options.',
    );
    expect(mistake([], { T_LIMIT: '-1' })).toMatch(/^T_LIMIT must be a non-negative integer, got "-1"\./);
    expect(mistake(['--mode', 'medium'])).toMatch(/^--mode must be fast or slow, got "medium"\./);
    expect(mistake(['--bogus'])).toMatch(
      /^Unknown option '--bogus'.*\nRun "siar try --help" for the options\.$/s,
    );
    expect(mistake(['stray'])).toContain('Run "siar try --help"');
  });

  it('takes positionals only when the command does', () => {
    expect(parseFlags('try', FLAGS, ['http://x/', '-p', '1'], {}, true)).toMatchObject({
      values: { port: 1 },
      positionals: ['http://x/'],
    });
  });
});

describe('flagsHelp', () => {
  const help = flagsHelp(FLAGS);
  const lines = help.split('\n');

  it('lists every flag once, as typed, with its letter, value, variables and default', () => {
    expect(help).toMatch(/^Options:\n {2}-p, --port <port> +port \[T_PORT, T_PORT_TOO\] +default 3000$/m);
    expect(help).toMatch(/^ {6}--limit <n> +a limit \[T_LIMIT\] +default the hub’s$/m);
    expect(help).toMatch(/^ {6}--mode <mode> +a mode +default fast$/m);
    expect(help).toMatch(/^ {6}--origin <origin> +an origin \(repeatable\) \[T_ORIGINS, comma-separated\]$/m);
    expect(help).toMatch(/^ {6}--quiet +say less \[T_QUIET\]$/m);
    expect(help).toMatch(/^ {6}--no-colour +no colour \[T_COLOUR=0\]$/m);
    expect(lines.filter((line) => /^ {2}(-\w, | {4})--/.test(line))).toHaveLength(9);
  });

  it('ends the options with --help, and lists environment-only settings apart', () => {
    const environment = lines.indexOf('Environment:');
    expect(lines[environment - 2]).toMatch(/^ {2}-h, --help +show this help$/);
    expect(lines[environment + 1]).toMatch(/^ {2}T_CLUSTER=1 +a cluster$/);
    expect(help).not.toContain('--cluster');
  });

  it('wraps long help within 100 columns, the default kept whole', () => {
    const long = defineFlags({
      store: {
        kind: 'string',
        value: '<store>',
        env: ['T_STORE'],
        defaultText: 'a default long enough not to fit on the last line of its text',
        help: 'words '.repeat(30).trim(),
      },
    });
    const text = flagsHelp(long).split('\n');
    expect(Math.max(...text.map((line) => line.length))).toBeLessThanOrEqual(100);
    expect(text.filter((line) => line.includes('default a default long enough'))).toHaveLength(1);
    expect(text.join(' ').replace(/ +/g, ' ')).toContain(`${'words '.repeat(30).trim()} [T_STORE]`);
  });
});
