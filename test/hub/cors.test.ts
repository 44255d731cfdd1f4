import { describe, expect, it } from 'vitest';
import {
  form,
  formHeaders,
  hubsClosedAfterEach,
  ids,
  send,
  sseClosedAfterEach,
  token,
} from './hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const TOPIC = 'https://example.com/books/1';
const APP = 'https://app.example.com';

describe('hub CORS', () => {
  it('echoes an allowed origin with credentials and Vary: Origin, on streams, publishes and refusals', async () => {
    const h = await startHub({ anonymous: true, corsOrigins: [APP, 'https://admin.example.com'] });
    const client = await openSse(h.subscribeUrl([TOPIC]), { headers: { origin: APP } });
    expect(client.status).toBe(200);
    expect(client.headers['access-control-allow-origin']).toBe(APP);
    expect(client.headers['access-control-allow-credentials']).toBe('true');
    expect(client.headers.vary).toContain('Origin');
    expect(client.headers['access-control-expose-headers']).toContain('Last-Event-ID');
    const published = await send(h.hubUrl, {
      method: 'POST',
      headers: formHeaders(await token({ publish: ['*'] }), { origin: 'https://admin.example.com' }),
      body: form({ topic: TOPIC, id: 'cors-1' }),
    });
    expect(published.status).toBe(200);
    expect(published.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['cors-1']);
    // A page must be able to read why it was refused.
    const unauthorized = await send(h.hubUrl, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ topic: TOPIC }),
    });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe(APP);
  });

  it('refuses another origin with 403, before any stream starts', async () => {
    const h = await startHub({ anonymous: true, corsOrigins: [APP] });
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.com', 'null']) {
      const answer = await send(h.subscribeUrl([TOPIC]), { headers: { origin } });
      expect(answer.status, origin).toBe(403);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(answer.body).toContain('not allowed');
    }
    const publish = await send(h.hubUrl, {
      method: 'POST',
      headers: formHeaders(await token({ publish: ['*'] }), { origin: 'https://evil.example.com' }),
      body: form({ topic: TOPIC }),
    });
    expect(publish.status).toBe(403);
    expect(h.hub.stats().updatesPublished).toBe(0);
  });

  it('answers a preflight from an allowed origin with 204 and what it may send', async () => {
    const h = await startHub({ corsOrigins: [APP] });
    const answer = await send(h.hubUrl, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe(APP);
    expect(answer.headers['access-control-allow-credentials']).toBe('true');
    expect(answer.headers['access-control-allow-methods']).toContain('POST');
    const allowed = answer.headers['access-control-allow-headers']?.toLowerCase() ?? '';
    for (const header of ['authorization', 'content-type', 'last-event-id'])
      expect(allowed).toContain(header);
    const refused = await send(h.hubUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers "*" without credentials when any origin is allowed', async () => {
    const h = await startHub({ anonymous: true, corsOrigins: '*' });
    const client = await openSse(h.subscribeUrl([TOPIC]), {
      headers: { origin: 'https://anywhere.example' },
    });
    expect(client.status).toBe(200);
    expect(client.headers['access-control-allow-origin']).toBe('*');
    expect(client.headers['access-control-allow-credentials']).toBeUndefined();
    const preflight = await send(h.hubUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://other.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
  });

  it("needs no CORS for the hub's own origin (its pages), even when it is not listed", async () => {
    const h = await startHub({ anonymous: true, corsOrigins: [APP], publishOrigins: [] });
    const client = await openSse(h.subscribeUrl([TOPIC]), { headers: { origin: h.url } });
    expect(client.status).toBe(200);
    expect(client.headers['access-control-allow-origin']).toBeUndefined();
    const published = await send(h.hubUrl, {
      method: 'POST',
      headers: formHeaders(await token({ publish: ['*'] }), { origin: h.url }),
      body: form({ topic: TOPIC, id: 'same-origin' }),
    });
    expect(published.status).toBe(200);
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['same-origin']);
  });

  it('sends no CORS headers when no origins are configured', async () => {
    const h = await startHub({ anonymous: true });
    const client = await openSse(h.subscribeUrl([TOPIC]), { headers: { origin: APP } });
    expect(client.status).toBe(200);
    expect(client.headers['access-control-allow-origin']).toBeUndefined();
    expect(client.headers['access-control-allow-credentials']).toBeUndefined();
  });
});
