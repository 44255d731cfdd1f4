import type { IncomingHttpHeaders } from 'node:http';
import { HUB_PATH } from './paths.js';
import { resourceMetadataUrl } from './resource-metadata.js';

/**
 * The hub's URL as a request reached it (`https://hub.example.com/.well-known/mercure`), for what
 * draft-08 resolves against it: relative URL Patterns and topics, the reserved namespace, the
 * metadata URL, and, when no `--resource-identifier` is configured, the audience tokens must name.
 * The host is the request's (`Host`, or HTTP/2's `:authority`); behind a trusted proxy, its
 * `X-Forwarded-Proto` and `X-Forwarded-Host` say what the client used.
 */
export function requestHubUrl(
  headers: IncomingHttpHeaders,
  options: { encrypted: boolean; hubPath: string; trustProxy: boolean },
): string {
  const first = (value: string | string[] | undefined) =>
    (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;
  const forwardedProto = options.trustProxy ? first(headers['x-forwarded-proto']) : undefined;
  const forwardedHost = options.trustProxy ? first(headers['x-forwarded-host']) : undefined;
  const scheme =
    forwardedProto === 'http' || forwardedProto === 'https'
      ? forwardedProto
      : options.encrypted
        ? 'https'
        : 'http';
  const host = forwardedHost ?? first(headers[':authority']) ?? first(headers.host) ?? 'localhost';
  try {
    return new URL(options.hubPath, `${scheme}://${host}`).href;
  } catch {
    // A Host header that is no host: the URL names none rather than a made-up one.
    return new URL(options.hubPath, `${scheme}://localhost`).href;
  }
}

/** The resource identifier: the configured one, else the hub's URL as the request reached it. */
export function resourceIdentifierOf(configured: string | undefined, hubUrl: string): string {
  return configured ?? hubUrl;
}

/** The hub as one request reached it: what draft-08 resolves against and checks tokens with. */
export interface HubAddress {
  /** The hub's URL (`requestHubUrl`). */
  readonly hubUrl: string;
  /** What an access token's `aud` must hold. */
  readonly resourceIdentifier: string;
  /** Where the hub's protected resource metadata is: what its Bearer challenges name. */
  readonly resourceMetadata: string;
}

/** Addresses already worked out, by what they depend on: every request of a client brings the same host. */
const addresses = new Map<string, HubAddress>();
/** Most addresses remembered (hosts a hub is reached by, in practice a handful). */
const ADDRESS_CACHE_SIZE = 256;

/** The hub's address for a request with these headers, over TLS or not. */
export function hubAddress(
  headers: IncomingHttpHeaders,
  encrypted: boolean,
  settings: { trustProxy: boolean; resourceIdentifier: string | undefined },
): HubAddress {
  const { trustProxy, resourceIdentifier } = settings;
  const proxied = trustProxy ? `${headers['x-forwarded-proto']} ${headers['x-forwarded-host']}` : '';
  const key = `${encrypted} ${headers[':authority']} ${headers.host} ${proxied} ${resourceIdentifier}`;
  let address = addresses.get(key);
  if (address === undefined) {
    const hubUrl = requestHubUrl(headers, { encrypted, hubPath: HUB_PATH, trustProxy });
    address = {
      hubUrl,
      resourceIdentifier: resourceIdentifierOf(resourceIdentifier, hubUrl),
      resourceMetadata: resourceMetadataUrl(hubUrl),
    };
    if (addresses.size >= ADDRESS_CACHE_SIZE) addresses.clear();
    addresses.set(key, address);
  }
  return address;
}
