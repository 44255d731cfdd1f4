// The hub as an OAuth 2.0 protected resource (RFC 9728): its metadata document at
// /.well-known/oauth-protected-resource/.well-known/mercure, behind the hub's CORS, and the
// resource_metadata every Bearer challenge names, on both transports (node:http, and the standalone
// server's subscriptions on bare sockets).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { serveHub } from '../../helpers/http2.js';
import { cleanupAfterEach } from '../../helpers/teardown.js';
import { hubsClosedAfterEach, send, tempDirsRemovedAfterEach } from '../hub-helpers.js';

const startHub = hubsClosedAfterEach();
const tempDir = tempDirsRemovedAfterEach();
const defer = cleanupAfterEach();

const PATH = '/.well-known/oauth-protected-resource/.well-known/mercure';

describe('protected resource metadata', () => {
  it('names the hub as the request reached it, how tokens come, and what it supports', async () => {
    const h = await startHub();
    const answer = await send(`${h.url}${PATH}`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      resource: h.hubUrl,
      bearer_methods_supported: ['header'],
      authorization_details_types_supported: ['https://mercure.rocks/authorization-detail'],
      mercure_cookie: '__Secure-mercure_access_token',
      mercure_matcher_types_supported: ['exact', 'urlpattern'],
    });
    const viaOtherHost = await send(`${h.url}${PATH}`, { headers: { host: 'hub.example.com' } });
    expect(JSON.parse(viaOtherHost.body).resource).toBe('http://hub.example.com/.well-known/mercure');
  });

  it('names the configured resource identifier and the subscriptions feature; no server for self-issued tokens', async () => {
    const h = await startHub({
      resourceIdentifier: 'https://hub.example.com/.well-known/mercure',
      subscriptions: true,
    });
    const document = JSON.parse((await send(`${h.url}${PATH}`)).body);
    expect(document).toMatchObject({
      resource: 'https://hub.example.com/.well-known/mercure',
      mercure_subscriptions: true,
    });
    expect(document.authorization_servers).toBeUndefined();
  });

  it('names the issuer as the authorization server when its keys come from its key set', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const file = join(tempDir(), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] }));
    const h = await startHub({ issuer: 'https://auth.example.com', jwksUrl: pathToFileURL(file).href });
    const document = JSON.parse((await send(`${h.url}${PATH}`)).body);
    expect(document.authorization_servers).toEqual(['https://auth.example.com']);
  });

  it('is served with the hub’s CORS, and GET only', async () => {
    const h = await startHub({ corsOrigins: ['https://app.example.com'] });
    const allowed = await send(`${h.url}${PATH}`, { headers: { origin: 'https://app.example.com' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const other = await send(`${h.url}${PATH}`, { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(403);
    const preflight = await send(`${h.url}${PATH}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    const post = await send(`${h.url}${PATH}`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('is what every challenge names, on the standalone server’s fast path too', async () => {
    const served = await serveHub({ anonymous: false }, { plain: true });
    defer(() => served.close());
    const metadata = `${served.url}${PATH}`;
    const subscribe = await send(`${served.hubUrl}?match=a`);
    const badToken = await send(`${served.hubUrl}?match=a`, { headers: { authorization: 'Bearer x.y.z' } });
    const publish = await send(served.hubUrl, { method: 'POST' });
    for (const answer of [subscribe, badToken, publish]) {
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(new RegExp(`, resource_metadata="${metadata}"$`));
    }
    expect(JSON.parse((await send(metadata)).body).resource).toBe(served.hubUrl);
  });
});
