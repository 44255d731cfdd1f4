import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_CONCURRENT_STREAMS, type HubServerOptions } from '../hub/index.js';
import { DEV_CERTIFICATE_HOSTS, devCertificate } from './dev-certificate.js';
import { defineFlags, type FlagValues } from './flags.js';
import { UsageError } from './usage-error.js';

/** The `siar serve` flags of this file, for its table. */
export const TLS_FLAGS = defineFlags({
  'tls-cert': {
    kind: 'string',
    value: '<file>',
    env: ['SIAR_TLS_CERT'],
    help: 'serve HTTPS: HTTP/2, and HTTP/1.1 for clients without it, on one port (ALPN); PEM certificate chain',
  },
  'tls-key': {
    kind: 'string',
    value: '<file>',
    env: ['SIAR_TLS_KEY'],
    help: "the certificate's PEM private key",
  },
  'dev-tls': {
    kind: 'boolean',
    env: ['SIAR_DEV_TLS'],
    help: 'serve HTTPS with a self-signed certificate for localhost, made and kept in .siar/dev-tls/ (development only)',
  },
  h2c: {
    kind: 'boolean',
    env: ['SIAR_H2C'],
    help: 'serve cleartext HTTP/2, for a TLS-terminating proxy that speaks h2c (browsers do not)',
  },
  'max-concurrent-streams': {
    kind: 'integer',
    value: '<n>',
    env: ['SIAR_MAX_CONCURRENT_STREAMS'],
    defaultText: String(DEFAULT_MAX_CONCURRENT_STREAMS),
    help: 'streams (subscriptions) one HTTP/2 connection may hold',
  },
});

/** How `siar serve` listens, from its flags and environment. */
export interface Listening {
  server: HubServerOptions;
  scheme: 'http' | 'https';
  /** What the startup line says about the protocols when not plain HTTP/1.1, e.g. "HTTP/2 and HTTP/1.1". */
  protocols?: string;
  /** What `--dev-tls` must tell the user: where its certificate is, and that clients must trust it. */
  notice?: string;
}

const HTTPS_PROTOCOLS = 'HTTP/2 and HTTP/1.1';

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * The server options the flags ask for. `--dev-tls` makes (or reuses) its certificate here; the
 * notice says where it is, since a client has to be told to trust it.
 */
export function listeningOptions(values: FlagValues<typeof TLS_FLAGS>): Listening {
  const { 'tls-cert': certPath, 'tls-key': keyPath, 'dev-tls': devTls, h2c } = values;
  const maxConcurrentStreams = values['max-concurrent-streams'];
  if (maxConcurrentStreams === 0) throw new UsageError('--max-concurrent-streams must be at least 1.');
  const withCertificate = Boolean(certPath || keyPath);
  if (withCertificate && !(certPath && keyPath)) {
    throw new UsageError(
      '--tls-cert and --tls-key go together: give both files (or --dev-tls to try it out).',
    );
  }
  if (devTls && withCertificate)
    throw new UsageError('--dev-tls makes its own certificate: drop --tls-cert and --tls-key.');
  if (h2c && (devTls || withCertificate)) {
    throw new UsageError(
      '--h2c is HTTP/2 without TLS: it does not go with --tls-cert or --dev-tls (HTTPS serves HTTP/2 already).',
    );
  }
  const streams = maxConcurrentStreams === undefined ? {} : { maxConcurrentStreams };
  if (h2c) return { server: { h2c: true, ...streams }, scheme: 'http', protocols: 'cleartext HTTP/2 (h2c)' };
  if (!devTls) {
    if (!withCertificate) return { server: streams, scheme: 'http' };
    const tls = {
      cert: readPem(certPath as string, '--tls-cert'),
      key: readPem(keyPath as string, '--tls-key'),
    };
    return { server: { tls, ...streams }, scheme: 'https', protocols: HTTPS_PROTOCOLS };
  }
  const made = devCertificate();
  const notice =
    `--dev-tls: HTTPS with a self-signed certificate for ${DEV_CERTIFICATE_HOSTS.join(', ')}, for development only:\n` +
    `  certificate: ${made.certPath} (${made.created ? 'made now' : 'kept from before'}; valid until ${made.validTo.toISOString()})\n` +
    `  key:         ${made.keyPath}\n` +
    `Clients must trust it: curl --cacert ${made.certPath}, NODE_EXTRA_CA_CERTS=${made.certPath}, siar/client's tls: { ca },\n` +
    `or a browser exception. Serve a real certificate with --tls-cert and --tls-key.`;
  return { server: { tls: made, ...streams }, scheme: 'https', protocols: HTTPS_PROTOCOLS, notice };
}
