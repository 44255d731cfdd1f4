import type { TLSSocket } from 'node:tls';
import { fetchFailed } from './attempt.js';
import type { NodeModules } from './node-modules.js';

/**
 * TLS options for `https:` URLs: trust a private CA or a self-signed certificate (`ca`) without
 * turning certificate checks off for the whole process; a client certificate (`cert`, `key`).
 */
export interface TlsOptions {
  /** Certificates (PEM) to trust instead of the system's. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** A client certificate (PEM), with its `key`. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Check the server's certificate. Default true; false only for a server you know. */
  rejectUnauthorized?: boolean;
  /** The name to check the certificate against (SNI). Default: the URL's host name. */
  servername?: string;
}

/** A key telling apart connections with different TLS options (another CA is another trust). */
export function tlsKey(node: NodeModules, tls: TlsOptions | undefined): string {
  if (tls === undefined) return '';
  const hash = node.crypto.createHash('sha256');
  const add = (value: unknown) => {
    for (const item of Array.isArray(value) ? value : [value]) {
      hash.update(
        item === undefined
          ? '-'
          : typeof item === 'string'
            ? `s${item}`
            : node.crypto.createHash('sha256').update(item).digest('hex'),
      );
      hash.update('\0');
    }
  };
  add(tls.ca);
  add(tls.cert);
  add(tls.key);
  add(String(tls.rejectUnauthorized));
  add(tls.servername);
  return hash.digest('base64url');
}

function ignore(): void {}

/**
 * A TLS connection to `url`'s origin, offering `h2` (and `http/1.1`, unless `h2Only`) by ALPN:
 * `socket.alpnProtocol` says what the server chose. Rejects with a "fetch failed" TypeError.
 */
export async function connectTls(
  node: NodeModules,
  url: URL,
  h2Only: boolean,
  tls: TlsOptions | undefined,
): Promise<TLSSocket> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const socket = node.tls.connect({
    host,
    port: Number(url.port || 443),
    // SNI carries host names only (RFC 6066): none for an IP address.
    ...(node.net.isIP(host) === 0 ? { servername: host } : {}),
    ALPNProtocols: h2Only ? ['h2'] : ['h2', 'http/1.1'],
    ...tls,
  });
  // Whoever takes the socket next (a session, or node:https) listens for its errors; until then an
  // error must not go unhandled.
  socket.on('error', ignore);
  try {
    await node.events.once(socket, 'secureConnect');
  } catch (error) {
    socket.destroy();
    if (h2Only && (error as { code?: unknown }).code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
      throw fetchFailed(`${url.origin} does not offer HTTP/2 (it refused ALPN h2)`, error);
    }
    throw fetchFailed(`cannot connect to ${url.origin}`, error);
  }
  return socket;
}
