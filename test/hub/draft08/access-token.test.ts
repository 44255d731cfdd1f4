// Draft-08 access tokens (RFC 9068) through the hub's TokenVerifier: typ at+jwt, iss among the trusted
// issuers with keys chosen by issuer, aud holding the resource identifier, exp required, nbf honoured,
// grants from authorization_details, never mixed with draft-07's mercure claim; keys configured or
// from a JWKS served on 127.0.0.1; tokens minted by createAccessToken.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../../src/hub/errors.js';
import { TokenVerifier } from '../../../src/hub/jwt-verifier.js';
import { JwksKeySource } from '../../../src/hub/oauth/jwks.js';
import { configuredKeySource, type KeySource } from '../../../src/hub/oauth/key-source.js';
import { createAccessToken } from '../../../src/hub/tokens.js';
import { SelectorCache } from '../../../src/hub/topic-selector.js';
import { rejected } from './caught.js';

const HUB = 'https://hub.example.com/.well-known/mercure';
const CONTEXT = { resourceIdentifier: HUB, hubUrl: HUB };
const SELF = 'https://app.example.com';
const AS = 'https://auth.example.com';
const SECRET = 'a shared secret of the app and the hub';
const TYPE = 'https://mercure.rocks/authorization-detail';
const EVERYTHING = [{ type: TYPE, actions: ['publish', 'subscribe'], topics: [{ match: '*' }] }];

let server: Server;
let jwksUrl: string;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let verifier: TokenVerifier;

const LIMITS = { maxTokenBytes: 16 * 1024, clockToleranceSeconds: 0 };

/** A verifier of access tokens from these issuers. */
const trusting = (issuers: Array<[string, KeySource[]]>, limits = LIMITS) =>
  new TokenVerifier({ configured: undefined, issuers: new Map(issuers) }, new SelectorCache(), limits);

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'as-1', alg: 'ES256' };
  server = createServer((_req, res) => res.writeHead(200).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  verifier = trusting([
    [SELF, [configuredKeySource({ key: SECRET })]],
    [AS, [new JwksKeySource({ url: jwksUrl })]],
  ]);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Mint {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  key?: CryptoKey | Uint8Array;
}

/** A token of the issuer SELF (HS256) unless told otherwise, valid for a minute. */
function mint({ header = {}, claims = {}, key }: Mint = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const alg = (header.alg as string | undefined) ?? (key === undefined ? 'HS256' : 'ES256');
  return new SignJWT({
    iss: SELF,
    aud: HUB,
    sub: 'urn:uuid:1',
    client_id: SELF,
    jti: `j${Math.random()}`,
    iat: now,
    exp: now + 60,
    authorization_details: EVERYTHING,
    ...claims,
  })
    .setProtectedHeader({ alg, typ: 'at+jwt', ...header })
    .sign(key ?? new TextEncoder().encode(SECRET));
}

const verify = async (token: string | Promise<string>) => verifier.verify(await token, 'draft-08', CONTEXT);
const refusal = async (token: string | Promise<string>) => rejected(HubError, verify(token));

describe('access token verification', () => {
  it('accepts a self-issued token and reads its grants and expiry', async () => {
    const token = await verify(mint());
    expect(token.expiresAt).toBeGreaterThan(Date.now());
    expect(token.grants.publish?.[0]?.matches('urn:any')).toBe(true);
  });

  it('accepts typ application/at+jwt in any case, and nothing but at+jwt', async () => {
    await expect(verify(mint({ header: { typ: 'Application/AT+JWT' } }))).resolves.toBeDefined();
    for (const typ of ['JWT', 'id_token+jwt', undefined]) {
      const error = await refusal(mint({ header: { typ } }));
      expect(error.status, String(typ)).toBe(401);
      expect(error.message).toContain('"typ" header must be "at+jwt"');
    }
  });

  it('answers 401 invalid_token with its challenge', async () => {
    const error = await refusal(mint({ claims: { aud: 'https://other-hub.example/.well-known/mercure' } }));
    expect(error.status).toBe(401);
    expect(error.message).toContain("does not hold this hub's resource identifier");
    expect(error.headers['www-authenticate']).toMatch(
      /^Bearer realm="mercure", error="invalid_token", error_description="[^"]+"$/,
    );
  });

  it('takes aud as a string or an array holding the resource identifier', async () => {
    await expect(verify(mint({ claims: { aud: ['https://other.example', HUB] } }))).resolves.toBeDefined();
  });

  it('requires exp, enforces it and honours nbf', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await refusal(mint({ claims: { exp: undefined } }))).message).toContain('no "exp" claim');
    expect((await refusal(mint({ claims: { exp: now - 10 } }))).message).toContain('expired');
    expect((await refusal(mint({ claims: { nbf: now + 60 } }))).message).toContain('not valid yet');
  });

  it('trusts only configured issuers, and verifies with that issuer’s keys alone', async () => {
    expect((await refusal(mint({ claims: { iss: 'https://evil.example' } }))).message).toContain(
      'not one this hub trusts',
    );
    expect((await refusal(mint({ claims: { iss: undefined } }))).message).toContain('no "iss"');
    // Signed by the authorization server's key, but claiming to be the self-issuer: SELF has an HS256 key only.
    const crossed = await mint({ key: signingKey, header: { kid: 'as-1' } });
    expect((await refusal(crossed)).message).toContain('signed with ES256, which no key trusted');
    // And the other way: the shared secret cannot sign for the authorization server.
    expect((await refusal(mint({ claims: { iss: AS } }))).message).toContain(
      'signed with HS256, which no key trusted',
    );
  });

  it('verifies tokens of an issuer whose keys come from its JWKS, by kid', async () => {
    const token = await mint({ key: signingKey, header: { kid: 'as-1' }, claims: { iss: AS } });
    await expect(verify(token)).resolves.toBeDefined();
    const forged = await mint({ key: otherKey, header: { kid: 'as-1' }, claims: { iss: AS } });
    expect((await refusal(forged)).message).toContain('signature is not valid');
  });

  it('refuses alg none and tokens that bring their own key', async () => {
    const part = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ iss: SELF, aud: HUB, exp: now + 60 })}.`;
    expect((await refusal(unsigned)).status).toBe(401);
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const embedded = await mint({
      key: privateKey,
      header: { jwk: await exportJWK(publicKey) },
      claims: { iss: AS },
    });
    expect((await refusal(embedded)).status).toBe(401);
  });

  it("never mixes draft-07's mercure claim into an access token", async () => {
    const mixed = await mint({ claims: { mercure: { publish: ['*'] } } });
    expect((await refusal(mixed)).message).toContain('"mercure" claim');
  });

  it('fails the token for malformed authorization_details', async () => {
    const bad = await mint({ claims: { authorization_details: [{ type: TYPE, actions: [], topics: [] }] } });
    const error = await refusal(bad);
    expect(error.status).toBe(401);
    expect(error.message).toContain('authorization_details[0].actions');
  });

  it('refuses a token past the size bound before any cryptography', async () => {
    const small = trusting([], { ...LIMITS, maxTokenBytes: 10 });
    await expect(small.verify(await mint(), 'draft-08', CONTEXT)).rejects.toThrow(/longer than 10 bytes/);
  });

  it('answers 503 when the issuer’s key set cannot be had', async () => {
    const down = trusting([[AS, [new JwksKeySource({ url: 'http://127.0.0.1:1/jwks', timeoutMs: 500 })]]]);
    const token = await mint({ key: signingKey, header: { kid: 'as-1' }, claims: { iss: AS } });
    await expect(down.verify(token, 'draft-08', CONTEXT)).rejects.toMatchObject({ status: 503 });
  });

  it('resolves relative URL Pattern grants against the hub URL of the request', async () => {
    const token = await mint({
      claims: {
        authorization_details: [
          {
            type: TYPE,
            actions: ['subscribe'],
            topics: [{ match: '/.well-known/mercure/subscriptions/*', match_type: 'urlpattern' }],
          },
        ],
      },
    });
    const [grant] = (await verify(token)).grants.subscribe ?? [];
    expect(grant?.matches('/.well-known/mercure/subscriptions/exact/a/b')).toBe(true);
    expect(grant?.matches('https://hub.example.com/.well-known/mercure/subscriptions')).toBe(false);
    expect(grant?.matches('https://elsewhere.example/.well-known/mercure/subscriptions/x')).toBe(false);
  });
});

describe('createAccessToken', () => {
  it('mints what the verifier accepts: RFC 9068 claims, grants as authorization_details', async () => {
    const token = await createAccessToken(
      {
        publish: ['https://example.com/books/1'],
        subscribe: [{ match: 'https://example.com/books/:id', match_type: 'urlpattern' }],
        payload: { user: 'ada' },
      },
      SECRET,
      { issuer: SELF, audience: HUB, expiresIn: 120 },
    );
    const [header, claims] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    for (const claim of ['iss', 'aud', 'exp', 'sub', 'client_id', 'iat', 'jti'])
      expect(claims).toHaveProperty(claim);
    expect(claims.exp - claims.iat).toBe(120);
    const { grants } = await verify(token);
    expect(grants.publish?.map((matcher) => matcher.matches('https://example.com/books/1'))).toEqual([true]);
    expect(grants.subscribe?.[0]?.matches('https://example.com/books/7')).toBe(true);
    expect(grants.payloadFor('https://example.com/books/:id')).toEqual({ user: 'ada' });
  });

  it('signs with a PEM private key and expires in an hour by default', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const token = await createAccessToken({ subscribe: ['*'] }, pem, {
      issuer: AS,
      audience: [HUB],
      algorithm: 'ES256',
      subject: 'urn:uuid:ada',
    });
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(3600);
    expect(claims.sub).toBe('urn:uuid:ada');
    expect(claims.client_id).toBe(AS);
    expect(claims.aud).toEqual([HUB]);
  });

  it('refuses a payload without subscribe grants', async () => {
    await expect(
      createAccessToken({ payload: { a: 1 } }, SECRET, { issuer: SELF, audience: HUB }),
    ).rejects.toThrow(/payload goes with subscribe grants/);
  });
});
