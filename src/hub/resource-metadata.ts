import type { ServerResponse } from 'node:http';
import { HubError } from './errors.js';
import type { HubRequest } from './hub-request.js';
import { ACCESS_TOKEN_COOKIE } from './oauth/presented-token.js';
import { HUB_PATH } from './paths.js';
import { MATCH_TYPES } from './topic-selector.js';

/**
 * The hub as an OAuth 2.0 protected resource: its metadata document (RFC 9728, with the members
 * Mercure draft-08 adds), and where it is. Its challenges name it (`bearer-challenge.ts`).
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

/** Where the hub answers its metadata: its path under the well-known prefix (RFC 9728 §3.1). */
export const RESOURCE_METADATA_PATH = `${PROTECTED_RESOURCE_WELL_KNOWN}${HUB_PATH}`;

export interface ResourceMetadataOptions {
  /** The resource identifier: what tokens carry in `aud`. */
  resource: string;
  /** The cookie a browser may carry its token in (`mercure_cookie`); omitted: none. */
  cookieName?: string;
  /** The hub serves subscription events and the subscriptions API (`mercure_subscriptions`). */
  subscriptions?: boolean;
  /** Issuers of the authorization servers that issue tokens for the hub; omitted for self-issued tokens. */
  authorizationServers?: readonly string[];
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
  document.mercure_matcher_types_supported = [...MATCH_TYPES];
  if (options.subscriptions === true) document.mercure_subscriptions = true;
  return document;
}

/**
 * `GET /.well-known/oauth-protected-resource/.well-known/mercure`: the document, its `resource` the
 * configured resource identifier or the hub's URL as the request reached it.
 */
export function serveResourceMetadata(
  method: string | undefined,
  res: ServerResponse,
  request: HubRequest,
  settings: { subscriptions: boolean; authorizationServers: readonly string[] },
): void {
  if (method !== 'GET' && method !== 'HEAD') {
    throw new HubError('method-not-allowed', 'The metadata answers GET only.', { allow: 'GET, HEAD' });
  }
  const document = resourceMetadataDocument({
    resource: request.address.resourceIdentifier,
    cookieName: ACCESS_TOKEN_COOKIE,
    subscriptions: settings.subscriptions,
    authorizationServers: settings.authorizationServers,
  });
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
  res.end(method === 'HEAD' ? undefined : JSON.stringify(document));
}
