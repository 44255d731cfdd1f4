import { type KeyObject, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, importPKCS8, SignJWT } from 'jose';
import { HubError } from './errors.js';
import { DEFAULT_COOKIE_NAME } from './hub-options.js';
import type { JwtAlgorithm } from './oauth/key-source.js';
import { ACCESS_TOKEN_COOKIE, isAccessTokenType } from './oauth/presented-token.js';
import { MERCURE_AUTHORIZATION_DETAIL_TYPE } from './resource-metadata.js';

/** What a token allows: the `mercure` claim. */
export interface MercureClaim {
  /** Topic selectors the holder may publish to (`['*']` for all). */
  publish?: string[];
  /** Topic selectors of the private updates the holder may receive. */
  subscribe?: string[];
  /** Data about the subscriber, shown in subscription events. */
  payload?: unknown;
}

export interface CreateTokenOptions {
  /** The signing algorithm. Default `HS256`. */
  algorithm?: JwtAlgorithm;
  /** Lifetime: seconds, or a jose time span such as `"1h"`. Default: no expiry. */
  expiresIn?: number | string;
  /** More registered claims (`sub`, `aud`…). */
  claims?: Record<string, unknown>;
}

async function signingKey(
  key: string | Uint8Array | KeyObject,
  algorithm: JwtAlgorithm,
): Promise<Uint8Array | KeyObject | CryptoKey> {
  if (typeof key !== 'string') return key;
  if (algorithm.startsWith('HS')) return new TextEncoder().encode(key);
  if (key.includes('-----BEGIN')) return importPKCS8(key, algorithm);
  throw new HubError('invalid-option', `A ${algorithm} token needs a PEM (PKCS#8) private key.`);
}

/** `exp` for a lifetime of seconds or a jose time span, counted from `now` (seconds). */
function expiration(expiresIn: number | string, now: number): number | string {
  return typeof expiresIn === 'number' ? now + expiresIn : expiresIn;
}

/**
 * Signs a JWT for a Mercure hub. HMAC algorithms take the shared secret; the others take a PEM
 * (PKCS#8) private key or a `KeyObject`.
 */
export async function createToken(
  mercure: MercureClaim,
  key: string | Uint8Array | KeyObject,
  options: CreateTokenOptions = {},
): Promise<string> {
  const algorithm = options.algorithm ?? 'HS256';
  const jwt = new SignJWT({ ...options.claims, mercure })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
    .setIssuedAt();
  if (options.expiresIn !== undefined) {
    jwt.setExpirationTime(expiration(options.expiresIn, Math.floor(Date.now() / 1000)));
  }
  return jwt.sign(await signingKey(key, algorithm));
}

/** A topic matcher of an access token: a string is an `exact` one. */
export type GrantMatcher = string | { match: string; match_type?: 'exact' | 'urlpattern' };

/** What a draft-08 access token allows. */
export interface AccessTokenGrants {
  /** Matchers of the topics the holder may publish to (`'*'` for all). */
  publish?: GrantMatcher[];
  /** Matchers of the topics whose private updates the holder may receive. */
  subscribe?: GrantMatcher[];
  /** Data shown with the holder's subscriptions (a JSON object), on the `subscribe` detail. */
  payload?: Record<string, unknown>;
}

export interface CreateAccessTokenOptions {
  /** `iss`: the issuer the hub trusts (its `--issuer`). */
  issuer: string;
  /** `aud`: the hub's resource identifier (by default its URL, `https://hub.example/.well-known/mercure`). */
  audience: string | string[];
  /** The signing algorithm. Default `HS256`. */
  algorithm?: JwtAlgorithm;
  /** Lifetime: seconds, or a jose time span such as `"1h"`. Default 3,600 s: access tokens expire. */
  expiresIn?: number | string;
  /** `sub`. Default: the client ID (a self-issued token's subject is its issuer's client). */
  subject?: string;
  /** `client_id`. Default: the issuer. */
  clientId?: string;
  /** More claims; `authorization_details` and the claims above are set from the options. */
  claims?: Record<string, unknown>;
}

/** Default lifetime of an access token from {@link createAccessToken}: one hour. */
export const DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

function topicMatchers(matchers: GrantMatcher[]): Array<{ match: string; match_type?: string }> {
  return matchers.map((matcher) => (typeof matcher === 'string' ? { match: matcher } : { ...matcher }));
}

/**
 * Signs a Mercure draft-08 access token (RFC 9068: header `typ` `at+jwt`; `iss`, `aud`, `exp`,
 * `sub`, `client_id`, `iat` and `jti`), its grants as `authorization_details`: one detail for
 * `publish`, one for `subscribe` (with the payload). Keys as for {@link createToken}.
 */
export async function createAccessToken(
  grants: AccessTokenGrants,
  key: string | Uint8Array | KeyObject,
  options: CreateAccessTokenOptions,
): Promise<string> {
  const algorithm = options.algorithm ?? 'HS256';
  const details: Array<Record<string, unknown>> = [];
  if (grants.publish !== undefined && grants.publish.length > 0) {
    details.push({
      type: MERCURE_AUTHORIZATION_DETAIL_TYPE,
      actions: ['publish'],
      topics: topicMatchers(grants.publish),
    });
  }
  if (grants.subscribe !== undefined && grants.subscribe.length > 0) {
    const detail: Record<string, unknown> = {
      type: MERCURE_AUTHORIZATION_DETAIL_TYPE,
      actions: ['subscribe'],
      topics: topicMatchers(grants.subscribe),
    };
    if (grants.payload !== undefined) detail.payload = grants.payload;
    details.push(detail);
  } else if (grants.payload !== undefined) {
    throw new HubError(
      'invalid-option',
      'A payload goes with subscribe grants: add at least one subscribe matcher.',
    );
  }
  const clientId = options.clientId ?? options.issuer;
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...options.claims, client_id: clientId, authorization_details: details })
    .setProtectedHeader({ alg: algorithm, typ: 'at+jwt' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject ?? clientId)
    .setJti(`urn:uuid:${randomUUID()}`)
    .setIssuedAt(now)
    .setExpirationTime(expiration(options.expiresIn ?? DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS, now));
  return jwt.sign(await signingKey(key, algorithm));
}

/** The target attributes of a discovery link. */
export interface DiscoveryLinkOptions {
  /** The ID of the last update at the time the resource was generated: subscribers pass it as `last_event_id`. */
  lastEventId?: string;
  /** The content type of the updates' data. */
  contentType?: string;
  /** The SSE event type of the updates (draft-08); omitted: `message`. */
  type?: string;
  keySet?: string;
}

/** The `Link` header that tells subscribers where the hub is (Mercure discovery). */
export function discoveryLink(hubUrl: string, options: DiscoveryLinkOptions = {}): string {
  const quoted = (text: string) => `"${text.replace(/["\\]/g, '')}"`;
  let link = `<${hubUrl}>; rel="mercure"`;
  if (options.lastEventId !== undefined) link += `; last-event-id=${quoted(options.lastEventId)}`;
  if (options.type !== undefined) link += `; type=${quoted(options.type)}`;
  if (options.contentType !== undefined) link += `; content-type="${options.contentType}"`;
  if (options.keySet !== undefined) link += `; key-set="${options.keySet}"`;
  return link;
}

export interface AuthorizationCookieOptions {
  /**
   * Cookie name. Default: the one the token's generation reads, `__Secure-mercure_access_token` for
   * an access token (draft-08; the `__Secure-` prefix needs HTTPS), `mercureAuthorization` otherwise.
   */
  name?: string;
  /** Path: the hub's path. Default `/.well-known/mercure`. */
  path?: string;
  /** Share the cookie with subdomains (the hub on another subdomain than the app). */
  domain?: string;
  /** Only over HTTPS. Default true. */
  secure?: boolean;
  /** Default `Strict`. */
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** Lifetime in seconds. Default: a session cookie. */
  maxAgeSeconds?: number;
}

/**
 * The `Set-Cookie` value that hands a browser its subscriber token (HttpOnly: page scripts cannot
 * read it), so `new EventSource(hubUrl, { withCredentials: true })` sends it to the hub.
 */
export function authorizationCookie(token: string, options: AuthorizationCookieOptions = {}): string {
  const parts = [
    `${options.name ?? defaultCookieName(token)}=${token}`,
    `Path=${options.path ?? '/.well-known/mercure'}`,
    'HttpOnly',
  ];
  if (options.secure ?? true) parts.push('Secure');
  parts.push(`SameSite=${options.sameSite ?? 'Strict'}`);
  if (options.domain !== undefined) parts.push(`Domain=${options.domain}`);
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}

/** The cookie a token's generation is read from. */
function defaultCookieName(token: string): string {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    typ = undefined;
  }
  return isAccessTokenType(typ) ? ACCESS_TOKEN_COOKIE : DEFAULT_COOKIE_NAME;
}
