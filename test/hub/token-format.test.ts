import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/hub/errors.js';
import { JwtVerifier } from '../../src/hub/jwt-verifier.js';
import { MERCURE_CLAIM } from '../../src/hub/token-formats/mercure-claim.js';
import type { TokenFormat } from '../../src/hub/token-formats/token-format.js';
import { SelectorCache } from '../../src/hub/topic-selector.js';
import { TEST_KEY } from './hub-helpers.js';

const secret = new TextEncoder().encode(TEST_KEY);

function sign(payload: Record<string, unknown>, typ?: string): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', ...(typ && { typ }) }).sign(secret);
}

async function refusal(promise: Promise<unknown>): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HubError);
  return error as HubError;
}

describe('token formats: a verified token becomes grants', () => {
  it("reads draft-07's mercure claim into selectors and a payload", async () => {
    const verifier = new JwtVerifier({ key: TEST_KEY }, new SelectorCache(), 16_384, 0);
    const { grants, expiresAt } = await verifier.verify(
      await sign({ mercure: { publish: ['/books/{id}'], subscribe: ['*'], payload: { user: 7 } }, exp: 4e9 }),
    );
    expect(grants.publish?.map(({ selector, type }) => [selector, type.name])).toEqual([
      ['/books/{id}', 'uri-template'],
    ]);
    expect(grants.subscribe?.[0]?.matches('/anything')).toBe(true);
    expect(grants.payload).toEqual({ user: 7 });
    expect(expiresAt).toBe(4e12);
    const none = await verifier.verify(await sign({}));
    expect([none.grants.publish, none.grants.subscribe]).toEqual([undefined, undefined]);
    const bad = await refusal(verifier.verify(await sign({ mercure: { publish: '*' } })));
    expect([bad.status, bad.message]).toEqual([
      401,
      'The "mercure.publish" claim must be an array of strings.',
    ]);
    expect(bad.headers['www-authenticate']).toContain('invalid_token');
  });

  it('asks each format in order whether it recognizes the header, and remembers what it read', async () => {
    let read = 0;
    const testFormat: TokenFormat = {
      name: 'test',
      recognizes: (header) => header.typ === 'test+jwt',
      grants({ payload }, selectors) {
        read++;
        if (typeof payload.scope !== 'string') throw new HubError('unauthorized', 'No scope.');
        return { publish: [selectors.get(payload.scope)], subscribe: undefined, payload: 'test' };
      },
    };
    const verifier = new JwtVerifier({ key: TEST_KEY }, new SelectorCache(), 16_384, 0, [
      testFormat,
      MERCURE_CLAIM,
    ]);
    const token = await sign({ scope: '/a', mercure: { publish: ['/b'] } }, 'test+jwt');
    const first = await verifier.verify(token);
    expect(first.grants.publish?.map(({ selector }) => selector)).toEqual(['/a']);
    expect(await verifier.verify(token)).toBe(first);
    expect(read).toBe(1);
    const draft07 = await verifier.verify(await sign({ scope: '/a', mercure: { publish: ['/b'] } }, 'JWT'));
    expect(draft07.grants.publish?.map(({ selector }) => selector)).toEqual(['/b']);
    expect((await refusal(verifier.verify(await sign({}, 'test+jwt')))).message).toBe('No scope.');
    const only = new JwtVerifier({ key: TEST_KEY }, new SelectorCache(), 16_384, 0, [testFormat]);
    expect((await refusal(only.verify(await sign({}, 'JWT')))).message).toBe(
      'The hub reads no token of type "JWT".',
    );
  });
});
