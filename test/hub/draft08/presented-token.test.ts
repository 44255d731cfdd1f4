// Which token a request presents and of which generation: header first, then (draft-07) the
// authorization query parameter, then the draft-08 cookie, then the draft-07 one; at+jwt decides
// the generation; no draft-08 token in the URL; no draft-07 token while draft-07 is off.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../../src/hub/errors.js';
import {
  ACCESS_TOKEN_COOKIE,
  type CredentialOptions,
  presentedCredential,
  tokenGeneration,
} from '../../../src/hub/oauth/presented-token.js';
import { thrown } from './caught.js';

const KEY = new TextEncoder().encode('secret');
const ON: CredentialOptions = { draft07: true };
const OFF: CredentialOptions = { ...ON, draft07: false };

const draft07 = (claims: Record<string, unknown> = { mercure: { subscribe: ['*'] } }) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(KEY);
const draft08 = () =>
  new SignJWT({ authorization_details: [] }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(KEY);

const refusal = (run: () => unknown) => thrown(HubError, run);

describe('presented credentials', () => {
  it('take the header first, a cookie beside it ignored', async () => {
    const [header, cookie] = [await draft08(), await draft07()];
    const found = presentedCredential(
      { authorization: `Bearer ${header}`, cookie: `${ACCESS_TOKEN_COOKIE}=${cookie}` },
      new URLSearchParams(),
      ON,
    );
    expect(found).toEqual({ token: header, carrier: 'header', generation: 'draft-08' });
    expect(presentedCredential({ authorization: `bearer ${header}` }, new URLSearchParams(), ON)?.token).toBe(
      header,
    );
  });

  it('take the draft-08 cookie before the draft-07 one, which counts only while draft-07 is on', async () => {
    const [new08, old07] = [await draft08(), await draft07()];
    const both = { cookie: `mercureAuthorization=${old07}; ${ACCESS_TOKEN_COOKIE}=${new08}` };
    expect(presentedCredential(both, new URLSearchParams(), ON)).toMatchObject({
      token: new08,
      carrier: 'cookie',
    });
    const legacy = { cookie: `mercureAuthorization=${old07}` };
    expect(presentedCredential(legacy, new URLSearchParams(), ON)?.generation).toBe('draft-07');
    expect(presentedCredential(legacy, new URLSearchParams(), OFF)).toBeUndefined();
    const renamed = { cookie: `hubToken=${old07}` };
    expect(
      presentedCredential(renamed, new URLSearchParams(), { ...ON, draft07CookieName: 'hubToken' })?.token,
    ).toBe(old07);
  });

  it('take a draft-07 token from the query as draft-07 did, never a draft-08 one', async () => {
    const old07 = await draft07();
    expect(presentedCredential({}, new URLSearchParams({ authorization: old07 }), ON)).toEqual({
      token: old07,
      carrier: 'query',
      generation: 'draft-07',
    });
    const inUrl = refusal(() => presentedCredential({}, new URLSearchParams({ authorization: 'x' }), OFF));
    expect(inUrl.status).toBe(400);
    const new08 = await draft08();
    const error = refusal(() => presentedCredential({}, new URLSearchParams({ authorization: new08 }), ON));
    expect(error.status).toBe(400);
    expect(error.headers['www-authenticate']).toContain('error="invalid_request"');
  });

  it('answer 400 invalid_request for an Authorization header that is not "Bearer <token>"', () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Bearer "quoted"']) {
      const error = refusal(() => presentedCredential({ authorization }, new URLSearchParams(), ON));
      expect(error.status, authorization).toBe(400);
      expect(error.headers['www-authenticate']).toMatch(/^Bearer realm="mercure", error="invalid_request"/);
    }
  });

  it('refuse a draft-07 token while draft-07 is off', async () => {
    const token = await draft07();
    const error = refusal(() =>
      presentedCredential({ authorization: `Bearer ${token}` }, new URLSearchParams(), OFF),
    );
    expect(error.status).toBe(401);
    expect(error.message).toContain('draft-07 tokens are turned off');
  });

  it('tell the generation by typ alone', async () => {
    expect(tokenGeneration(await draft08(), ON)).toBe('draft-08');
    expect(tokenGeneration(await draft07(), ON)).toBe('draft-07');
    // Its claims are the verifier's to refuse (token-format.test.ts).
    expect(tokenGeneration(await draft07({ authorization_details: [] }), ON)).toBe('draft-07');
    expect(tokenGeneration('not.a.token', ON)).toBe('draft-07');
    expect(tokenGeneration('not.a.token', OFF)).toBe('draft-08');
  });
});
