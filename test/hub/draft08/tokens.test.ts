// Access tokens (RFC 9068) over HTTP, beside draft-07's tokens on the same hub: how they travel
// (header, then the __Secure-mercure_access_token cookie; never the URL), what each refusal answers
// (401 invalid_token, 403 insufficient_scope, 400 invalid_request, a bare 401 when none came, each
// challenge naming the metadata), the audience (the hub's URL as the request reached it, or the
// configured resource identifier), keys per role and from a JWKS, and exp closing the stream.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessToken, createHub } from '../../../src/hub/index.js';
import { silentLogger } from '../../../src/server/index.js';
import { closeServer, listen, sleep } from '../../helpers/net.js';
import {
  form,
  formHeaders,
  hubsClosedAfterEach,
  ids,
  send,
  sseClosedAfterEach,
  TEST_ISSUER,
  TEST_KEY,
  type TestHub,
  token,
} from '../hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const TOPIC = 'https://example.com/books/1';
const DETAIL = 'https://mercure.rocks/authorization-detail';

const metadataOf = (h: TestHub) => `${h.url}/.well-known/oauth-protected-resource/.well-known/mercure`;

/** Signs any claims as an access token of the test issuer for this hub (jose directly: any claim goes). */
function mint(
  h: TestHub,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: TEST_ISSUER,
    aud: h.hubUrl,
    sub: 'urn:uuid:test',
    client_id: TEST_ISSUER,
    iat: now,
    jti: `urn:uuid:${Math.random()}`,
    exp: now + 60,
    authorization_details: [{ type: DETAIL, actions: ['publish', 'subscribe'], topics: [{ match: '*' }] }],
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...header })
    .sign(new TextEncoder().encode(TEST_KEY));
}

async function publishWith(
  h: TestHub,
  headers: Record<string, string>,
  fields: Record<string, string | string[]> = { topic: TOPIC },
) {
  return send(h.hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form(fields),
  });
}

describe('access tokens travel in the header or the draft-08 cookie', () => {
  it('publish and receive private updates with an access token in the Authorization header', async () => {
    const h = await startHub();
    const reader = await h.accessToken({ subscribe: [TOPIC] });
    const client = await openSse(h.selectUrl([['match', TOPIC]]), {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(client.status).toBe(200);
    const writer = await h.accessToken({ publish: [TOPIC] });
    const published = await h.publish({ topic: TOPIC, id: 'private-1', private: 'on' }, writer);
    expect([published.status, await published.text()]).toEqual([200, 'private-1']);
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['private-1']);
  });

  it('take the __Secure-mercure_access_token cookie; the header wins over any cookie', async () => {
    const h = await startHub();
    const good = await h.accessToken({ subscribe: ['*'] });
    const cookie = await openSse(h.selectUrl([['match', TOPIC]]), {
      headers: { cookie: `__Secure-mercure_access_token=${good}` },
    });
    expect(cookie.status).toBe(200);
    const headerWins = await send(h.selectUrl([['match', TOPIC]]), {
      headers: { authorization: 'Bearer not.a.token', cookie: `__Secure-mercure_access_token=${good}` },
    });
    expect(headerWins.status).toBe(401);
    const overBadCookie = await openSse(h.selectUrl([['match', TOPIC]]), {
      headers: { authorization: `Bearer ${good}`, cookie: '__Secure-mercure_access_token=not.a.token' },
    });
    expect(overBadCookie.status).toBe(200);
    // The draft-08 cookie comes before the draft-07 one.
    const both = await send(h.selectUrl([['match', TOPIC]]), {
      headers: { cookie: `mercureAuthorization=${good}; __Secure-mercure_access_token=not.a.token` },
    });
    expect(both.status).toBe(401);
  });

  it('are refused in the URL with 400 invalid_request, where draft-07 tokens still go', async () => {
    const h = await startHub();
    const access = await h.accessToken({ subscribe: ['*'] });
    const inUrl = await send(
      h.selectUrl([
        ['match', TOPIC],
        ['authorization', access],
      ]),
    );
    expect(inUrl.status).toBe(400);
    expect(inUrl.headers['www-authenticate']).toBe(
      `Bearer realm="mercure", error="invalid_request", error_description="Access tokens are not accepted in the URL: send 'Authorization: Bearer <token>' or the cookie.", resource_metadata="${metadataOf(h)}"`,
    );
    const draft07 = await openSse(
      h.selectUrl([
        ['match', TOPIC],
        ['authorization', await token({ subscribe: ['*'] })],
      ]),
    );
    expect(draft07.status).toBe(200);
  });

  it('answers a malformed Authorization header with 400 invalid_request', async () => {
    const h = await startHub({ anonymous: true });
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Bearer "quoted"']) {
      const answer = await send(h.selectUrl([['match', TOPIC]]), { headers: { authorization: value } });
      expect(answer.status, value).toBe(400);
      expect(answer.headers['www-authenticate'], value).toMatch(
        /^Bearer realm="mercure", error="invalid_request", error_description="[^"]+", resource_metadata="[^"]+"$/,
      );
    }
  });
});

describe('refusals', () => {
  it('answers 401 with a bare challenge naming the metadata when a token is needed and none came', async () => {
    const h = await startHub();
    const expected = `Bearer realm="mercure", resource_metadata="${metadataOf(h)}"`;
    const subscribe = await send(h.selectUrl([['match', TOPIC]]));
    const publish = await publishWith(h, {});
    for (const answer of [subscribe, publish]) {
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe(expected);
      expect(answer.body).toContain('__Secure-mercure_access_token');
    }
  });

  it.each<[string, (h: TestHub) => Promise<string>, string]>([
    ['another audience', (h) => mint(h, { aud: 'https://other.example/.well-known/mercure' }), '"aud"'],
    [
      'an issuer the hub does not trust',
      (h) => mint(h, { iss: 'https://evil.example' }),
      'not one this hub trusts',
    ],
    ['no issuer', (h) => mint(h, { iss: undefined }), 'no "iss"'],
    ['no exp', (h) => mint(h, { exp: undefined }), 'no "exp"'],
    ['an expired one', (h) => mint(h, { exp: Math.floor(Date.now() / 1000) - 10 }), 'expired'],
    ['one not valid yet', (h) => mint(h, { nbf: Math.floor(Date.now() / 1000) + 60 }), 'not valid yet'],
    [
      'the mercure claim beside its details',
      (h) => mint(h, { mercure: { publish: ['*'] } }),
      '"mercure" claim',
    ],
    [
      'authorization_details in a token that is not at+jwt',
      (h) => mint(h, {}, { typ: 'JWT' }),
      '"typ" header must be "at+jwt"',
    ],
    [
      'a malformed detail beside a valid one',
      (h) =>
        mint(h, {
          authorization_details: [
            { type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] },
            { type: DETAIL, actions: ['publish'], topics: [] },
          ],
        }),
      'authorization_details[1].topics',
    ],
    [
      'a matcher type the hub does not support',
      (h) =>
        mint(h, {
          authorization_details: [
            { type: DETAIL, actions: ['publish'], topics: [{ match: 'a', match_type: 'regexp' }] },
          ],
        }),
      'match_type must be "exact" or "urlpattern"',
    ],
    ['a signature of another key', async (h) => `${(await mint(h, {})).slice(0, -4)}AAAA`, 'signature'],
  ])('refuses %s with 401 invalid_token, to publishers and subscribers', async (_name, make, message) => {
    const h = await startHub();
    const bad = await make(h);
    const answers = [
      await publishWith(h, { authorization: `Bearer ${bad}` }),
      await send(h.selectUrl([['match', TOPIC]]), { headers: { authorization: `Bearer ${bad}` } }),
      await send(h.selectUrl([['match', TOPIC]]), {
        headers: { cookie: `__Secure-mercure_access_token=${bad}` },
      }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body).toContain(message);
      expect(answer.headers['www-authenticate']).toMatch(
        new RegExp(
          `^Bearer realm="mercure", error="invalid_token", error_description="[^"]+", resource_metadata="${metadataOf(h)}"$`,
        ),
      );
    }
    expect(h.hub.stats().updatesPublished).toBe(0);
  });

  it('answers 403 insufficient_scope when a valid token does not cover every topic, and publishes nothing', async () => {
    const h = await startHub();
    const watcher = await openSse(h.selectUrl([['match', '*']]), {
      headers: { authorization: `Bearer ${await h.accessToken({ subscribe: ['*'] })}` },
    });
    const booksOnly = await h.accessToken({
      publish: [{ match: 'https://example.com/books/:id', match_type: 'urlpattern' }],
      subscribe: ['*'],
    });
    const alternate = await publishWith(h, { authorization: `Bearer ${booksOnly}` }, {
      topic: [TOPIC, 'https://example.com/authors/1'],
    } as unknown as { topic: string });
    expect(alternate.status).toBe(403);
    expect(alternate.headers['www-authenticate']).toMatch(
      /^Bearer realm="mercure", error="insufficient_scope", /,
    );
    expect(alternate.body).toContain('https://example.com/authors/1');
    const readerOnly = await h.accessToken({ subscribe: ['*'] });
    const noPublish = await publishWith(h, { authorization: `Bearer ${readerOnly}` });
    expect(noPublish.status).toBe(403);
    expect(noPublish.body).toContain('"publish" action');
    expect((await h.publish({ topic: TOPIC, id: 'allowed' }, booksOnly)).status).toBe(200);
    await watcher.waitForEvents(1);
    expect(ids(watcher)).toEqual(['allowed']);
  });
});

describe('the audience: the hub as the request reached it, or the configured resource identifier', () => {
  it('is the hub URL of the request by default: Host, or X-Forwarded-* behind a trusted proxy', async () => {
    const h = await startHub();
    const forThisUrl = await h.accessToken({ publish: ['*'] });
    expect((await h.publish({ topic: TOPIC }, forThisUrl)).status).toBe(200);
    const proxied = await h.accessToken(
      { publish: ['*'] },
      { audience: 'https://hub.example.com/.well-known/mercure' },
    );
    const direct = await publishWith(h, { authorization: `Bearer ${proxied}` });
    expect(direct.status).toBe(401);
    const untrusted = await publishWith(h, {
      authorization: `Bearer ${proxied}`,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'hub.example.com',
    });
    expect(untrusted.status).toBe(401);
    const behindProxy = await startHub({ trustProxy: true });
    const viaProxy = await send(behindProxy.hubUrl, {
      method: 'POST',
      headers: formHeaders(proxied, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hub.example.com' }),
      body: form({ topic: TOPIC }),
    });
    expect(viaProxy.status).toBe(200);
  });

  it('is the configured resource identifier, whatever URL the request used', async () => {
    const resourceIdentifier = 'https://hub.example.com/.well-known/mercure';
    const h = await startHub({ resourceIdentifier });
    expect((await h.publish({ topic: TOPIC }, await h.accessToken({ publish: ['*'] }))).status).toBe(401);
    const configured = await h.accessToken({ publish: ['*'] }, { audience: resourceIdentifier });
    expect((await h.publish({ topic: TOPIC }, configured)).status).toBe(200);
  });
});

describe('keys', () => {
  it("verify each role's tokens with its own key, for both generations", async () => {
    const subscriberKey = 'another-secret-only-for-subscribers-tokens';
    const h = await startHub({ subscriberJwt: { key: subscriberKey } });
    const signedWithPublisherKey = await h.accessToken({ subscribe: ['*'] });
    const refused = await send(h.selectUrl([['match', TOPIC]]), {
      headers: { authorization: `Bearer ${signedWithPublisherKey}` },
    });
    expect(refused.status).toBe(401);
    const subscriberToken = await createAccessToken({ subscribe: ['*'] }, subscriberKey, {
      issuer: TEST_ISSUER,
      audience: h.hubUrl,
    });
    const accepted = await openSse(h.selectUrl([['match', TOPIC]]), {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    expect(accepted.status).toBe(200);
  });

  describe("from the issuer's JWKS", () => {
    let jwksServer: Server;
    let jwksUrl: string;
    let signing: CryptoKey;
    const AS = 'https://auth.example.com';

    beforeAll(async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      signing = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
      jwksServer = createServer((_req, res) => {
        res
          .writeHead(200, { 'content-type': 'application/jwk-set+json' })
          .end(JSON.stringify({ keys: [jwk] }));
      });
      jwksUrl = `${await listen(jwksServer)}/jwks.json`;
    });
    afterAll(() => closeServer(jwksServer));

    it('verifies its tokens with the set’s keys, by kid, and nothing signed otherwise', async () => {
      const h = await startHub({ publisherJwt: undefined, issuer: AS, jwksUrl });
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: AS,
        aud: h.hubUrl,
        sub: 'urn:uuid:svc',
        client_id: 'svc',
        iat: now,
        jti: 'j1',
        exp: now + 60,
        authorization_details: [{ type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] }],
      };
      const good = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
        .sign(signing);
      expect((await h.publish({ topic: TOPIC }, good)).status).toBe(200);
      const other = (await generateKeyPair('ES256')).privateKey;
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
        .sign(other);
      expect((await h.publish({ topic: TOPIC }, forged)).status).toBe(401);
      // The hub has no configured key: a draft-07 token cannot be checked.
      const draft07 = await h.publish({ topic: TOPIC }, await token({ publish: ['*'] }));
      expect(draft07.status).toBe(401);
    });

    it('is loaded before the hub is ready: a set that cannot be had fails ready()', async () => {
      const down = createHub({ issuer: AS, jwksUrl: 'http://127.0.0.1:1/jwks.json', logger: silentLogger });
      await expect(down.ready()).rejects.toThrow(/could not be loaded/);
      await down.close();
      expect(() => createHub({ jwksUrl, logger: silentLogger })).toThrow(/jwksUrl needs issuer/);
    });
  });
});

describe('the stream of an access token', () => {
  it('closes at its exp', async () => {
    const h = await startHub();
    const shortLived = await h.accessToken({ subscribe: ['*'] }, { expiresIn: 1 });
    const client = await openSse(h.selectUrl([['match', TOPIC]]), {
      headers: { authorization: `Bearer ${shortLived}` },
    });
    expect(client.status).toBe(200);
    await sleep(100);
    expect(client.isEnded()).toBe(false);
    await client.ended;
    expect(h.hub.stats().subscribers).toBe(0);
  });
});
