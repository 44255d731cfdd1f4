// Bad tokens against the standalone server (createHubServer): test/hub/auth.test.ts refuses them
// through node:http; here subscriptions go through the fast path, which writes its refusals
// itself, and the list adds registered claims of the wrong type, another HMAC algorithm, a `crit`
// header, a JWE and more. Each is refused with 401 and `WWW-Authenticate: Bearer … error=…`, in
// every place a token may come (header, query, cookie), and the hub goes on serving.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { type JWTPayload, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createToken } from '../../src/hub/index.js';
import { H2_TEST_KEY, type ServedHub, serveHub } from '../helpers/http2.js';
import { waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { form, formHeaders, send } from '../hub/hub-helpers.js';

const defer = cleanupAfterEach();

const TOPIC = 'https://example.com/tokens';
const ALL = { mercure: { publish: ['*'], subscribe: ['*'] } };
const key = new TextEncoder().encode(H2_TEST_KEY);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const hs256 = (payload: Record<string, unknown>) =>
  new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'HS256' }).sign(key);

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const cases: Array<[string, () => Promise<string>]> = [
  ['alg: none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(ALL)}.`],
  ['alg: "None", with a signature', async () => `${b64({ alg: 'None' })}.${b64(ALL)}.c2lnbmF0dXJl`],
  ['no alg at all', async () => `${b64({ typ: 'JWT' })}.${b64(ALL)}.c2lnbmF0dXJl`],
  [
    'a wrong key',
    () => createToken({ publish: ['*'], subscribe: ['*'] }, 'another-secret-of-a-decent-length'),
  ],
  [
    'HS384 with the right secret (the hub takes HS256)',
    () => new SignJWT(ALL).setProtectedHeader({ alg: 'HS384' }).sign(key),
  ],
  [
    'RS256 (HMAC/RSA confusion the other way)',
    () => createToken({ publish: ['*'] }, privatePem, { algorithm: 'RS256' }),
  ],
  [
    'HS256 signed with a public key as the secret',
    () => new SignJWT(ALL).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(publicPem)),
  ],
  ['expired', () => hs256({ ...ALL, exp: now() - 60 })],
  ['not yet valid (nbf)', () => hs256({ ...ALL, nbf: now() + 600 })],
  ['"exp" a string', () => hs256({ ...ALL, exp: 'tomorrow' })],
  ['"nbf" an object', () => hs256({ ...ALL, nbf: { at: 1 } })],
  ['"iat" a string', () => hs256({ ...ALL, iat: 'now' })],
  [
    'an unknown "crit" header, signed with the right secret',
    async () => {
      // jose will not sign this: HMAC by hand.
      const input = `${b64({ alg: 'HS256', crit: ['x-unknown'], 'x-unknown': 1 })}.${b64(ALL)}`;
      return `${input}.${createHmac('sha256', H2_TEST_KEY).update(input).digest('base64url')}`;
    },
  ],
  ['malformed', async () => 'not-a-jwt'],
  ['two parts', async () => `${b64({ alg: 'HS256' })}.${b64(ALL)}`],
  ['five parts (a JWE)', async () => `${b64({ alg: 'dir', enc: 'A256GCM' })}..aXY.Y2lwaGVy.dGFn`],
  [
    'a payload that is not JSON',
    async () => `${b64({ alg: 'HS256' })}.${Buffer.from('{nope').toString('base64url')}.c2ln`,
  ],
  [
    'a tampered payload',
    async () => {
      const [header, , signature] = (await createToken({ publish: [TOPIC] }, H2_TEST_KEY)).split('.');
      return `${header}.${b64(ALL)}.${signature}`;
    },
  ],
  ['over maxTokenBytes', () => hs256({ ...ALL, padding: 'x'.repeat(2000) })],
  ['"mercure" a string', () => hs256({ mercure: 'publish everything' })],
  ['"mercure.publish" a string', () => hs256({ mercure: { publish: '*' } })],
  ['"mercure.subscribe" numbers', () => hs256({ mercure: { subscribe: [1, 2] } })],
];

async function standalone(): Promise<ServedHub> {
  const served = await serveHub({ anonymous: true, maxTokenBytes: 1024 }, { plain: true });
  defer(() => served.close());
  return served;
}

describe('bad tokens against the standalone server', () => {
  it.each(cases)(
    'refuses %s with 401 and WWW-Authenticate, wherever it comes, and goes on',
    async (_name, make) => {
      const h = await standalone();
      const watcher = await openSse(h.subscribeUrl(['*']), {
        headers: { authorization: `Bearer ${h.publisherToken}` },
      });
      defer(() => watcher.close());
      const bad = await make();
      const answers = [
        // Subscriptions (the fast path): header, query parameter, cookie.
        await send(h.subscribeUrl([TOPIC]), { headers: { authorization: `Bearer ${bad}` } }),
        await send(h.subscribeUrl([TOPIC], { authorization: bad })),
        await send(h.subscribeUrl([TOPIC]), { headers: { cookie: `mercureAuthorization=${bad}` } }),
        // A publish (node:http).
        await send(h.hubUrl, {
          method: 'POST',
          headers: formHeaders(bad),
          body: form({ topic: TOPIC, id: 'refused' }),
        }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(401);
        // The challenge names the hub's protected resource metadata (RFC 9728), for either transport.
        expect(answer.headers['www-authenticate']).toBe(
          `Bearer realm="mercure", error="invalid_token", error_description="${answer.body.trim().replace(/"/g, "'")}", resource_metadata="${h.url}/.well-known/oauth-protected-resource/.well-known/mercure"`,
        );
        expect(answer.body.length).toBeGreaterThan(0);
      }
      expect(await h.publish({ topic: TOPIC, id: 'after' })).toBe(200);
      await waitFor(() => watcher.events.length === 1, 5000, 'the update after');
      expect(watcher.events.map((event) => event.lastEventId)).toEqual(['after']);
    },
  );
});
