import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './command.js';

/** Reads a key given on the command line: `@path` reads the file, anything else is the key itself. */
export function readKey(value: string | undefined, flag: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!value.startsWith('@')) return value;
  try {
    return readFileSync(value.slice(1), 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read the key file ${value.slice(1)}: ${(error as Error).message}`);
  }
}

/** A non-negative integer flag (or environment variable), or the usage error that says which. */
export function integerFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[0-9]+$/.test(value))
    throw new UsageError(`${name} must be a non-negative integer, got "${value}".`);
  return Number(value);
}

/** True for a flag that was set, or an environment variable set to a true-ish value. */
export function booleanFlag(flag: boolean | undefined, env: string | undefined): boolean {
  if (flag !== undefined) return flag;
  return env !== undefined && /^(1|true|yes|on)$/i.test(env.trim());
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Reads a command's arguments (strictly: an unknown flag is an error); a mistake becomes a usage
 * error that says where the options are described.
 */
export function parseFlags<const O extends Options, const P extends boolean = false>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals?: P,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: P }>> {
  const config = {
    args: argv,
    options,
    strict: true as const,
    allowPositionals: (allowPositionals ?? false) as P,
  };
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun "siar ${command} --help" for the options.`);
  }
}
