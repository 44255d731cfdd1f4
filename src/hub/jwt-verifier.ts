import type { KeyObject } from 'node:crypto';
import { errors, importJWK, importSPKI, importX509, type JWK, jwtVerify } from 'jose';
import { HubError, invalidToken } from './errors.js';
import { MERCURE_CLAIM } from './token-formats/mercure-claim.js';
import type { Grants, TokenFormat } from './token-formats/token-format.js';
import type { SelectorCache } from './topic-selector.js';

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

/**
 * The token formats the hub reads, asked in this order which one recognizes a token: a format that
 * recognizes its own `typ` goes before draft-07's, which reads any token.
 */
const TOKEN_FORMATS: readonly TokenFormat[] = [MERCURE_CLAIM];

/** Verified tokens remembered, so a token presented again skips the signature check. */
const VERIFIED_TOKEN_CACHE_SIZE = 1024;

/** A token checked: what it grants, and the time window it is valid in (ms since the epoch). */
export interface VerifiedToken {
  readonly grants: Grants;
  /** `nbf`, or -Infinity. */
  readonly notBefore: number;
  /** `exp`, or undefined when the token never expires. */
  readonly expiresAt: number | undefined;
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

/** Checks tokens against one key and algorithm, and reads their grants in the format each is in. */
export class JwtVerifier {
  private readonly key: Promise<CryptoKey | Uint8Array | KeyObject>;
  private readonly algorithm: JwtAlgorithm;
  /**
   * Tokens already verified, with the time window they are valid in: publishers and reconnecting
   * subscribers present the same token again and again, and a signature check costs far more than
   * the rest of a publish. Bounded; the oldest entry goes first.
   */
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(
    options: JwtKeyOptions,
    private readonly selectors: SelectorCache,
    private readonly maxTokenBytes: number,
    private readonly clockToleranceSeconds: number,
    private readonly formats: readonly TokenFormat[] = TOKEN_FORMATS,
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

  /** Verifies a token and reads its grants; throws a 401 `HubError` for any fault. */
  async verify(token: string): Promise<VerifiedToken> {
    if (token.length > this.maxTokenBytes)
      throw invalidToken(`The token is longer than ${this.maxTokenBytes} bytes.`);
    const known = this.verified.get(token);
    if (known !== undefined) {
      const now = Date.now();
      const tolerance = this.clockToleranceSeconds * 1000;
      const expiresAt = known.expiresAt ?? Number.POSITIVE_INFINITY;
      if (now + tolerance >= known.notBefore && now - tolerance < expiresAt) return known;
      // Out of its window now: checked again in full, which says why it is refused.
      this.verified.delete(token);
    }
    const verified = await this.verifySignature(token);
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, verified);
    return verified;
  }

  private async verifySignature(token: string): Promise<VerifiedToken> {
    let jwt: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      jwt = await jwtVerify(token, await this.key, {
        algorithms: [this.algorithm],
        clockTolerance: this.clockToleranceSeconds,
      });
    } catch (error) {
      if (error instanceof HubError) throw error;
      throw invalidToken(describeJoseError(error));
    }
    const { payload, protectedHeader: header } = jwt;
    const format = this.formats.find((candidate) => candidate.recognizes(header));
    if (format === undefined) throw invalidToken(`The hub reads no token of type "${header.typ ?? 'none'}".`);
    return {
      grants: format.grants({ header, payload }, this.selectors),
      notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 : Number.NEGATIVE_INFINITY,
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    };
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
