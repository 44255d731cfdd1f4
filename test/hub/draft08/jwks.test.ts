// An issuer's keys from a JWKS served by a real HTTP server on 127.0.0.1: cached, loaded again on an
// unknown kid within a rate limit, bounded in time and size, from file: too; public keys only.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { JwksError, JwksKeySource } from '../../../src/hub/oauth/jwks.js';
import { rejected } from './caught.js';

async function publicJwk(kid: string, alg = 'ES256'): Promise<JWK> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
}

interface KeyServer {
  url: string;
  hits: number;
  keys: JWK[];
  /** Replaces the answer (status, raw body, or never answering). */
  answer: ((res: ServerResponse) => void) | undefined;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function keyServer(keys: JWK[]): Promise<KeyServer> {
  const state: KeyServer = { url: '', hits: 0, keys, answer: undefined };
  const server = createServer((_req, res) => {
    state.hits++;
    if (state.answer !== undefined) return state.answer(res);
    res
      .writeHead(200, { 'content-type': 'application/jwk-set+json' })
      .end(JSON.stringify({ keys: state.keys }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return state;
}

const refusal = (promise: Promise<unknown>) => rejected(JwksError, promise);

describe('JWKS key source', () => {
  it('finds a key by kid and keeps the set for its max age', async () => {
    const server = await keyServer([await publicJwk('one'), await publicJwk('two')]);
    let now = 1_000_000;
    const source = new JwksKeySource({ url: server.url, maxAgeMs: 60_000, clock: () => now });
    const key = await source.key({ alg: 'ES256', kid: 'two' });
    expect((key as CryptoKey).type).toBe('public');
    await source.key({ alg: 'ES256', kid: 'one' });
    expect(server.hits).toBe(1);
    now += 60_000;
    await source.key({ alg: 'ES256', kid: 'one' });
    expect(server.hits).toBe(2);
  });

  it('loads the set again for an unknown kid (a rotation), at most once per refetch interval', async () => {
    const server = await keyServer([await publicJwk('old')]);
    let now = 1_000_000;
    const source = new JwksKeySource({ url: server.url, refetchIntervalMs: 30_000, clock: () => now });
    await source.ready();
    now += 30_000;
    server.keys = [await publicJwk('old'), await publicJwk('new')];
    await source.key({ alg: 'ES256', kid: 'new' });
    expect(server.hits).toBe(2);
    // Made-up kids within the interval: refused without asking the issuer again.
    for (const kid of ['forged-1', 'forged-2', 'forged-3']) {
      expect((await refusal(source.key({ alg: 'ES256', kid }))).kind).toBe('no-key');
    }
    expect(server.hits).toBe(2);
    now += 30_000;
    expect((await refusal(source.key({ alg: 'ES256', kid: 'forged-4' }))).kind).toBe('no-key');
    expect(server.hits).toBe(3);
  });

  it('shares one load between the tokens that arrive while it runs', async () => {
    const server = await keyServer([await publicJwk('k')]);
    const source = new JwksKeySource({ url: server.url });
    await Promise.all(Array.from({ length: 10 }, () => source.key({ alg: 'ES256', kid: 'k' })));
    expect(server.hits).toBe(1);
    expect(source.loadCount).toBe(1);
  });

  it('gives up on a server that does not answer, within the deadline', async () => {
    const server = await keyServer([]);
    server.answer = () => {};
    const source = new JwksKeySource({ url: server.url, timeoutMs: 200 });
    const error = await refusal(source.ready());
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('no answer within 200 ms');
  });

  it('refuses a set past its size bound, a non-200 answer, and what is not a key set', async () => {
    const server = await keyServer([await publicJwk('k')]);
    const big = new JwksKeySource({ url: server.url, maxBytes: 100 });
    expect((await refusal(big.ready())).message).toContain('larger than 100 bytes');
    server.answer = (res) => res.writeHead(200).end('{"keys":');
    expect((await refusal(new JwksKeySource({ url: server.url }).ready())).message).toContain('not JSON');
    server.answer = (res) => res.writeHead(200).end('{"key":[]}');
    expect((await refusal(new JwksKeySource({ url: server.url }).ready())).message).toContain(
      'not a JSON Web Key Set',
    );
    server.answer = (res) => res.writeHead(404).end();
    expect((await refusal(new JwksKeySource({ url: server.url }).ready())).message).toContain('answered 404');
  });

  it('keeps a loaded set when a later load fails', async () => {
    const server = await keyServer([await publicJwk('k')]);
    let now = 1_000_000;
    const source = new JwksKeySource({
      url: server.url,
      maxAgeMs: 1000,
      refetchIntervalMs: 1000,
      clock: () => now,
    });
    await source.ready();
    server.answer = (res) => res.writeHead(503).end();
    now += 1000;
    await source.key({ alg: 'ES256', kid: 'k' });
    expect(server.hits).toBe(2);
  });

  it('takes public keys only: oct keys are left out, symmetric algorithms refused', async () => {
    const server = await keyServer([{ kty: 'oct', k: 'c2VjcmV0', kid: 'shared', alg: 'HS256' }]);
    expect((await refusal(new JwksKeySource({ url: server.url }).ready())).message).toContain(
      'no public key',
    );
    expect(() => new JwksKeySource({ url: server.url, algorithms: ['HS256'] })).toThrow(
      /asymmetric algorithms only/,
    );
    server.keys = [await publicJwk('k')];
    const source = new JwksKeySource({ url: server.url });
    expect((await refusal(source.key({ alg: 'HS256', kid: 'k' }))).kind).toBe('no-key');
    expect(server.hits).toBe(1);
  });

  it('reads a file: URL, within the same bounds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'siar-jwks-'));
    try {
      const file = join(dir, 'jwks.json');
      await writeFile(file, JSON.stringify({ keys: [await publicJwk('f', 'EdDSA')] }));
      const source = new JwksKeySource({ url: pathToFileURL(file).href });
      expect(((await source.key({ alg: 'EdDSA', kid: 'f' })) as CryptoKey).type).toBe('public');
      const small = new JwksKeySource({ url: pathToFileURL(file).href, maxBytes: 10 });
      expect((await refusal(small.ready())).message).toContain('larger than 10 bytes');
      const missing = new JwksKeySource({ url: pathToFileURL(join(dir, 'none.json')).href });
      expect((await refusal(missing.ready())).message).toContain('ENOENT');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses URLs of other schemes', () => {
    expect(() => new JwksKeySource({ url: 'ftp://example.com/jwks' })).toThrow(/http:, https: or file:/);
    expect(() => new JwksKeySource({ url: 'not a url' })).toThrow(/not a URL/);
  });
});
