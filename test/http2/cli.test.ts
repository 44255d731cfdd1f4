// `siar serve` with --dev-tls, --tls-cert/--tls-key, --h2c and --max-concurrent-streams, run as a
// real process (node --import tsx src/cli/main.ts) in a directory of its own.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type ClientHttp2Session, connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createToken } from '../../src/hub/index.js';
import type { RunningProcess } from '../helpers/child-process.js';
import { h2Publish, h2Request, testCertificate } from '../helpers/http2.js';
import { runCli, waitForBanner } from '../helpers/hub-process.js';
import { waitFor } from '../helpers/net.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

const KEY = 'siar-cli-http2-test-key-long-enough-for-hs256';
const TOPIC = 'https://example.com/books/1';
const SUBSCRIBE_PATH = `/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}`;

const defer = cleanupAfterEach();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'siar-http2-cli-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `siar serve --host 127.0.0.1 --port 0 --publisher-jwt-key … --anonymous <args>` in `cwd`. */
function serve(cwd: string, args: string[], env: Record<string, string> = {}): RunningProcess {
  return runCli(
    defer,
    [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--publisher-jwt-key',
      KEY,
      '--anonymous',
      '--no-dashboard',
      ...args,
    ],
    { cwd, env },
  );
}

function session(url: string, ca?: string): ClientHttp2Session {
  const opened = connect(url, ca === undefined ? {} : { ca });
  opened.on('error', () => {});
  defer(() => opened.destroy());
  return opened;
}

describe('siar serve over HTTP/2', () => {
  it('--dev-tls: makes a certificate under .siar/, prints where, serves h2 and HTTP/1.1, and shuts down with GOAWAY', async () => {
    const cwd = tempDir();
    const run = serve(cwd, ['--dev-tls']);
    const { url, line } = await waitForBanner(run);
    expect(url).toMatch(/^https:/);
    expect(line).toContain('over HTTP/2 and HTTP/1.1');
    const certPath = join(cwd, '.siar', 'dev-tls', 'cert.pem');
    const keyPath = join(cwd, '.siar', 'dev-tls', 'key.pem');
    expect(run.output()).toContain(`certificate: ${certPath} (made now;`);
    expect(run.output()).toContain('for development only');
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const cert = readFileSync(certPath, 'utf8');
    const x509 = new X509Certificate(cert);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');

    // Trusting that certificate (and nothing else), an h2 client subscribes and publishes.
    const client = session(url, cert);
    const subscriber = h2Request(client, SUBSCRIBE_PATH);
    expect((await subscriber.response)[':status']).toBe(200);
    const token = await createToken({ publish: ['*'] }, KEY);
    await waitFor(async () => {
      // Publish until the subscription is registered (the 200 comes first).
      const { status } = await h2Publish(client, token, { topic: TOPIC, data: 'from the CLI', id: 'cli-1' });
      expect(status).toBe(200);
      return subscriber.events.length > 0;
    });
    expect(subscriber.events[0]).toEqual({ type: 'message', data: 'from the CLI', lastEventId: 'cli-1' });

    // A client that offers no ALPN gets HTTP/1.1 on the same port.
    const version = await new Promise<string>((resolve, reject) => {
      httpsRequest(`${url}/healthz`, { ca: cert }, (res) => {
        res.resume();
        resolve(res.httpVersion);
      })
        .on('error', reject)
        .end();
    });
    expect(version).toBe('1.1');

    const order: string[] = [];
    client.once('goaway', () => order.push('goaway'));
    subscriber.stream.once('end', () => order.push(`end (retry ${subscriber.retries.join(',')})`));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    await subscriber.closed;
    expect(order).toEqual(['goaway', 'end (retry 2000)']);

    // The next run keeps the certificate (a browser's exception for it stays good).
    const again = serve(cwd, ['--dev-tls']);
    await waitForBanner(again);
    expect(again.output()).toContain('(kept from before;');
    expect(readFileSync(certPath, 'utf8')).toBe(cert);
  });

  it('--tls-cert and --tls-key (or SIAR_TLS_CERT and SIAR_TLS_KEY), with --max-concurrent-streams', async () => {
    const cwd = tempDir();
    const { cert, key } = testCertificate();
    writeFileSync(join(cwd, 'cert.pem'), cert);
    writeFileSync(join(cwd, 'key.pem'), key);
    const run = serve(cwd, [
      '--tls-cert',
      'cert.pem',
      '--tls-key',
      'key.pem',
      '--max-concurrent-streams',
      '7',
    ]);
    const { url } = await waitForBanner(run);
    const client = session(url, cert);
    await new Promise<void>((resolve) => client.once('remoteSettings', () => resolve()));
    expect(client.remoteSettings.maxConcurrentStreams).toBe(7);
    expect(client.alpnProtocol).toBe('h2');

    const fromEnv = serve(cwd, [], { SIAR_TLS_CERT: 'cert.pem', SIAR_TLS_KEY: 'key.pem' });
    const other = session((await waitForBanner(fromEnv)).url, cert);
    await new Promise<void>((resolve) => other.once('remoteSettings', () => resolve()));
    expect(other.remoteSettings.maxConcurrentStreams).toBe(1000);
  });

  it('--h2c: cleartext HTTP/2', async () => {
    const run = serve(tempDir(), ['--h2c']);
    const { url, line } = await waitForBanner(run);
    expect(url).toMatch(/^http:/);
    expect(line).toContain('over cleartext HTTP/2 (h2c)');
    const subscriber = h2Request(session(url), SUBSCRIBE_PATH);
    expect((await subscriber.response)[':status']).toBe(200);
  });

  it('refuses flags that do not go together, and a certificate it cannot use', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'not-a-cert.pem'), 'hello');
    const cases: Array<{ args: string[]; code: number; message: RegExp }> = [
      { args: ['--tls-cert', 'cert.pem'], code: 2, message: /--tls-cert and --tls-key go together/ },
      { args: ['--h2c', '--dev-tls'], code: 2, message: /--h2c is HTTP\/2 without TLS/ },
      {
        args: ['--dev-tls', '--tls-cert', 'a', '--tls-key', 'b'],
        code: 2,
        message: /--dev-tls makes its own certificate/,
      },
      {
        args: ['--tls-cert', 'missing.pem', '--tls-key', 'missing.pem'],
        code: 2,
        message: /--tls-cert: cannot read missing\.pem/,
      },
      {
        args: ['--tls-cert', 'not-a-cert.pem', '--tls-key', 'not-a-cert.pem'],
        code: 1,
        message: /Cannot serve with this certificate and key/,
      },
      { args: ['--dev-tls', '--max-concurrent-streams', '0'], code: 2, message: /at least 1/ },
      { args: ['--dev-tls', '--store', 'sqlite'], code: 2, message: /--store must be "memory"/ },
    ];
    const runs = cases.map(({ args }) => serve(cwd, args));
    for (const [i, { args, code, message }] of cases.entries()) {
      const run = runs[i] as RunningProcess;
      expect(await run.exited, args.join(' ')).toBe(code);
      expect(run.output()).toMatch(message);
      expect(run.output()).not.toContain('    at ');
      // Every option is checked before anything is said about the certificate.
      if (code === 2) expect(run.output()).not.toContain('--dev-tls: HTTPS');
    }
  });
});
