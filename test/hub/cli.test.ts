import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeServer, freePort, listen } from '../helpers/net.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import {
  cliKilledAfterEach,
  hubsClosedAfterEach,
  ids,
  NO_KEYS,
  sseClosedAfterEach,
  tempDirsRemovedAfterEach,
} from './hub-helpers.js';

const defer = cleanupAfterEach();
const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();
const siar = cliKilledAfterEach();
const tempDir = tempDirsRemovedAfterEach();

const KEY = 'cli-test-secret-of-a-decent-length';
const TOPIC = 'https://example.com/books/1';
describe('siar token', () => {
  it('prints a token the hub accepts, for publishing and for private updates', async () => {
    const h = await startHub({ publisherJwt: { key: KEY } });
    const publisher = siar(['token', '--publish', 'https://example.com/books/{id}', '--key', KEY], NO_KEYS);
    const subscriber = siar(
      ['token', '--subscribe', TOPIC, '--payload', '{"user":"ada"}', '--expires', '1h', '--key', KEY],
      NO_KEYS,
    );
    expect(await publisher.exited).toBe(0);
    expect(await subscriber.exited).toBe(0);
    const publisherToken = publisher.stdout().trim();
    const subscriberToken = subscriber.stdout().trim();
    expect(publisherToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(subscriberToken.split('.')[1] as string, 'base64url').toString());
    expect(claims.mercure).toEqual({ subscribe: [TOPIC], payload: { user: 'ada' } });
    expect(claims.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);
    const client = await openSse(h.subscribeUrl([TOPIC]), {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    expect(client.status).toBe(200);
    const published = await h.publish({ topic: TOPIC, id: 't1', private: 'on' }, publisherToken);
    expect(published.status).toBe(200);
    const outside = await h.publish({ topic: 'https://example.com/authors/1' }, publisherToken);
    expect(outside.status).toBe(403);
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['t1']);
  });

  it('signs RS256 with a private key read from a file (@path)', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const file = join(tempDir(), 'private.pem');
    writeFileSync(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const h = await startHub({ publisherJwt: { key: publicPem, algorithm: 'RS256' } });
    const run = siar(['token', '--publish', '*', '-a', 'RS256', '--key', `@${file}`], NO_KEYS);
    expect(await run.exited).toBe(0);
    expect((await h.publish({ topic: TOPIC }, run.stdout().trim())).status).toBe(200);
  });

  it('exits 2 with a message when it is not told what the token allows', async () => {
    const run = siar(['token', '--key', KEY], NO_KEYS);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('--publish and/or --subscribe');
  });
});

describe('siar publish', () => {
  it('publishes, exits 0 and prints the ID', async () => {
    const h = await startHub({ anonymous: true, publisherJwt: { key: KEY } });
    const client = await openSse(h.subscribeUrl([TOPIC]));
    const chosen = siar(
      [
        'publish',
        '--hub',
        h.hubUrl,
        '--key',
        KEY,
        '-t',
        TOPIC,
        '-d',
        'two\nlines',
        '--id',
        'cli-1',
        '--type',
        'note',
      ],
      NO_KEYS,
    );
    expect([await chosen.exited, chosen.stderr()]).toEqual([0, '']);
    expect(chosen.stdout()).toBe('cli-1\n');
    const made = siar(
      ['publish', '--hub', h.hubUrl, '--key', KEY, '--topic', TOPIC, '--data', 'hub id'],
      NO_KEYS,
    );
    expect(await made.exited).toBe(0);
    const id = made.stdout().trim();
    expect(id).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    await client.waitForEvents(2);
    expect(client.events).toEqual([
      { type: 'note', data: 'two\nlines', lastEventId: 'cli-1' },
      { type: 'message', data: 'hub id', lastEventId: id },
    ]);
  });

  it('exits 1 with the reason when the hub refuses the update', async () => {
    const h = await startHub({ publisherJwt: { key: KEY } });
    const run = siar(['publish', '--hub', h.hubUrl, '--key', 'not-the-hub-key-at-all', '-t', TOPIC], NO_KEYS);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('The hub refused the update: 401');
    expect(run.stderr()).toContain('signature is not valid');
    expect(run.stderr()).not.toContain('    at ');
    expect(run.stdout()).toBe('');
    expect(h.hub.stats().updatesPublished).toBe(0);
  });

  it('exits 1 saying so when the hub is unreachable', async () => {
    const url = `http://127.0.0.1:${await freePort()}/.well-known/mercure`;
    const run = siar(['publish', '--hub', url, '--key', KEY, '-t', TOPIC], NO_KEYS);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(`Cannot reach the hub at ${url}`);
    expect(run.stderr()).not.toContain('    at ');
  });
});

describe('siar serve', () => {
  it('without a key, makes a development key, prints it with tokens that work, and stops on SIGTERM', async () => {
    const run = siar(['serve', '--host', '127.0.0.1', '--port', '0'], NO_KEYS);
    const [, base] = await run.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)\/\.well-known\/mercure/);
    const stderr = run.stderr();
    expect(stderr).toContain('no JWT key is set');
    expect(stderr).toMatch(/key \(HS256\): +\S+/);
    const publisherToken = /publisher token: +(\S+)/.exec(stderr)?.[1] as string;
    const subscriberToken = /subscriber token: +(\S+)/.exec(stderr)?.[1] as string;
    expect(publisherToken).toBeDefined();
    expect(subscriberToken).toBeDefined();
    const hubUrl = `${base}/.well-known/mercure`;
    const client = await openSse(`${hubUrl}?topic=${encodeURIComponent(TOPIC)}`, {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    expect(client.status).toBe(200);
    const published = await fetch(hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisherToken}` },
      body: new URLSearchParams({ topic: TOPIC, data: 'dev', id: 'dev-1', private: 'on' }),
    });
    expect(published.status).toBe(200);
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['dev-1']);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    await client.ended;
    expect(run.stdout()).toContain('SIGTERM: shutting down');
  });

  it('with a development key, listens on 127.0.0.1 only unless --host or SIAR_HOST says otherwise, and says so', async () => {
    const reachable = (url: string) =>
      fetch(`${url}/healthz`).then(
        (response) => response.status,
        (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
      );
    const local = siar(['serve', '--port', '0'], { ...NO_KEYS, SIAR_HOST: '' });
    const [, port] = await local.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\/\.well-known\/mercure/);
    expect(local.stderr()).toContain('It listens on 127.0.0.1 only');
    expect(local.stderr()).toContain('--host 0.0.0.0\n(or SIAR_HOST=0.0.0.0) listens on every address');
    expect(await reachable(`http://127.0.0.1:${port}`)).toBe(200);
    // Another loopback address of this machine: a hub bound to every address would answer there.
    expect(await reachable(`http://127.0.0.2:${port}`)).toBe('ECONNREFUSED');

    for (const [args, env] of [
      [['--host', '127.0.0.2'], {}],
      [[], { SIAR_HOST: '127.0.0.2' }],
    ] as const) {
      const chosen = siar(['serve', '--port', '0', ...args], { ...NO_KEYS, SIAR_HOST: '', ...env });
      const [, base] = await chosen.waitFor(/listening on (http:\/\/127\.0\.0\.2:\d+)\//);
      expect(chosen.stderr()).toContain('no JWT key is set');
      expect(chosen.stderr()).not.toContain('listens on 127.0.0.1 only');
      expect(await reachable(base as string)).toBe(200);
    }
  });

  it.each([
    [
      ['--store', 'sqlite'],
      {},
      '--store must be "memory", "sqlite:<path>", "redis://host:port[/db]", "postgres://user@host:port/db" or "nats://host:port", got "sqlite".',
    ],
    [['--store', 'sqlite:'], {}, '--store sqlite: needs a file path'],
    [[], { SIAR_STORE: 'mongodb://x' }, 'got "mongodb://x"'],
    [['--port', 'x'], {}, '--port must be a non-negative integer'],
    [
      [],
      { SIAR_MAX_SUBSCRIBERS: 'many' },
      'SIAR_MAX_SUBSCRIBERS must be a non-negative integer, got "many".',
    ],
    [['--jwt-algorithm', 'none'], {}, '--jwt-algorithm must be HS256'],
    [['--publisher-jwt-key', '@no-such-key-file.pem'], {}, '--publisher-jwt-key: cannot read the key file'],
  ])('%j %j: refused with exit 2 before anything else is printed', async (args, env, message) => {
    const run = siar(['serve', '--host', '127.0.0.1', '--port', '0', ...args], { ...NO_KEYS, ...env });
    expect(await run.exited).toBe(2);
    expect(run.stdout()).toBe('');
    expect(run.stderr()).toMatch(/^siar: /);
    expect(run.stderr()).toContain(message);
    expect(run.stderr()).toContain('Run "siar serve --help" for the options.');
    expect(run.stderr()).not.toContain('siar warn');
    expect(run.stderr()).not.toContain('development key');
  });

  it('exits 1 saying the port is in use', async () => {
    const busy = createServer();
    const url = await listen(busy);
    defer(() => closeServer(busy));
    const port = new URL(url).port;
    const run = siar(['serve', '--host', '127.0.0.1', '--port', port, '--publisher-jwt-key', KEY], NO_KEYS);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(`Port ${port} is already in use`);
    expect(run.stderr()).not.toContain('    at ');
  });
});
