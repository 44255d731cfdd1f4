import { HubError } from './errors.js';

/**
 * The hub as an OAuth 2.0 protected resource: its metadata document (RFC 9728, with the members
 * Mercure draft-08 adds) and the `WWW-Authenticate: Bearer` challenges of its 401, 403 and 400
 * answers (RFC 6750 §3), each naming where the metadata is (`resource_metadata`).
 */

/** The well-known path prefix of protected resource metadata (RFC 9728 §3). */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** The authorization details type of Mercure draft-08. */
export const MERCURE_AUTHORIZATION_DETAIL_TYPE = 'https://mercure.rocks/authorization-detail';

/**
 * Where the metadata of `resource` (an http(s) URL) is: the well-known prefix inserted between its
 * host and its path, a terminating `/` dropped (RFC 9728 §3.1).
 */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${PROTECTED_RESOURCE_WELL_KNOWN}${path}`;
}

/** The path a hub at `hubUrl` answers its metadata on (`/.well-known/oauth-protected-resource/.well-known/mercure`). */
export function resourceMetadataPath(hubUrl: string): string {
  return new URL(resourceMetadataUrl(hubUrl)).pathname;
}

export interface ResourceMetadataOptions {
  /** The resource identifier: what tokens carry in `aud`. */
  resource: string;
  /** The cookie a browser may carry its token in (`mercure_cookie`); omitted: none. */
  cookieName?: string;
  /** The hub serves subscription events and the subscriptions API (`mercure_subscriptions`). */
  subscriptions?: boolean;
  /** Issuers of the authorization servers that issue tokens for the hub; omitted for self-issued tokens. */
  authorizationServers?: readonly string[];
  /** Matcher types the hub supports. Default `exact` and `urlpattern`. */
  matcherTypes?: readonly string[];
}

/** The metadata document (served as `application/json`). */
export function resourceMetadataDocument(options: ResourceMetadataOptions): Record<string, unknown> {
  const document: Record<string, unknown> = { resource: options.resource };
  if (options.authorizationServers !== undefined && options.authorizationServers.length > 0) {
    document.authorization_servers = [...options.authorizationServers];
  }
  // The cookie is no RFC 6750 method: it has its own member.
  document.bearer_methods_supported = ['header'];
  document.authorization_details_types_supported = [MERCURE_AUTHORIZATION_DETAIL_TYPE];
  if (options.cookieName !== undefined) document.mercure_cookie = options.cookieName;
  document.mercure_matcher_types_supported = [...(options.matcherTypes ?? ['exact', 'urlpattern'])];
  if (options.subscriptions === true) document.mercure_subscriptions = true;
  return document;
}

/** The `error` codes of RFC 6750 §3.1. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export interface ChallengeOptions {
  error?: BearerErrorCode;
  description?: string;
  /** The URL of the metadata document. */
  resourceMetadata?: string;
}

/** RFC 6750 allows only printable ASCII but `"` and `\` in `error_description`. */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, (char) => (char === '"' ? "'" : ''));
}

/** A `WWW-Authenticate: Bearer` challenge. */
export function bearerChallenge(options: ChallengeOptions = {}): string {
  let challenge = 'Bearer realm="mercure"';
  if (options.error !== undefined) challenge += `, error="${options.error}"`;
  if (options.description !== undefined)
    challenge += `, error_description="${quotable(options.description)}"`;
  if (options.resourceMetadata !== undefined) {
    challenge += `, resource_metadata="${quotable(options.resourceMetadata)}"`;
  }
  return challenge;
}

/**
 * `headers` with `resource_metadata` added to its Bearer challenge, if it has one without it: the
 * hub's error answer passes every error's headers through this, draft-07 ones included.
 */
export function withResourceMetadata(
  headers: Record<string, string>,
  resourceMetadata: string,
): Record<string, string> {
  const challenge = headers['www-authenticate'];
  if (challenge === undefined || !/^Bearer\b/i.test(challenge) || /\bresource_metadata=/.test(challenge)) {
    return headers;
  }
  return {
    ...headers,
    'www-authenticate': `${challenge}, resource_metadata="${quotable(resourceMetadata)}"`,
  };
}

/** 401 for a token that is not valid (signature, type, issuer, audience, time, claims). */
export function invalidToken(description: string, resourceMetadata?: string): HubError {
  return new HubError('unauthorized', description, {
    'www-authenticate': bearerChallenge({ error: 'invalid_token', description, resourceMetadata }),
  });
}

/** 403 for a valid token that does not allow the operation. */
export function insufficientScope(description: string, resourceMetadata?: string): HubError {
  return new HubError('forbidden', description, {
    'www-authenticate': bearerChallenge({ error: 'insufficient_scope', description, resourceMetadata }),
  });
}

/** 400 for a token, or a way of presenting it, that is malformed. */
export function invalidRequest(description: string, resourceMetadata?: string): HubError {
  return new HubError('bad-request', description, {
    'www-authenticate': bearerChallenge({ error: 'invalid_request', description, resourceMetadata }),
  });
}

/** 401 for a request that needs a token and has none: a challenge with no error code (RFC 6750 §3.1). */
export function missingAccessToken(description: string, resourceMetadata?: string): HubError {
  return new HubError('unauthorized', description, {
    'www-authenticate': bearerChallenge({ resourceMetadata }),
  });
}
