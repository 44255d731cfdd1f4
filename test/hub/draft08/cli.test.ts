// The CLI's draft-08 side: siar token --issuer --audience mints access tokens the hub takes (exact
// topics and URL Patterns), siar subscribe --match / --match-urlpattern subscribe with draft-08
// selectors, and siar serve with a development key prints an access token that works.
import { describe, expect, it } from 'vitest';
import { openSse } from '../../helpers/sse-client.js';
import {
  cliKilledAfterEach,
  hubsClosedAfterEach,
  ids,
  NO_KEYS,
  sseClosedAfterEach,
  TEST_ISSUER,
} from '../hub-helpers.js';

const startHub = hubsClosedAfterEach();
const open = sseClosedAfterEach();
const siar = cliKilledAfterEach();

const KEY = 'cli-test-secret-of-a-decent-length';
const TOPIC = 'https://example.com/books/1';
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString());

describe('siar token --issuer', () => {
  it('mints an access token the hub takes: exact topics and URL Patterns, a payload, an expiry', async () => {
    const h = await startHub({ publisherJwt: { key: KEY } });
    const run = (args: string[]) =>
      siar(['token', '--issuer', TEST_ISSUER, '--audience', h.hubUrl, '--key', KEY, ...args], NO_KEYS);
    const publisher = run(['--publish', TOPIC, '--publish-urlpattern', 'https://example.com/authors/:id']);
    const subscriber = run([
      '--subscribe-urlpattern',
      'https://example.com/books/:id',
      '--payload',
      '{"user":"ada"}',
      '--expires',
      '10m',
    ]);
    expect([await publisher.exited, await subscriber.exited]).toEqual([0, 0]);
    const publisherToken = publisher.stdout().trim();
    const subscriberToken = subscriber.stdout().trim();
    const header = JSON.parse(Buffer.from(subscriberToken.split('.')[0] as string, 'base64url').toString());
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    const claims = claimsOf(subscriberToken);
    expect(claims).toMatchObject({ iss: TEST_ISSUER, aud: h.hubUrl });
    expect(claims.exp - claims.iat).toBe(600);
    expect(claims.authorization_details).toEqual([
      {
        type: 'https://mercure.rocks/authorization-detail',
        actions: ['subscribe'],
        topics: [{ match: 'https://example.com/books/:id', match_type: 'urlpattern' }],
        payload: { user: 'ada' },
      },
    ]);
    const client = await open(h.selectUrl([['match_urlpattern', 'https://example.com/:kind/:id']]), {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    expect((await h.publish({ topic: TOPIC, id: 'book', private: 'on' }, publisherToken)).status).toBe(200);
    expect(
      (
        await h.publish(
          { topic: 'https://example.com/authors/7', id: 'author', private: 'on' },
          publisherToken,
        )
      ).status,
    ).toBe(200);
    expect((await h.publish({ topic: 'https://example.com/books/2' }, publisherToken)).status).toBe(403);
    expect(
      (await h.publish({ topic: 'https://example.com/authors/7', id: 'public' }, publisherToken)).status,
    ).toBe(200);
    await client.waitForEvents(2);
    // The private author update is not the subscriber's to read; the public one is.
    expect(ids(client)).toEqual(['book', 'public']);
  });

  it('exits 2 for a half-told access token', async () => {
    for (const [args, message] of [
      [['--issuer', TEST_ISSUER, '--publish', '*'], 'needs --audience'],
      [['--audience', 'https://hub.example/.well-known/mercure', '--publish', '*'], 'add --issuer'],
      [['--publish-urlpattern', '/a/:b'], 'add --issuer and --audience'],
      [
        ['--issuer', TEST_ISSUER, '--audience', 'https://h/', '--subscribe', '*', '--payload', '[1]'],
        'a JSON object',
      ],
    ] as const) {
      const run = siar(['token', '--key', KEY, ...args], NO_KEYS);
      expect(await run.exited, args.join(' ')).toBe(2);
      expect(run.stderr()).toContain(message);
    }
  });
});

describe('siar subscribe --match, --match-urlpattern', () => {
  it('subscribes with draft-08 selectors', async () => {
    const h = await startHub({ anonymous: true });
    const run = siar(
      [
        'subscribe',
        h.hubUrl,
        '--match',
        TOPIC,
        '--match-urlpattern',
        'https://example.com/authors/:id',
        '--count',
        '2',
        '--format',
        'json',
      ],
      NO_KEYS,
    );
    await run.waitFor(/connected to/);
    await h.publish({ topic: 'https://example.com/books/{id}', id: 'not-a-template' });
    await h.publish({ topic: TOPIC, id: 'exact' });
    await h.publish({ topic: 'https://example.com/authors/3', id: 'pattern' });
    expect(await run.exited).toBe(0);
    expect(
      run
        .stdout()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).lastEventId),
    ).toEqual(['exact', 'pattern']);
  });

  it('says which selectors a Mercure hub takes when none is given', async () => {
    const h = await startHub({ anonymous: true });
    const run = siar(['subscribe', h.hubUrl, '--no-reconnect'], NO_KEYS);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('add --match <topic>, --match-urlpattern <pattern> or --topic <topic>');
  });
});

describe('siar serve with a development key', () => {
  it('prints an access token for the hub as printed, that publishes and reads', async () => {
    const run = siar(['serve', '--host', '127.0.0.1', '--port', '0'], NO_KEYS);
    const [, base] = await run.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)\/\.well-known\/mercure/);
    const [, accessToken] = await run.waitFor(/an access token[^\n]*\n[^\n]*\n {2}(\S+)/);
    const hubUrl = `${base}/.well-known/mercure`;
    expect(claimsOf(accessToken as string)).toMatchObject({ iss: 'urn:siar:development', aud: hubUrl });
    const client = await openSse(`${hubUrl}?match=${encodeURIComponent(TOPIC)}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(client.status).toBe(200);
    const published = await fetch(hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
      body: new URLSearchParams({ topic: TOPIC, id: 'dev-8', private: 'on' }),
    });
    expect(published.status).toBe(200);
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['dev-8']);
    client.close();
  });
});
