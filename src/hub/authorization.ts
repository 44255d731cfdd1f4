import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The part of a request that carries credentials: its headers. */
type WithHeaders = { headers: IncomingHttpHeaders };

import { errors, importJWK, importSPKI, importX509, type JWK, type JWTPayload, jwtVerify } from 'jose';
import { HubError } from './errors.js';
import type { SelectorCache, TopicSelector } from './topic-selector.js';

/** JWS algorithms a hub can be configured with. `none` is never one of them. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/**
 * The key that checks tokens, and its algorithm. HMAC algorithms (`HS*`, the default `HS256`) take a
 * shared secret; the others take a public key: PEM (SPKI `BEGIN PUBLIC KEY` or an X.509
 * certificate), a JWK as JSON, or a `KeyObject`/`CryptoKey`. The algorithm comes from here, never
 * from the token.
 */
export interface JwtKeyOptions {
  key: string | Uint8Array | KeyObject | CryptoKey;
  algorithm?: JwtAlgorithm;
}

/** Verified tokens remembered, so a token presented again skips the signature check. */
const VERIFIED_TOKEN_CACHE_SIZE = 1024;

/** What a valid token allows. */
export interface Claims {
  /** `mercure.publish`: selectors of the topics the holder may publish to; undefined: none. */
  publish: TopicSelector[] | undefined;
  /** `mercure.subscribe`: selectors of the private topics the holder may receive; undefined: none. */
  subscribe: TopicSelector[] | undefined;
  /** `mercure.payload`, shown in subscription events. */
  payload: unknown;
  /** Expiration time (`exp`), in ms since the epoch. */
  expiresAt: number | undefined;
}

/** Where a token came from; a publish authorized by a cookie alone needs an allowed Origin (CSRF). */
export type TokenCarrier = 'header' | 'query' | 'cookie';

export interface PresentedToken {
  token: string;
  carrier: TokenCarrier;
}

function authenticate(description: string, error = 'invalid_token'): HubError {
  const header = `Bearer realm="mercure", error="${error}", error_description="${description.replace(/["\\]/g, '')}"`;
  return new HubError('unauthorized', description, { 'www-authenticate': header });
}

/** The 401 for a request that brought no token where one is needed. */
export function missingToken(what: string): HubError {
  return new HubError(
    'unauthorized',
    `${what} needs a JWT: send it as "Authorization: Bearer <token>", in the cookie, or in the "authorization" query parameter.`,
    {
      'www-authenticate': 'Bearer realm="mercure"',
    },
  );
}

function isPem(key: string): boolean {
  return key.includes('-----BEGIN');
}

async function importKey(options: JwtKeyOptions): Promise<CryptoKey | Uint8Array | KeyObject> {
  const algorithm = options.algorithm ?? 'HS256';
  if (!JWT_ALGORITHMS.includes(algorithm)) {
    throw new HubError(
      'invalid-option',
      `Unknown JWT algorithm "${algorithm}". Use one of ${JWT_ALGORITHMS.join(', ')}.`,
    );
  }
  const { key } = options;
  const hmac = algorithm.startsWith('HS');
  if (typeof key !== 'string') {
    if (key instanceof Uint8Array && !hmac) {
      throw new HubError('invalid-option', `A ${algorithm} key must be a public key, not bytes of a secret.`);
    }
    return key;
  }
  if (hmac) {
    // A public key used as an HMAC secret is the classic algorithm-confusion hole: refuse the setup.
    if (isPem(key) || key.trimStart().startsWith('{')) {
      throw new HubError(
        'invalid-option',
        `${algorithm} takes a shared secret, but the key given looks like a public key. Set the algorithm of that key (RS256, ES256, EdDSA…).`,
      );
    }
    if (key.length === 0) throw new HubError('invalid-option', 'The JWT secret must not be empty.');
    return new TextEncoder().encode(key);
  }
  try {
    if (key.trimStart().startsWith('{')) return await importJWK(JSON.parse(key) as JWK, algorithm);
    if (key.includes('BEGIN CERTIFICATE')) return await importX509(key, algorithm);
    if (isPem(key)) return await importSPKI(key, algorithm);
  } catch (error) {
    throw new HubError(
      'invalid-option',
      `The ${algorithm} public key could not be read: ${(error as Error).message}`,
    );
  }
  throw new HubError(
    'invalid-option',
    `A ${algorithm} key must be a PEM public key, an X.509 certificate or a JWK.`,
  );
}

function selectorList(value: unknown, name: string, cache: SelectorCache): TopicSelector[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw authenticate(`The "mercure.${name}" claim must be an array of strings.`);
  }
  return (value as string[]).map((selector) => cache.get(selector));
}

/** Checks tokens against one key and algorithm. */
export class JwtVerifier {
  private readonly key: Promise<CryptoKey | Uint8Array | KeyObject>;
  private readonly algorithm: JwtAlgorithm;
  /**
   * Tokens already verified, with the time window they are valid in: publishers and reconnecting
   * subscribers present the same token again and again, and a signature check costs far more than
   * the rest of a publish. Bounded; the oldest entry goes first.
   */
  private readonly verified = new Map<string, { claims: Claims; notBefore: number; expiresAt: number }>();

  constructor(
    options: JwtKeyOptions,
    private readonly selectors: SelectorCache,
    private readonly maxTokenBytes: number,
    private readonly clockToleranceSeconds: number,
  ) {
    this.algorithm = options.algorithm ?? 'HS256';
    this.key = importKey(options);
    // A bad key is reported by `ready()`; a request before that gets the same error, not an unhandled rejection.
    this.key.catch(() => {});
  }

  /** Resolves once the key is usable; rejects with the configuration error otherwise. */
  async ready(): Promise<void> {
    await this.key;
  }

  /** Verifies a token and reads its `mercure` claim; throws a 401 `HubError` for any fault. */
  async verify(token: string): Promise<Claims> {
    if (token.length > this.maxTokenBytes)
      throw authenticate(`The token is longer than ${this.maxTokenBytes} bytes.`);
    const known = this.verified.get(token);
    if (known !== undefined) {
      const now = Date.now();
      const tolerance = this.clockToleranceSeconds * 1000;
      if (now + tolerance >= known.notBefore && now - tolerance < known.expiresAt) return known.claims;
      // Out of its window now: checked again in full, which says why it is refused.
      this.verified.delete(token);
    }
    const claims = await this.verifySignature(token);
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    return claims;
  }

  private async verifySignature(token: string): Promise<Claims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.key, {
        algorithms: [this.algorithm],
        clockTolerance: this.clockToleranceSeconds,
      }));
    } catch (error) {
      if (error instanceof HubError) throw error;
      throw authenticate(describeJoseError(error));
    }
    const mercure = payload.mercure;
    if (
      mercure !== undefined &&
      (typeof mercure !== 'object' || mercure === null || Array.isArray(mercure))
    ) {
      throw authenticate('The "mercure" claim must be an object.');
    }
    const claim = (mercure ?? {}) as Record<string, unknown>;
    const claims: Claims = {
      publish: selectorList(claim.publish, 'publish', this.selectors),
      subscribe: selectorList(claim.subscribe, 'subscribe', this.selectors),
      payload: claim.payload,
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    };
    this.verified.set(token, {
      claims,
      notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 : Number.NEGATIVE_INFINITY,
      expiresAt: claims.expiresAt ?? Number.POSITIVE_INFINITY,
    });
    return claims;
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `The token is not valid: ${error.reason} (${error.claim}).`;
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'The token is signed with an algorithm this hub does not accept.';
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "The token signature is not valid for this hub's key.";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'The token is malformed.';
  if (error instanceof errors.JOSEError) return `The token was refused: ${error.message}`;
  return 'The token was refused.';
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at === -1) continue;
    if (part.slice(0, at).trim() === name) {
      const value = part.slice(at + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/**
 * The token a request presents, in the order the spec sets: the `Authorization` header wins,
 * then the `authorization` query parameter, then the cookie.
 */
export function presentedToken(
  req: WithHeaders,
  query: URLSearchParams,
  cookieName: string,
): PresentedToken | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1])
      throw authenticate('The Authorization header must be "Bearer <token>".', 'invalid_request');
    return { token: match[1], carrier: 'header' };
  }
  const fromQuery = query.get('authorization');
  if (fromQuery !== null) return { token: fromQuery, carrier: 'query' };
  const fromCookie = readCookie(req.headers.cookie, cookieName);
  if (fromCookie !== undefined) return { token: fromCookie, carrier: 'cookie' };
  return undefined;
}

/**
 * CSRF guard for a publish authorized by a cookie alone: the request's Origin (or, failing that,
 * the origin of its Referer) must be one the operator allowed.
 */
export function checkPublishOrigin(req: WithHeaders, allowed: readonly string[] | '*'): void {
  let origin = req.headers.origin;
  if (origin === undefined && req.headers.referer !== undefined) {
    try {
      origin = new URL(req.headers.referer).origin;
    } catch {
      origin = undefined;
    }
  }
  if (origin === undefined) {
    throw new HubError(
      'forbidden',
      'A publish authorized by a cookie needs an Origin or a Referer header (CSRF protection).',
    );
  }
  if (allowed !== '*' && !allowed.includes(origin)) {
    throw new HubError(
      'forbidden',
      `Publishing with a cookie is not allowed from origin ${origin}. Add it to the hub's publish origins.`,
    );
  }
}
