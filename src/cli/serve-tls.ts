import { readFileSync } from 'node:fs';
import type { HubServerOptions } from '../hub/index.js';
import { UsageError } from './command.js';
import { DEV_CERTIFICATE_HOSTS, devCertificate } from './dev-certificate.js';
import { booleanFlag, integerFlag } from './flags.js';

/** The `siar serve` flags of this file, for its parseArgs. */
export const TLS_FLAGS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'dev-tls': { type: 'boolean' },
  h2c: { type: 'boolean' },
  'max-concurrent-streams': { type: 'string' },
} as const;

/** Their lines in `siar serve --help`. */
export const TLS_HELP = `      --tls-cert <file>           serve HTTPS: HTTP/2, and HTTP/1.1 for clients without it, on one
                                  port (ALPN); PEM certificate chain [SIAR_TLS_CERT]
      --tls-key <file>            the certificate's PEM private key [SIAR_TLS_KEY]
      --dev-tls                   serve HTTPS with a self-signed certificate for localhost, made
                                  and kept in .siar/dev-tls/ (development only) [SIAR_DEV_TLS]
      --h2c                       serve cleartext HTTP/2, for a TLS-terminating proxy that speaks
                                  h2c [SIAR_H2C]
      --max-concurrent-streams <n>  streams (subscriptions) one HTTP/2 connection may hold
                                  [SIAR_MAX_CONCURRENT_STREAMS]                         default 1000`;

type TlsValues = {
  [name in keyof typeof TLS_FLAGS]?: (typeof TLS_FLAGS)[name]['type'] extends 'string' ? string : boolean;
};

/** How `siar serve` listens, from its flags and environment. */
export interface Listening {
  server: HubServerOptions;
  scheme: 'http' | 'https';
  /** What the startup line says about the protocols when not plain HTTP/1.1, e.g. "HTTP/2 and HTTP/1.1". */
  protocols?: string;
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * The server options the flags ask for. `--dev-tls` makes (or reuses) its certificate here and says
 * where it is on `warn`, since a client has to be told to trust it.
 */
export function listeningOptions(
  values: TlsValues,
  env: NodeJS.ProcessEnv,
  warn: (text: string) => void,
): Listening {
  const certPath = values['tls-cert'] ?? env.SIAR_TLS_CERT;
  const keyPath = values['tls-key'] ?? env.SIAR_TLS_KEY;
  const devTls = booleanFlag(values['dev-tls'], env.SIAR_DEV_TLS);
  const h2c = booleanFlag(values.h2c, env.SIAR_H2C);
  const maxConcurrentStreams = integerFlag(
    values['max-concurrent-streams'] ?? env.SIAR_MAX_CONCURRENT_STREAMS,
    '--max-concurrent-streams',
  );
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
  if (!devTls && !withCertificate) return { server: streams, scheme: 'http' };
  let tls: { cert: string; key: string };
  if (devTls) {
    const made = devCertificate();
    tls = made;
    warn(
      `--dev-tls: HTTPS with a self-signed certificate for ${DEV_CERTIFICATE_HOSTS.join(', ')}, for development only:\n` +
        `  certificate: ${made.certPath} (${made.created ? 'made now' : 'kept from before'}; valid until ${made.validTo.toISOString()})\n` +
        `  key:         ${made.keyPath}\n` +
        `Clients must trust it: curl --cacert ${made.certPath}, NODE_EXTRA_CA_CERTS=${made.certPath}, siar/client's tls: { ca },\n` +
        `or a browser exception. Serve a real certificate with --tls-cert and --tls-key.`,
    );
  } else {
    tls = { cert: readPem(certPath as string, '--tls-cert'), key: readPem(keyPath as string, '--tls-key') };
  }
  return { server: { tls, ...streams }, scheme: 'https', protocols: 'HTTP/2 and HTTP/1.1' };
}
