import { readSnippet } from './response-body.js';
import type { FetchResponse } from './types.js';

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

/** How much of a refusal's body goes into the message (the whole snippet is in `body`). */
const MESSAGE_SNIPPET_CHARS = 200;

/**
 * The error for a response that is not an event stream: `message`, then the start of the body on one
 * line; `status`, `statusText`, the headers and the first KiB of the body as details.
 */
export async function refusalError(
  code: 'http-status' | 'bad-content-type',
  response: FetchResponse,
  message: string,
): Promise<ClientError> {
  const body = await readSnippet(response.body);
  const line = body.replace(/\s+/g, ' ').trim();
  const snippet = line.length > MESSAGE_SNIPPET_CHARS ? `${line.slice(0, MESSAGE_SNIPPET_CHARS)}…` : line;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return new ClientError(code, snippet === '' ? `${message}.` : `${message}: ${snippet}`, {
    status: response.status,
    statusText: response.statusText,
    body,
    headers,
  });
}
