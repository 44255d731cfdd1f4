// The self-signed certificate of `siar serve --dev-tls`, made with node:crypto alone.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, devCertificate } from '../../src/cli/dev-certificate.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('createSelfSignedCertificate', () => {
  it('is an X.509 v3 certificate for localhost, 127.0.0.1 and ::1, signed by its own key', () => {
    const now = new Date('2030-06-01T12:00:00Z');
    const { cert } = createSelfSignedCertificate(undefined, 30, now);
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toBe('CN=Siar development certificate');
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x509.ca).toBe(false);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(new Date(x509.validFrom).getTime()).toBe(now.getTime() - 60 * 60 * 1000);
    expect(new Date(x509.validTo).getTime()).toBe(now.getTime() + 30 * DAY_MS);
    expect(x509.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
  });

  it('is trusted by TLS clients given it as their CA, for each of its names', async () => {
    const { cert, key } = createSelfSignedCertificate();
    const server = createServer({ cert, key }, (_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '::', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;
    for (const host of ['localhost', '127.0.0.1', '::1']) {
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = connect(
          { host, port, ca: cert, ...(host === 'localhost' ? { servername: host } : {}) },
          () => {
            resolve(socket.authorized);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
      expect(authorized, host).toBe(true);
    }
  });
});

describe('devCertificate', () => {
  it('writes the certificate and its private key (owner only), keeps it while good, and makes another before it runs out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'siar-dev-cert-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = devCertificate(join(dir, '.siar', 'dev-tls'));
    expect(first.created).toBe(true);
    expect(first.certPath).toBe(join(dir, '.siar', 'dev-tls', 'cert.pem'));
    expect(readFileSync(first.certPath, 'utf8')).toBe(first.cert);
    expect(statSync(first.keyPath).mode & 0o777).toBe(0o600);

    const kept = devCertificate(join(dir, '.siar', 'dev-tls'));
    expect(kept.created).toBe(false);
    expect(kept.cert).toBe(first.cert);

    // 29.5 days on, less than a day is left: a new one.
    const later = devCertificate(join(dir, '.siar', 'dev-tls'), new Date(Date.now() + 29.5 * DAY_MS));
    expect(later.created).toBe(true);
    expect(later.cert).not.toBe(first.cert);
  });
});
