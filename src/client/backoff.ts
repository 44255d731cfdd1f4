import { ClientError } from './errors.js';

/** When and how often subscribe() reconnects. Every field has a default; times are in milliseconds. */
export interface ReconnectPolicy {
  /** The delay before the first reconnection, until the server sets one with `retry:`. Default 1000. */
  initialDelayMs?: number;
  /** The longest delay the policy computes, the server's `retry:` included (not `Retry-After`). Default 30 000. */
  maxDelayMs?: number;
  /** Each failed attempt in a row multiplies the delay by this. Default 2. */
  factor?: number;
  /** The fraction (0 to 1) of each delay taken off at random, so clients dropped together spread out. Default 0.2. */
  jitter?: number;
  /** Reconnections in a row without a successful connection before giving up. Default `Infinity`. */
  maxRetries?: number;
}

export const DEFAULT_RECONNECT_POLICY: Readonly<Required<ReconnectPolicy>> = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.2,
  maxRetries: Number.POSITIVE_INFINITY,
};

function check(name: string, value: number, ok: boolean): number {
  if (!ok) throw new ClientError('invalid-option', `reconnect.${name} is out of range: ${value}.`);
  return value;
}

/** The policy with its defaults filled in; throws a `ClientError` (`invalid-option`) on a value out of range. */
export function resolvePolicy(policy: ReconnectPolicy = {}): Required<ReconnectPolicy> {
  const p = { ...DEFAULT_RECONNECT_POLICY, ...policy };
  return {
    initialDelayMs: check('initialDelayMs', p.initialDelayMs, p.initialDelayMs >= 0),
    maxDelayMs: check('maxDelayMs', p.maxDelayMs, p.maxDelayMs >= 0),
    factor: check('factor', p.factor, p.factor >= 1),
    jitter: check('jitter', p.jitter, p.jitter >= 0 && p.jitter <= 1),
    maxRetries: check('maxRetries', p.maxRetries, p.maxRetries >= 0),
  };
}

/**
 * The delay before reconnection number `attempt` (1 for the first after a connection was lost):
 * `baseMs × factor^(attempt − 1)`, capped at `maxDelayMs`, less up to `jitter` of itself at random.
 */
export function backoffDelay(
  policy: Required<ReconnectPolicy>,
  baseMs: number,
  attempt: number,
  random: () => number = Math.random,
): number {
  const delay = Math.min(policy.maxDelayMs, baseMs * policy.factor ** (attempt - 1));
  return Math.round(delay * (1 - policy.jitter * random()));
}

const SECONDS = /^[0-9]+$/;
/** The three HTTP date formats (RFC 9110 §5.6.7) all start with the day's name; `Date.parse` alone takes far more. */
const HTTP_DATE = /^[A-Za-z]{3}/;

/** A `Retry-After` value (seconds, or an HTTP date) as milliseconds from `now`; `undefined` if absent or invalid. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (SECONDS.test(text)) return Number.parseInt(text, 10) * 1000;
  const date = HTTP_DATE.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
