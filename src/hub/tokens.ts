import type { KeyObject } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { HubError } from './errors.js';
import type { JwtAlgorithm } from './jwt-verifier.js';

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
  let signingKey: Uint8Array | KeyObject | CryptoKey;
  if (typeof key === 'string') {
    if (algorithm.startsWith('HS')) signingKey = new TextEncoder().encode(key);
    else if (key.includes('-----BEGIN')) signingKey = await importPKCS8(key, algorithm);
    else throw new HubError('invalid-option', `A ${algorithm} token needs a PEM (PKCS#8) private key.`);
  } else {
    signingKey = key;
  }
  const jwt = new SignJWT({ ...options.claims, mercure })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
    .setIssuedAt();
  if (options.expiresIn !== undefined) {
    jwt.setExpirationTime(
      typeof options.expiresIn === 'number'
        ? Math.floor(Date.now() / 1000) + options.expiresIn
        : options.expiresIn,
    );
  }
  return jwt.sign(signingKey);
}

/** The `Link` header that tells subscribers where the hub is (Mercure discovery). */
export function discoveryLink(
  hubUrl: string,
  options: { lastEventId?: string; contentType?: string; keySet?: string } = {},
): string {
  let link = `<${hubUrl}>; rel="mercure"`;
  if (options.lastEventId !== undefined)
    link += `; last-event-id="${options.lastEventId.replace(/["\\]/g, '')}"`;
  if (options.contentType !== undefined) link += `; content-type="${options.contentType}"`;
  if (options.keySet !== undefined) link += `; key-set="${options.keySet}"`;
  return link;
}

export interface AuthorizationCookieOptions {
  /** Cookie name. Default `mercureAuthorization`. */
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
    `${options.name ?? 'mercureAuthorization'}=${token}`,
    `Path=${options.path ?? '/.well-known/mercure'}`,
    'HttpOnly',
  ];
  if (options.secure ?? true) parts.push('Secure');
  parts.push(`SameSite=${options.sameSite ?? 'Strict'}`);
  if (options.domain !== undefined) parts.push(`Domain=${options.domain}`);
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}
