import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createHub, HubError, type HubOptions } from '../../src/hub/index.js';
import { silentLogger } from '../../src/server/index.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { TEST_KEY, token } from './hub-helpers.js';

const defer = cleanupAfterEach();

/** The error createHub throws for `options`, at once (not later, from ready() or a request). */
function refusal(options: HubOptions): HubError {
  let error: unknown;
  try {
    const hub = createHub({ logger: silentLogger, ...options });
    defer(() => hub.close());
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).code).toBe('invalid-option');
  return error as HubError;
}

describe('createHub refuses a hub no token could ever be valid for', () => {
  it('throws on an empty key, as an unset environment variable gives it, anonymous or not', () => {
    const unset: string | undefined = undefined;
    expect(refusal({ publisherJwt: { key: unset ?? '' } }).message).toMatch(
      /^publisherJwt\.key is empty, so no token could ever be valid for it\. Set it to your secret/,
    );
    expect(refusal({ publisherJwt: { key: '' }, anonymous: true }).message).toContain(
      'publisherJwt.key is empty',
    );
    expect(
      refusal({ publisherJwt: { key: TEST_KEY }, subscriberJwt: { key: new Uint8Array(0) } }).message,
    ).toContain('subscriberJwt.key is empty');
  });

  it('throws on a key that is missing, as `process.env.KEY!` gives it when KEY is unset', () => {
    const missing = { key: undefined } as unknown as { key: string };
    expect(refusal({ publisherJwt: missing, anonymous: true }).message).toContain(
      'publisherJwt.key is missing',
    );
  });

  it('throws on a hub with no key at all unless it is anonymous-only, and says how to make it one', () => {
    const message = refusal({}).message;
    expect(message).toContain('set publisherJwt: { key }');
    expect(message).toContain('set anonymous: true');
  });

  it('without a key and anonymous, takes anonymous subscribers and the app updates, and refuses tokens', async () => {
    const hub = createHub({ anonymous: true, logger: silentLogger, heartbeatMs: 0 });
    await hub.ready();
    const server = createServer(hub.handler);
    const url = await listen(server);
    defer(() => closeServer(server));
    defer(() => hub.close({ graceMs: 100 }));
    const hubUrl = `${url}/.well-known/mercure`;
    const topic = 'https://example.com/anonymous-only';
    const subscriber = await openSse(`${hubUrl}?topic=${encodeURIComponent(topic)}`);
    defer(() => subscriber.close());
    expect(subscriber.status).toBe(200);
    await waitFor(() => hub.stats().subscribers === 1);
    const update = await hub.publish({ topics: [topic], data: 'from the app' });
    await subscriber.waitForEvents(1);
    expect(subscriber.events[0]).toMatchObject({ data: 'from the app', lastEventId: update.id });
    const publisherToken = await token({ publish: ['*'] });
    const published = await fetch(hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisherToken}` },
      body: new URLSearchParams({ topic, data: 'over HTTP' }),
    });
    expect(published.status).toBe(401);
    expect(await published.text()).toContain('the hub has no key for it');
  });
});
