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

/** The range an integer option may take, and the error a value outside it throws. */
export interface IntegerRange {
  /** Smallest value allowed. Default 0. */
  min?: number;
  /** Largest value allowed. Default `Number.MAX_SAFE_INTEGER`. */
  max?: number;
  /** Makes the error for a value out of range: each part throws its own class. Default: a `ServerError`. */
  invalid?: (message: string) => Error;
}

/**
 * Checks that an option is an integer within its range (or absent) and returns it, or the default when
 * it is absent. The one check behind every numeric option of siar/server and siar/hub.
 */
export function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  range: IntegerRange = {},
): number {
  if (value === undefined) return fallback;
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const kind =
      min === 0
        ? 'a non-negative integer'
        : min === 1
          ? 'a positive integer'
          : `an integer of at least ${min}`;
    const limit = max === Number.MAX_SAFE_INTEGER ? '' : ` no larger than ${max}`;
    const message = `${name} must be ${kind}${limit}, got ${value}.`;
    throw range.invalid?.(message) ?? new ServerError('invalid-option', message);
  }
  return value;
}
