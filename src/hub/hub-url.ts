import type { IncomingHttpHeaders } from 'node:http';

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
