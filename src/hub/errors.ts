import type { Logger } from '../server/logger.js';

/** Stable codes for every way a hub request or option can be refused. */
export type HubErrorCode =
  | 'invalid-option'
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'request-timeout'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'too-many-requests'
  | 'unavailable'
  | 'store-failed';

const STATUS: Record<HubErrorCode, number> = {
  'invalid-option': 500,
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'request-timeout': 408,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'too-many-requests': 429,
  unavailable: 503,
  'store-failed': 503,
};

/**
 * The one error class of `siar/hub`. An error on a request carries the HTTP status it is answered
 * with and a message the client can act on; `headers` go into the answer (`WWW-Authenticate`,
 * `Retry-After`…).
 */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: HubErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Set when the hub logged it already (once per burst, say): answering it then logs nothing more. */
  logged = false;

  constructor(code: HubErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.status = STATUS[code];
    this.headers = headers;
  }
}

/**
 * The 503 for a store that failed (its own `HubError`, such as a deadline's, passes through); the
 * cause is logged, the client is told to try again.
 */
export function storeFailed(error: unknown, logger: Logger): HubError {
  if (error instanceof HubError) return error;
  logger.error({ error: String(error) }, 'The store failed.');
  return new HubError(
    'store-failed',
    'The hub could not store the update: its store is unavailable. Try again.',
    {
      'retry-after': '1',
    },
  );
}
