/** What went wrong, as a stable string a program can switch on. */
export type ClientErrorCode =
  /** The URL cannot be parsed, or its scheme is not `http:` or `https:`. */
  | 'invalid-url'
  /** An option has a value out of its range. */
  | 'invalid-option'
  /** The server answered with a status that is not a success (`status`, `statusText`, `body`, `headers` set). */
  | 'http-status'
  /** The server answered 2xx with a `Content-Type` other than `text/event-stream`. */
  | 'bad-content-type'
  /** The request failed, or the stream broke, below HTTP (refused, reset, DNS); `cause` holds the error. */
  | 'network'
  /** Nothing, not even a comment, arrived for `idleTimeoutMs`. */
  | 'idle-timeout'
  /** An event exceeded `maxEventSize`; `cause` holds the protocol's error. */
  | 'event-too-large'
  /** `maxRetries` reconnections in a row failed; `cause` holds the last error. */
  | 'retries-exhausted';

/** What a {@link ClientError} carries besides its code and message. */
export interface ClientErrorDetails {
  status?: number;
  statusText?: string;
  body?: string;
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The one error class of `siar/client`. HTTP refusals carry the `status`, `statusText`, response
 * `headers` and the first KiB of the response `body`, so a program (or a person) can see why.
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  /** The HTTP status, for `http-status` and `bad-content-type`. */
  readonly status: number | undefined;
  readonly statusText: string | undefined;
  /** The first KiB of the response body, decoded as UTF-8, for `http-status` and `bad-content-type`. */
  readonly body: string | undefined;
  /** The response headers (lowercase names), for `http-status` and `bad-content-type`. */
  readonly headers: Record<string, string> | undefined;

  constructor(code: ClientErrorCode, message: string, details: ClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.statusText = details.statusText;
    this.body = details.body;
    this.headers = details.headers;
  }
}

/** An error's message, with the system error code undici keeps in `cause` (ECONNREFUSED and the like). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.code === 'string') return `${error.message} (${cause.code})`;
  if (cause && typeof cause.message === 'string') return `${error.message} (${cause.message})`;
  return error.message;
}
