// The token verifier and its two formats: a draft-07 token's mercure claim becomes grants (checked
// with the role's configured key), an access token's authorization_details (with its issuer's keys),
// and a verified token is remembered for the hub it was presented to.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/hub/errors.js';
import { TokenVerifier } from '../../src/hub/jwt-verifier.js';
import { configuredKeySource, type KeySource } from '../../src/hub/oauth/key-source.js';
import type { TrustedKeys } from '../../src/hub/token-formats/token-format.js';
import { createAccessToken } from '../../src/hub/tokens.js';
import { SelectorCache } from '../../src/hub/topic-selector.js';
import { TEST_KEY } from './hub-helpers.js';

const secret = new TextEncoder().encode(TEST_KEY);
const HUB = 'https://hub.example.com/.well-known/mercure';
const CONTEXT = { resourceIdentifier: HUB, hubUrl: HUB };
const ISSUER = 'https://app.example.com';
const LIMITS = { maxTokenBytes: 16_384, clockToleranceSeconds: 0 };

function sign(payload: Record<string, unknown>): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(secret);
}

async function refusal(promise: Promise<unknown>): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HubError);
  return error as HubError;
}

/** The configured test key, counting how often a signature check asks for it. */
function countedKey(): KeySource & { asked: number } {
  const source = configuredKeySource({ key: TEST_KEY });
  const counted = {
    asked: 0,
    algorithms: source.algorithms,
    ready: () => source.ready(),
    key: (header: Parameters<KeySource['key']>[0]) => {
      counted.asked++;
      return source.key(header);
    },
  };
  return counted;
}

const keysOf = (source: KeySource, issuer = true): TrustedKeys => ({
  configured: source,
  issuers: new Map(issuer ? [[ISSUER, [source]]] : []),
});

describe('token formats: a verified token becomes grants', () => {
  it("reads draft-07's mercure claim into selectors and one payload for every subscription", async () => {
    const verifier = new TokenVerifier(keysOf(countedKey()), new SelectorCache(), LIMITS);
    const { grants, expiresAt } = await verifier.verify(
      await sign({ mercure: { publish: ['/books/{id}'], subscribe: ['*'], payload: { user: 7 } }, exp: 4e9 }),
      'draft-07',
      CONTEXT,
    );
    expect(grants.publish?.map(({ selector, type }) => [selector, type.name])).toEqual([
      ['/books/{id}', 'uri-template'],
    ]);
    expect(grants.subscribe?.[0]?.matches('/anything')).toBe(true);
    expect([grants.payloadFor('/a'), grants.payloadFor('/b')]).toEqual([{ user: 7 }, { user: 7 }]);
    expect(expiresAt).toBe(4e12);
    const none = await verifier.verify(await sign({}), 'draft-07', CONTEXT);
    expect([none.grants.publish, none.grants.subscribe]).toEqual([undefined, undefined]);
    const bad = await refusal(
      verifier.verify(await sign({ mercure: { publish: '*' } }), 'draft-07', CONTEXT),
    );
    expect([bad.status, bad.message]).toEqual([
      401,
      'The "mercure.publish" claim must be an array of strings.',
    ]);
    expect(bad.headers['www-authenticate']).toContain('invalid_token');
    // Never both generations: draft-08's claim in a token that is not an access token.
    const hybrid = await refusal(
      verifier.verify(await sign({ authorization_details: [], mercure: {} }), 'draft-07', CONTEXT),
    );
    expect(hybrid.message).toContain('"typ" header must be "at+jwt"');
  });

  it("reads an access token's authorization_details, with a payload per subscription", async () => {
    const verifier = new TokenVerifier(keysOf(countedKey()), new SelectorCache(), LIMITS);
    const token = await createAccessToken(
      {
        publish: ['/books/{id}'],
        subscribe: [{ match: '/users/:id', match_type: 'urlpattern' }],
        payload: { n: 1 },
      },
      TEST_KEY,
      { issuer: ISSUER, audience: HUB },
    );
    const { grants, expiresAt } = await verifier.verify(token, 'draft-08', CONTEXT);
    expect(grants.publish?.map(({ selector, type }) => [selector, type.name])).toEqual([
      ['/books/{id}', 'exact'],
    ]);
    expect(grants.subscribe?.[0]?.matches('https://hub.example.com/users/7')).toBe(true);
    expect([grants.payloadFor('/users/:id'), grants.payloadFor('/other')]).toEqual([{ n: 1 }, undefined]);
    expect(expiresAt).toBeGreaterThan(Date.now());
  });

  it('verifies each generation with its own keys: the configured key, the issuer’s', async () => {
    const key = countedKey();
    const issuerOnly = new TokenVerifier(
      { configured: undefined, issuers: new Map([[ISSUER, [key]]]) },
      new SelectorCache(),
      LIMITS,
    );
    expect((await refusal(issuerOnly.verify(await sign({}), 'draft-07', CONTEXT))).message).toContain(
      'the hub has no key for it',
    );
    const noIssuer = new TokenVerifier(keysOf(key, false), new SelectorCache(), LIMITS);
    const token = await createAccessToken({ publish: ['*'] }, TEST_KEY, { issuer: ISSUER, audience: HUB });
    expect((await refusal(noIssuer.verify(token, 'draft-08', CONTEXT))).message).toContain(
      'The hub trusts no issuer of access tokens yet',
    );
  });

  it('remembers a verified token, for the hub it was presented to', async () => {
    const key = countedKey();
    const verifier = new TokenVerifier(keysOf(key), new SelectorCache(), LIMITS);
    const draft07 = await sign({ mercure: { publish: ['/b'] } });
    const first = await verifier.verify(draft07, 'draft-07', CONTEXT);
    expect(await verifier.verify(draft07, 'draft-07', CONTEXT)).toBe(first);
    expect(key.asked).toBe(1);
    const access = await createAccessToken({ publish: ['/a'] }, TEST_KEY, { issuer: ISSUER, audience: HUB });
    await verifier.verify(access, 'draft-08', CONTEXT);
    await verifier.verify(access, 'draft-08', CONTEXT);
    expect(key.asked).toBe(2);
    // Another audience is another question: the same token is checked again, and refused there.
    const elsewhere = { resourceIdentifier: 'https://other.example/.well-known/mercure', hubUrl: HUB };
    expect((await refusal(verifier.verify(access, 'draft-08', elsewhere))).message).toContain('"aud"');
    expect(key.asked).toBe(3);
  });
});
