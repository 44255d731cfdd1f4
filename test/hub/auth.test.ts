import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createToken, type JwtAlgorithm } from '../../src/hub/index.js';
import { sleep, waitFor } from '../helpers/net.js';
import type { SseConnection } from '../helpers/sse-client.js';
import {
  form,
  formHeaders,
  hubsClosedAfterEach,
  ids,
  send,
  sseClosedAfterEach,
  TEST_KEY,
  type TestHub,
  token,
} from './hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const TOPIC = 'https://example.com/books/1';

/** Signs any payload (jose directly: createToken always writes a well-formed `mercure` claim). */
function sign(payload: Record<string, unknown>, key = TEST_KEY): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(key));
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function pemPair(type: 'rsa' | 'ec' | 'ed25519') {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return {
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Subscribes; resolves to the answer's status and headers once they arrive (the stream is then closed). */
async function subscribeAnswer(
  h: TestHub,
  headers: Record<string, string>,
  query: Record<string, string> = {},
) {
  const answer = await openSse(h.subscribeUrl([TOPIC], query), { headers });
  answer.close();
  return { status: answer.status, wwwAuthenticate: answer.headers['www-authenticate'] };
}

function subscribeStatus(h: TestHub, bearer: string) {
  return subscribeAnswer(h, { authorization: `Bearer ${bearer}` });
}

async function publishStatus(h: TestHub, bearer: string, fields: Record<string, string | string[]> = {}) {
  const answer = await send(h.hubUrl, {
    method: 'POST',
    headers: formHeaders(bearer),
    body: form({ topic: TOPIC, data: 'x', ...fields }),
  });
  return { status: answer.status, wwwAuthenticate: answer.headers['www-authenticate'], body: answer.body };
}

/** A subscriber to everything, to prove a refused publish reached nobody. */
async function watcher(h: TestHub): Promise<SseConnection> {
  const client = await openSse(h.subscribeUrl(['*']), {
    headers: { authorization: `Bearer ${await token({ subscribe: ['*'] })}` },
  });
  expect(client.status).toBe(200);
  return client;
}

describe('hub auth: who may subscribe', () => {
  it('answers 401 with WWW-Authenticate: Bearer realm="mercure" when no token comes, to subscribers and publishers', async () => {
    const h = await startHub();
    // The challenge carries no error code (RFC 6750 §3.1) and names the hub's metadata (RFC 9728).
    const challenge = `Bearer realm="mercure", resource_metadata="${h.url}/.well-known/oauth-protected-resource/.well-known/mercure"`;
    const subscriber = await send(h.subscribeUrl([TOPIC]));
    expect(subscriber.status).toBe(401);
    expect(subscriber.headers['www-authenticate']).toBe(challenge);
    expect(subscriber.body).toContain('needs a JWT');
    const publisher = await send(h.hubUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ topic: TOPIC }),
    });
    expect(publisher.status).toBe(401);
    expect(publisher.headers['www-authenticate']).toBe(challenge);
  });

  it('lets subscribers in without a token only when anonymous is on; publishers never', async () => {
    const h = await startHub({ anonymous: true });
    const client = await openSse(h.subscribeUrl([TOPIC]));
    expect(client.status).toBe(200);
    const publisher = await send(h.hubUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ topic: TOPIC }),
    });
    expect(publisher.status).toBe(401);
    await h.publish({ topic: TOPIC, id: 'a1' });
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['a1']);
  });

  it('takes the token from the Authorization header, then the authorization query parameter, then the cookie', async () => {
    const h = await startHub();
    const good = await token({ subscribe: ['https://example.com/good'] });
    const bad = await createToken({ subscribe: ['*'] }, 'not-the-hub-key');
    const cookie = (value: string) => `theme=dark; mercureAuthorization=${value}; lang=id`;
    const status = async (headers: Record<string, string>, query: Record<string, string> = {}) =>
      (await subscribeAnswer(h, headers, query)).status;
    // Each carrier works alone.
    expect(await status({ authorization: `Bearer ${good}` })).toBe(200);
    expect(await status({}, { authorization: good })).toBe(200);
    expect(await status({ cookie: cookie(good) })).toBe(200);
    // The first carrier present decides, valid or not.
    expect(await status({ authorization: `Bearer ${good}` }, { authorization: bad })).toBe(200);
    expect(await status({ authorization: `Bearer ${bad}` }, { authorization: good })).toBe(401);
    expect(await status({ cookie: cookie(bad) }, { authorization: good })).toBe(200);
    expect(await status({ cookie: cookie(good) }, { authorization: bad })).toBe(401);
    expect(await status({ authorization: `Bearer ${good}`, cookie: cookie(bad) })).toBe(200);
    // A bad header token wins over a good cookie.
    expect(await status({ authorization: `Bearer ${bad}`, cookie: cookie(good) })).toBe(401);
    // A cookie of another name is not the hub's.
    expect(await status({ cookie: `other=${good}` })).toBe(401);
  });

  it("uses the winning carrier's claims: the private updates of the header token, not the cookie's", async () => {
    const h = await startHub();
    const headerToken = await token({ subscribe: ['https://example.com/header/{id}'] });
    const cookieToken = await token({ subscribe: ['https://example.com/cookie/{id}'] });
    const queryToken = await token({ subscribe: ['https://example.com/query/{id}'] });
    const topics = [
      'https://example.com/header/{id}',
      'https://example.com/cookie/{id}',
      'https://example.com/query/{id}',
    ];
    const byHeader = await openSse(h.subscribeUrl(topics, { authorization: queryToken }), {
      headers: { authorization: `Bearer ${headerToken}`, cookie: `mercureAuthorization=${cookieToken}` },
    });
    const byQuery = await openSse(h.subscribeUrl(topics, { authorization: queryToken }), {
      headers: { cookie: `mercureAuthorization=${cookieToken}` },
    });
    const byCookie = await openSse(h.subscribeUrl(topics), {
      headers: { cookie: `mercureAuthorization=${cookieToken}` },
    });
    for (const name of ['header', 'cookie', 'query']) {
      await h.publish({ topic: `https://example.com/${name}/1`, private: 'on', id: name });
    }
    await h.publish({ topic: 'https://example.com/header/2', id: 'public' });
    for (const client of [byHeader, byQuery, byCookie]) await waitFor(() => ids(client).includes('public'));
    expect(ids(byHeader)).toEqual(['header', 'public']);
    expect(ids(byQuery)).toEqual(['query', 'public']);
    expect(ids(byCookie)).toEqual(['cookie', 'public']);
  });

  it('also reads a cookie of the configured name', async () => {
    const h = await startHub({ cookieName: 'hubToken' });
    const good = await token({});
    expect((await subscribeAnswer(h, { cookie: `hubToken=${good}` })).status).toBe(200);
    expect((await subscribeAnswer(h, { cookie: `mercureAuthorization=${good}` })).status).toBe(401);
  });
});

describe('hub auth: invalid tokens', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, (h: TestHub) => Promise<string>]> = [
    [
      'alg: none',
      async () =>
        `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ mercure: { publish: ['*'], subscribe: ['*'] } })}.`,
    ],
    [
      'a wrong key',
      () => createToken({ publish: ['*'], subscribe: ['*'] }, 'some-other-secret-of-decent-length'),
    ],
    ['an expired token', () => token({ publish: ['*'], subscribe: ['*'] }, { expiresIn: -30 })],
    [
      'a token not yet valid (nbf)',
      () => sign({ nbf: now() + 60, mercure: { publish: ['*'], subscribe: ['*'] } }),
    ],
    ['a malformed token', async () => 'not-a-jwt'],
    ['three parts of garbage', async () => 'abc.def.ghi'],
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await token({ publish: [TOPIC] })).split('.');
        return `${header}.${base64url({ mercure: { publish: ['*'], subscribe: ['*'] } })}.${signature}`;
      },
    ],
    [
      'a token over maxTokenBytes',
      () => token({ publish: ['*'], subscribe: ['*'], payload: 'x'.repeat(600) }),
    ],
    ['a "mercure" claim that is a string', () => sign({ mercure: 'publish everything' })],
    ['a "mercure" claim that is an array', () => sign({ mercure: ['*'] })],
    ['"mercure.publish" a string', () => sign({ mercure: { publish: '*' } })],
    ['"mercure.publish" an array of numbers', () => sign({ mercure: { publish: [1, 2] } })],
    ['"mercure.subscribe" an object', () => sign({ mercure: { subscribe: { topic: '*' } } })],
  ];

  it.each(cases)(
    'refuses %s with 401 and error="invalid_token", on subscribe (even with anonymous on) and publish',
    async (_name, make) => {
      const h = await startHub({ anonymous: true, maxTokenBytes: 512 });
      const watching = await watcher(h);
      const bad = await make(h);
      const subscribed = await subscribeStatus(h, bad);
      expect(subscribed.status).toBe(401);
      expect(subscribed.wwwAuthenticate).toMatch(/^Bearer realm="mercure", error="invalid_token"/);
      const published = await publishStatus(h, bad, { id: 'refused' });
      expect(published.status).toBe(401);
      expect(published.wwwAuthenticate).toContain('error="invalid_token"');
      // Also by query parameter and cookie.
      expect((await send(h.subscribeUrl([TOPIC], { authorization: bad }))).status).toBe(401);
      expect(
        (await send(h.subscribeUrl([TOPIC]), { headers: { cookie: `mercureAuthorization=${bad}` } })).status,
      ).toBe(401);
      await h.publish({ topic: TOPIC, id: 'after' });
      await watching.waitForEvents(1);
      expect(ids(watching)).toEqual(['after']);
    },
  );

  // A malformed request is a 400 (RFC 6750 §3.1, and draft-08 §"Error Responses"); it was a 401.
  it('refuses an Authorization header that is not "Bearer <token>" with 400 and error="invalid_request"', async () => {
    const h = await startHub({ anonymous: true });
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b']) {
      const answer = await send(h.subscribeUrl([TOPIC]), { headers: { authorization: value } });
      expect(answer.status, value).toBe(400);
      expect(answer.headers['www-authenticate']).toContain('error="invalid_request"');
    }
  });

  it('refuses an HS256 token signed with the public key when the hub is configured RS256 (algorithm confusion)', async () => {
    const { publicPem, privatePem } = pemPair('rsa');
    const h = await startHub({ publisherJwt: { key: publicPem, algorithm: 'RS256' } });
    const confused = await createToken({ publish: ['*'], subscribe: ['*'] }, publicPem, {
      algorithm: 'HS256',
    });
    // The same bytes as the HMAC secret, by jose directly too.
    const confusedRaw = await new SignJWT({ mercure: { publish: ['*'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(publicPem));
    for (const bad of [confused, confusedRaw]) {
      expect((await publishStatus(h, bad)).status).toBe(401);
      const subscribed = await subscribeStatus(h, bad);
      expect(subscribed.status).toBe(401);
      expect(subscribed.wwwAuthenticate).toContain('error="invalid_token"');
    }
    const good = await createToken({ publish: ['*'] }, privatePem, { algorithm: 'RS256' });
    expect((await publishStatus(h, good)).status).toBe(200);
  });

  it('refuses an RS256 token when the hub is configured HS256', async () => {
    const { privatePem } = pemPair('rsa');
    const h = await startHub();
    const rs = await createToken({ publish: ['*'], subscribe: ['*'] }, privatePem, { algorithm: 'RS256' });
    const published = await publishStatus(h, rs);
    expect(published.status).toBe(401);
    expect(published.wwwAuthenticate).toContain('error="invalid_token"');
    expect((await subscribeStatus(h, rs)).status).toBe(401);
  });

  it('refuses to start HS256 with a public key as the secret', async () => {
    const { publicPem } = pemPair('ec');
    await expect(startHub({ publisherJwt: { key: publicPem, algorithm: 'HS256' } })).rejects.toMatchObject({
      code: 'invalid-option',
    });
  });
});

describe('hub auth: keys', () => {
  const kinds: Array<[JwtAlgorithm, 'rsa' | 'ec' | 'ed25519']> = [
    ['RS256', 'rsa'],
    ['PS256', 'rsa'],
    ['ES256', 'ec'],
    ['EdDSA', 'ed25519'],
  ];
  it.each(kinds)('checks %s tokens with a public key', async (algorithm, type) => {
    const { publicPem, privatePem } = pemPair(type);
    const other = pemPair(type);
    const h = await startHub({ publisherJwt: { key: publicPem, algorithm } });
    const subscriberToken = await createToken({ subscribe: [TOPIC] }, privatePem, { algorithm });
    const client = await openSse(h.subscribeUrl([TOPIC]), {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    expect(client.status).toBe(200);
    const publisher = await createToken({ publish: [TOPIC] }, privatePem, { algorithm });
    const published = await publishStatus(h, publisher, { id: 'k1', private: 'on' });
    expect(published).toMatchObject({ status: 200, body: 'k1' });
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['k1']);
    // Signed by another key of the same kind: refused.
    const forged = await createToken({ publish: ['*'] }, other.privatePem, { algorithm });
    expect((await publishStatus(h, forged)).status).toBe(401);
  });

  it('checks publishers and subscribers with separate keys', async () => {
    const publisherKey = 'publisher-secret-publisher-secret-32';
    const subscriberKey = 'subscriber-secret-subscriber-secret';
    const h = await startHub({ publisherJwt: { key: publisherKey }, subscriberJwt: { key: subscriberKey } });
    const asSubscriber = await createToken({ publish: ['*'], subscribe: ['*'] }, subscriberKey);
    const asPublisher = await createToken({ publish: ['*'], subscribe: ['*'] }, publisherKey);
    expect((await subscribeStatus(h, asSubscriber)).status).toBe(200);
    expect((await subscribeStatus(h, asPublisher)).status).toBe(401);
    expect((await publishStatus(h, asPublisher)).status).toBe(200);
    expect((await publishStatus(h, asSubscriber)).status).toBe(401);
  });

  it('checks subscribers with an RSA key and publishers with an HMAC secret', async () => {
    const { publicPem, privatePem } = pemPair('rsa');
    const h = await startHub({ subscriberJwt: { key: publicPem, algorithm: 'RS256' } });
    expect((await subscribeStatus(h, await createToken({}, privatePem, { algorithm: 'RS256' }))).status).toBe(
      200,
    );
    expect((await subscribeStatus(h, await token({}))).status).toBe(401);
    expect((await publishStatus(h, await token({ publish: ['*'] }))).status).toBe(200);
  });
});

describe('hub auth: what a publisher may publish', () => {
  it('refuses with 403 an update with one topic the claim does not cover, and delivers none of it', async () => {
    const h = await startHub();
    const watching = await watcher(h);
    const onlyBooks = await token({ publish: ['https://example.com/books/{id}'] });
    const mixed = await publishStatus(h, onlyBooks, {
      topic: ['https://example.com/books/1', 'https://example.com/authors/1'],
      id: 'mixed',
    });
    expect(mixed.status).toBe(403);
    expect(mixed.body).toContain('https://example.com/authors/1');
    const alternateRefused = await publishStatus(h, onlyBooks, {
      topic: ['https://example.com/authors/2', 'https://example.com/books/2'],
      id: 'mixed-2',
    });
    expect(alternateRefused.status).toBe(403);
    const allowed = await publishStatus(h, onlyBooks, {
      topic: 'https://example.com/books/3',
      id: 'allowed',
    });
    expect(allowed.status).toBe(200);
    await watching.waitForEvents(1);
    await sleep(50);
    expect(ids(watching)).toEqual(['allowed']);
    expect(h.hub.stats().updatesPublished).toBe(1);
  });

  it('refuses with 403 a token whose publish claim is missing or empty', async () => {
    const h = await startHub();
    const watching = await watcher(h);
    for (const claim of [{}, { publish: [] }, { subscribe: ['*'] }]) {
      const answer = await publishStatus(h, await token(claim), { id: 'never' });
      expect(answer.status, JSON.stringify(claim)).toBe(403);
      expect(answer.body).toContain('"mercure.publish"');
    }
    expect((await publishStatus(h, await sign({ sub: 'no mercure claim' }))).status).toBe(403);
    await h.publish({ topic: TOPIC, id: 'after' });
    await watching.waitForEvents(1);
    expect(ids(watching)).toEqual(['after']);
  });

  it('guards a publish authorized by the cookie alone: Origin, else Referer, must be an allowed publish origin', async () => {
    const h = await startHub({ publishOrigins: ['https://app.example.com'] });
    const watching = await watcher(h);
    const cookie = `mercureAuthorization=${await token({ publish: ['*'] })}`;
    const post = (headers: Record<string, string>, id: string) =>
      send(h.hubUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
        body: form({ topic: TOPIC, id }),
      });
    const none = await post({}, 'none');
    expect(none.status).toBe(403);
    expect(none.body).toContain('Origin or a Referer');
    const otherOrigin = await post({ origin: 'https://evil.example.com' }, 'evil');
    expect(otherOrigin.status).toBe(403);
    expect(otherOrigin.body).toContain('https://evil.example.com');
    expect((await post({ origin: 'https://app.example.com.evil.com' }, 'suffix')).status).toBe(403);
    expect((await post({ referer: 'https://evil.example.com/page' }, 'evil-referer')).status).toBe(403);
    // Origin wins over Referer.
    expect(
      (await post({ origin: 'https://evil.example.com', referer: 'https://app.example.com/page' }, 'both'))
        .status,
    ).toBe(403);
    expect((await post({ referer: 'not a url' }, 'garbage')).status).toBe(403);
    const byOrigin = await post({ origin: 'https://app.example.com' }, 'by-origin');
    expect(byOrigin.status).toBe(200);
    expect(byOrigin.body).toBe('by-origin');
    const byReferer = await post({ referer: 'https://app.example.com/books?page=2' }, 'by-referer');
    expect(byReferer.status).toBe(200);
    // A token in the header needs no Origin: it cannot be sent by a forged cross-site form.
    expect((await publishStatus(h, await token({ publish: ['*'] }), { id: 'by-header' })).status).toBe(200);
    await watching.waitForEvents(3);
    await sleep(50);
    expect(ids(watching)).toEqual(['by-origin', 'by-referer', 'by-header']);
  });

  it('refuses every cookie publish when no publish origin is configured', async () => {
    const h = await startHub();
    const answer = await send(h.hubUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `mercureAuthorization=${await token({ publish: ['*'] })}`,
        origin: h.url,
      },
      body: form({ topic: TOPIC }),
    });
    expect(answer.status).toBe(403);
  });
});

describe('hub auth: private updates', () => {
  it('reach only subscribers whose subscribe claim matches the canonical topic or an alternate', async () => {
    const h = await startHub({ anonymous: true });
    const connect = async (claim: string[] | undefined) => {
      const headers: Record<string, string> = {};
      if (claim !== undefined) headers.authorization = `Bearer ${await token({ subscribe: claim })}`;
      return openSse(h.subscribeUrl(['https://example.com/books/{id}']), { headers });
    };
    const anonymous = await connect(undefined);
    const emptyClaim = await connect([]);
    const canonical = await connect(['https://example.com/books/1']);
    const alternate = await connect(['https://example.com/users/ada/{?topic}']);
    const template = await connect(['https://example.com/books/{id}']);
    const everything = await connect(['*']);
    const unrelated = await connect(['https://example.com/books/2']);
    await waitFor(() => h.hub.stats().subscribers === 7);
    await h.publish({
      topic: ['https://example.com/books/1', 'https://example.com/users/ada/?topic=books'],
      private: 'on',
      id: 'private-1',
    });
    await h.publish({ topic: 'https://example.com/books/1', private: 'on', id: 'private-2' });
    await h.publish({ topic: 'https://example.com/books/9', id: 'public' });
    const all = [anonymous, emptyClaim, canonical, alternate, template, everything, unrelated];
    for (const client of all) await waitFor(() => ids(client).includes('public'));
    expect(ids(anonymous)).toEqual(['public']);
    expect(ids(emptyClaim)).toEqual(['public']);
    expect(ids(unrelated)).toEqual(['public']);
    expect(ids(canonical)).toEqual(['private-1', 'private-2', 'public']);
    expect(ids(alternate)).toEqual(['private-1', 'public']);
    expect(ids(template)).toEqual(['private-1', 'private-2', 'public']);
    expect(ids(everything)).toEqual(['private-1', 'private-2', 'public']);
  });
});

describe('hub auth: token expiry', () => {
  it("closes a subscriber's stream when its token expires, not long before", async () => {
    const h = await startHub();
    // `exp` is in whole seconds: 2 s ahead is between 1 and 2 s from now.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const expiring = await sign({ exp, mercure: { subscribe: [] } });
    const lasting = await token({}, { expiresIn: 3600 });
    const client = await openSse(h.subscribeUrl([TOPIC]), {
      headers: { authorization: `Bearer ${expiring}` },
    });
    const other = await openSse(h.subscribeUrl([TOPIC]), { headers: { authorization: `Bearer ${lasting}` } });
    expect(client.status).toBe(200);
    await h.publish({ topic: TOPIC, id: 'before' });
    await client.waitForEvents(1);
    let endedAt = 0;
    void client.ended.then(() => {
      endedAt = Date.now();
    });
    await sleep(Math.max(0, exp * 1000 - Date.now() - 250));
    expect(client.isEnded()).toBe(false);
    await client.ended;
    expect(endedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(endedAt).toBeLessThan(exp * 1000 + 1500);
    expect(other.isEnded()).toBe(false);
    await h.publish({ topic: TOPIC, id: 'after' });
    await other.waitForEvents(2);
    expect(ids(other)).toEqual(['before', 'after']);
    expect(ids(client)).toEqual(['before']);
    await waitFor(() => h.hub.stats().subscribers === 1);
  });
});
