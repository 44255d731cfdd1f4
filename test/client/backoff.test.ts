import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RECONNECT_POLICY,
  parseRetryAfter,
  resolvePolicy,
} from '../../src/client/backoff.js';
import { ClientError } from '../../src/client/index.js';

describe('backoffDelay', () => {
  const policy = resolvePolicy({ initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 });

  it('multiplies the base by factor for each attempt in a row, up to maxDelayMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(policy, 100, attempt))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(policy, 3000, 1)).toBe(1000);
  });

  it('takes up to jitter of the delay off, as the random number says', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(backoffDelay(jittered, 400, 1, () => 0)).toBe(400);
    expect(backoffDelay(jittered, 400, 1, () => 0.5)).toBe(300);
    expect(backoffDelay(jittered, 400, 1, () => 0.999_999)).toBe(200);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 25 Nov 2026 12:00:00 GMT');

  it('reads seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date, in any of its three formats, as the time from now (0 when past)', () => {
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wednesday, 25-Nov-26 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 12:00:00 GMT', now)).toBe(0);
  });

  it('ignores what is neither', () => {
    for (const value of [null, '', 'soon', '-1', '1.5', '2026-11-25']) {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    }
  });
});

describe('resolvePolicy', () => {
  it('fills in the defaults', () => {
    expect(resolvePolicy()).toEqual(DEFAULT_RECONNECT_POLICY);
    expect(resolvePolicy({ maxRetries: 3 })).toEqual({ ...DEFAULT_RECONNECT_POLICY, maxRetries: 3 });
  });

  it.each([
    { initialDelayMs: -1 },
    { maxDelayMs: Number.NaN },
    { factor: 0.5 },
    { jitter: 1.5 },
    { jitter: -0.1 },
    { maxRetries: -1 },
  ])('refuses %o with ClientError invalid-option', (policy) => {
    expect(() => resolvePolicy(policy)).toThrow(ClientError);
    expect(() => resolvePolicy(policy)).toThrow(expect.objectContaining({ code: 'invalid-option' }));
  });
});
