import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

// A command's flags, each described once in a table: its name, letter, environment variables,
// default and help. From that one table come the options node:util's parseArgs reads, the values
// (the flag, else the first environment variable set, else the default) and the Options section
// of the command's help. Adding a flag is adding an entry.

interface Common {
  /** What the flag does, for the help; `\n` starts a new line. For a boolean on by default: what `--no-<name>` does. */
  help: string;
  /** One letter: `p` for `-p`. */
  short?: string;
  /** Environment variables read when the flag is not given, the first one set winning (an empty one counts as unset). */
  env?: readonly string[];
  /** Read from the environment only (its one variable in `env`): no flag; listed under "Environment" in the help. */
  envOnly?: boolean;
}

/** Text; `key` is a JWT key, where `@path` reads the file (an empty one is no key). */
interface TextFlag extends Common {
  kind: 'string' | 'key';
  /** The value's placeholder in the help: `<file>`. */
  value: string;
  default?: string;
  /** The values allowed, when not any text. */
  choices?: readonly string[];
  /** What the help says of the default when the value has none here (the hub's, say). */
  defaultText?: string;
}

/** A non-negative integer. */
interface IntegerFlag extends Common {
  kind: 'integer';
  value: string;
  default?: number;
  defaultText?: string;
}

/** Repeatable text; its environment variable holds the values comma-separated. */
interface ListFlag extends Common {
  kind: 'list';
  value: string;
}

/**
 * On or off; off unless `default: true`, and then the flag is `--no-<name>`. An environment
 * variable set to 1, true, yes or on turns it on; 0, false, no or off turns it off.
 */
interface BooleanFlag extends Common {
  kind: 'boolean';
  default?: boolean;
}

export type Flag = TextFlag | IntegerFlag | ListFlag | BooleanFlag;
/** A command's flags, by name (`--<name>`). */
export type Flags = Readonly<Record<string, Flag>>;

type Value<F extends Flag> = F extends BooleanFlag
  ? boolean
  : F extends ListFlag
    ? string[] | undefined
    : F extends IntegerFlag
      ? F extends { default: number }
        ? number
        : number | undefined
      : F extends { choices: readonly (infer C extends string)[] }
        ? F extends { default: string }
          ? C
          : C | undefined
        : F extends { default: string }
          ? string
          : string | undefined;

/** The values a command's flags read to, by name: typed from the table. */
export type FlagValues<T extends Flags> = { -readonly [K in keyof T]: Value<T[K]> };

/** Writes a table of flags (keeping its literal types, from which the values' types come). */
export function defineFlags<const T extends Flags>(flags: T): T {
  return flags;
}

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off)$/i;
/** Width of the help text, in columns. */
const HELP_WIDTH = 100;

/** The flag as typed, without its dashes: `<name>`, or `no-<name>` for a boolean on by default. */
function typed(name: string, flag: Flag): string {
  return flag.kind === 'boolean' && flag.default === true ? `no-${name}` : name;
}

function argsOptions(flags: Flags): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, flag] of Object.entries(flags)) {
    if (flag.envOnly) continue;
    options[typed(name, flag)] = {
      type: flag.kind === 'boolean' ? 'boolean' : 'string',
      ...(flag.kind === 'list' ? { multiple: true } : {}),
      ...(flag.short === undefined ? {} : { short: flag.short }),
    };
  }
  return options;
}

/** Reads a key given on the command line: `@path` reads the file, anything else is the key itself. */
function readKey(value: string, source: string): string | undefined {
  if (value === '') return undefined;
  if (!value.startsWith('@')) return value;
  try {
    return readFileSync(value.slice(1), 'utf8');
  } catch (error) {
    throw new UsageError(
      `${source}: cannot read the key file ${value.slice(1)}: ${(error as Error).message}`,
    );
  }
}

/** "a, b or c". */
function either(choices: readonly string[]): string {
  return choices.length < 2 ? choices.join('') : `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
}

/** A text value (from `source`: the flag or an environment variable) as the flag's kind. */
function convert(flag: TextFlag | IntegerFlag, text: string, source: string): string | number | undefined {
  if (flag.kind === 'integer') {
    if (text === '') return undefined;
    if (!/^[0-9]+$/.test(text))
      throw new UsageError(`${source} must be a non-negative integer, got "${text}".`);
    return Number(text);
  }
  if (flag.kind === 'key') return readKey(text, source);
  if (flag.choices && !flag.choices.includes(text)) {
    throw new UsageError(`${source} must be ${either(flag.choices)}, got "${text}".`);
  }
  return text;
}

/** The first of a flag's environment variables that is set, with its value. */
function fromEnvironment(flag: Flag, env: NodeJS.ProcessEnv): [variable: string, text: string] | undefined {
  for (const variable of flag.env ?? []) {
    const text = env[variable];
    if (text !== undefined && text.trim() !== '') return [variable, text];
  }
  return undefined;
}

function read(name: string, flag: Flag, given: unknown, env: NodeJS.ProcessEnv): unknown {
  if (given !== undefined) {
    if (flag.kind === 'boolean') return flag.default !== true;
    if (flag.kind === 'list') return given;
    return convert(flag, given as string, `--${name}`);
  }
  const found = fromEnvironment(flag, env);
  if (found === undefined) {
    if (flag.kind === 'list') return undefined;
    return flag.kind === 'boolean' ? (flag.default ?? false) : flag.default;
  }
  const [variable, text] = found;
  if (flag.kind === 'boolean')
    return flag.default === true ? !FALSE.test(text.trim()) : TRUE.test(text.trim());
  if (flag.kind === 'list') {
    return text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }
  return convert(flag, text, variable);
}

/** A usage error about a command's arguments, pointing to where its options are described. */
export function flagMistake(command: string, message: string): UsageError {
  return new UsageError(`${message}\nRun "siar ${command} --help" for the options.`);
}

/**
 * Reads a command's flags from its arguments (strictly: an unknown flag is an error) and then the
 * environment. A mistake becomes a usage error that says where the options are described.
 */
export function parseFlags<const T extends Flags>(
  command: string,
  flags: T,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  allowPositionals = false,
): { values: FlagValues<T>; positionals: string[] } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: argsOptions(flags), strict: true, allowPositionals });
  } catch (error) {
    throw flagMistake(command, (error as Error).message);
  }
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(flags)) {
    const given = flag.envOnly ? undefined : parsed.values[typed(name, flag)];
    try {
      values[name] = read(typed(name, flag), flag, given, env);
    } catch (error) {
      throw error instanceof UsageError ? flagMistake(command, error.message) : error;
    }
  }
  // The table's types say what `read` made of each entry.
  return { values: values as FlagValues<T>, positionals: parsed.positionals };
}

/** Splits `text` into lines of at most `width` columns, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    if (cut <= 0) cut = rest.indexOf(' ', width);
    if (cut <= 0) break;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut + 1).trimStart();
  }
  lines.push(rest);
  return lines;
}

/** One entry of the help: what is typed, what it does, and its default. */
interface HelpRow {
  label: string;
  text: string;
  fallback?: string;
}

function helpRow(label: string, flag: Flag): HelpRow {
  let text = flag.help;
  if (!flag.envOnly && flag.env?.length) {
    const variables =
      flag.kind === 'boolean' && flag.default === true
        ? flag.env.map((variable) => `${variable}=0`)
        : [...flag.env, ...(flag.kind === 'list' ? ['comma-separated'] : [])];
    text += ` [${variables.join(', ')}]`;
  }
  if (flag.kind === 'boolean' || flag.kind === 'list') return { label, text };
  const fallback = flag.defaultText ?? (flag.default === undefined ? undefined : String(flag.default));
  return { label, text, ...(fallback === undefined ? {} : { fallback: `default ${fallback}` }) };
}

/** An entry's lines: its text wrapped beside the label, from `column` on; its default at the right, or below. */
function rowLines({ label, text, fallback }: HelpRow, column: number): string[] {
  const width = HELP_WIDTH - column;
  const lines = text.split('\n').flatMap((paragraph) => wrap(paragraph, width));
  if (fallback !== undefined) {
    const last = lines.at(-1) as string;
    if (last.length + 2 + fallback.length <= width) {
      lines[lines.length - 1] = last.padEnd(width - fallback.length) + fallback;
    } else {
      lines.push(fallback);
    }
  }
  return lines.map((line, i) => `${i === 0 ? `  ${label}`.padEnd(column) : ' '.repeat(column)}${line}`);
}

/**
 * The Options section of a command's help (`-h, --help` last), and an Environment section for the
 * settings that have no flag.
 */
export function flagsHelp(flags: Flags): string {
  const options: HelpRow[] = [];
  const environment: HelpRow[] = [];
  for (const [name, flag] of Object.entries(flags)) {
    if (flag.envOnly) {
      environment.push(helpRow(`${flag.env?.[0]}=${flag.kind === 'boolean' ? '1' : flag.value}`, flag));
    } else {
      const letter = flag.short === undefined ? '    ' : `-${flag.short}, `;
      const value = flag.kind === 'boolean' ? '' : ` ${flag.value}`;
      options.push(helpRow(`${letter}--${typed(name, flag)}${value}`, flag));
    }
  }
  options.push({ label: '-h, --help', text: 'show this help' });
  const column = Math.max(...[...options, ...environment].map(({ label }) => label.length)) + 4;
  const section = (title: string, rows: HelpRow[]) =>
    `${title}:\n${rows.flatMap((row) => rowLines(row, column)).join('\n')}\n`;
  return environment.length === 0
    ? section('Options', options)
    : `${section('Options', options)}\n${section('Environment', environment)}`;
}
