import { readFileSync } from 'node:fs';
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
