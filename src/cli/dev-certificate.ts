import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join, resolve } from 'node:path';

// A self-signed certificate for `siar serve --dev-tls`, made with node:crypto alone. Node.js can
// parse X.509 but not make it, and depending on the `openssl` binary at run time would make
// `--dev-tls` fail on machines without it (Windows, slim containers). So the certificate is
// encoded here: DER for the few types it needs, an EC P-256 key, ECDSA with SHA-256.

/** Names the development certificate is valid for. */
export const DEV_CERTIFICATE_HOSTS = ['localhost', '127.0.0.1', '::1'] as const;
/** How long a development certificate is valid, in days; it is made again before it runs out. */
export const DEV_CERTIFICATE_DAYS = 30;
/** Where `--dev-tls` keeps its certificate, under the working directory (gitignored). */
export const DEV_CERTIFICATE_DIR = join('.siar', 'dev-tls');

const DAY_MS = 24 * 60 * 60 * 1000;

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element: tag, length, contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => der(0x30, ...items);
const set = (...items: Buffer[]) => der(0x31, ...items);
const octetString = (bytes: Buffer) => der(0x04, bytes);
const utf8String = (text: string) => der(0x0c, Buffer.from(text, 'utf8'));
/** A BIT STRING of whole bytes (no unused bits). */
const bitString = (bytes: Buffer) => der(0x03, Buffer.from([0]), bytes);

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      base128.unshift(0x80 | (value & 0x7f));
    }
    bytes.push(...base128);
  }
  return der(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return der(0x17, Buffer.from(`${text}Z`, 'ascii'));
}

function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail] = address.split('::');
  const groups = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const start = groups(head);
  const end = tail === undefined ? [] : groups(tail);
  const all = [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end];
  const bytes = Buffer.alloc(16);
  for (const [i, group] of all.entries()) bytes.writeUInt16BE(group, i * 2);
  return bytes;
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), octetString(value));
}

/**
 * Makes a self-signed X.509 v3 certificate (EC P-256, ECDSA-SHA256) for `hosts` (DNS names and IP
 * addresses, all in subjectAltName), valid from an hour ago for `days` days. PEM strings.
 */
export function createSelfSignedCertificate(
  hosts: readonly string[] = DEV_CERTIFICATE_HOSTS,
  days = DEV_CERTIFICATE_DAYS,
  now = new Date(),
): { cert: string; key: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01; // positive, and no leading zero byte to strip
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8String('Siar development certificate'))));
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const altNames = hosts.map((host) =>
    host.includes(':') || isIPv4(host) ? der(0x87, ipBytes(host)) : der(0x82, Buffer.from(host, 'ascii')),
  );
  const extensions = [
    extension('2.5.29.19', true, sequence()), // basicConstraints: not a CA
    extension('2.5.29.15', true, der(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', false, sequence(...altNames)), // subjectAltName
  ];
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))), // version 3
    der(0x02, serial),
    ecdsaWithSha256,
    name,
    sequence(
      utcTime(new Date(now.getTime() - 60 * 60 * 1000)),
      utcTime(new Date(now.getTime() + days * DAY_MS)),
    ),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, sequence(...extensions)),
  );
  const certificate = sequence(tbs, ecdsaWithSha256, bitString(sign('sha256', tbs, privateKey)));
  const base64 = certificate.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** The development certificate `--dev-tls` serves, and where it is. */
export interface DevCertificate {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
  /** False when a certificate made earlier was still good and was used again. */
  created: boolean;
  validTo: Date;
}

/** The certificate in `dir` if it is still good for a day and matches its key, else undefined. */
function reuse(certPath: string, keyPath: string, now: Date): DevCertificate | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const x509 = new X509Certificate(cert);
    const validTo = new Date(x509.validTo);
    if (validTo.getTime() - now.getTime() < DAY_MS || !x509.checkPrivateKey(createPrivateKey(key)))
      return undefined;
    if (
      !DEV_CERTIFICATE_HOSTS.every((host) =>
        host.includes(':') || isIPv4(host) ? x509.checkIP(host) : x509.checkHost(host),
      )
    )
      return undefined;
    return { cert, key, certPath, keyPath, created: false, validTo };
  } catch {
    return undefined;
  }
}

/**
 * The certificate of `siar serve --dev-tls`: the one kept in `dir` (default `.siar/dev-tls` under the
 * working directory) while it is good, so a browser's exception for it lasts across restarts; else a
 * new one, written there (the key readable by its owner only). For development only.
 */
export function devCertificate(dir = DEV_CERTIFICATE_DIR, now = new Date()): DevCertificate {
  const certPath = resolve(dir, 'cert.pem');
  const keyPath = resolve(dir, 'key.pem');
  const kept = reuse(certPath, keyPath, now);
  if (kept !== undefined) return kept;
  const { cert, key } = createSelfSignedCertificate(DEV_CERTIFICATE_HOSTS, DEV_CERTIFICATE_DAYS, now);
  mkdirSync(resolve(dir), { recursive: true });
  writeFileSync(keyPath, key, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, cert);
  return {
    cert,
    key,
    certPath,
    keyPath,
    created: true,
    validTo: new Date(new X509Certificate(cert).validTo),
  };
}
