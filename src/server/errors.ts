export type ServerErrorCode = 'headers-sent' | 'stream-closed' | 'invalid-option' | 'not-a-request';

/** The one error class of `siar/server`, with a stable `code`. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Checks that an option is a non-negative integer (or absent) and returns it or the default. */
export function integerOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ServerError('invalid-option', `${name} must be a non-negative integer, got ${value}.`);
  }
  return value;
}
