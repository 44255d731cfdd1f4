import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { invalidToken } from './bearer-challenge.js';
import { HubError } from './errors.js';
import { JwksError } from './oauth/jwks.js';
import type { KeySource } from './oauth/key-source.js';
import type { TokenGeneration } from './oauth/presented-token.js';
import { ACCESS_TOKEN } from './token-formats/access-token.js';
import { MERCURE_CLAIM } from './token-formats/mercure-claim.js';
import type {
  Grants,
  TokenFormat,
  TrustedKeys,
  Verification,
  VerifyContext,
} from './token-formats/token-format.js';
import type { SelectorCache } from './topic-selector.js';

/** The format of each generation's tokens. */
const TOKEN_FORMATS: Readonly<Record<TokenGeneration, TokenFormat>> = {
  'draft-07': MERCURE_CLAIM,
  'draft-08': ACCESS_TOKEN,
};

/** Verified tokens remembered, so a token presented again skips the signature check. */
const VERIFIED_TOKEN_CACHE_SIZE = 1024;

/** A token checked: what it grants, and the time window it is valid in (ms since the epoch). */
export interface VerifiedToken {
  readonly grants: Grants;
  /** `nbf`, or -Infinity. */
  readonly notBefore: number;
  /** `exp`, or undefined when the token never expires (draft-07 only: access tokens must expire). */
  readonly expiresAt: number | undefined;
}

export interface TokenVerifierOptions {
  /** Longest accepted token, in bytes: longer ones are refused before any cryptography. */
  readonly maxTokenBytes: number;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
}

/**
 * Checks one role's tokens, of either generation, with the keys it trusts, and reads their grants
 * in their format: the one place a token's signature is checked. A token's format gives the keys
 * (draft-07: the configured key; access tokens: their issuer's) and the claims to check; the
 * algorithm is always the key's, never the token's.
 */
export class TokenVerifier {
  /**
   * Tokens already verified, with the time window they are valid in: publishers and reconnecting
   * subscribers present the same token again and again, and a signature check costs far more than
   * the rest of a publish. Bounded; the oldest entry goes first. Keyed by the hub as the request
   * reached it too: an access token means something else for another audience or hub URL.
   */
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(
    private readonly keys: TrustedKeys,
    private readonly selectors: SelectorCache,
    private readonly options: TokenVerifierOptions,
  ) {}

  /** Resolves once every key is usable; rejects with the configuration error otherwise. */
  async ready(): Promise<void> {
    const sources = new Set<KeySource>([...this.keys.issuers.values()].flat());
    if (this.keys.configured !== undefined) sources.add(this.keys.configured);
    await Promise.all([...sources].map((source) => source.ready()));
  }

  /**
   * Verifies a token of `generation` and reads its grants. Throws a 401 `HubError` (`invalid_token`)
   * for any fault of the token, and a 503 when its issuer's keys cannot be had right now.
   */
  async verify(token: string, generation: TokenGeneration, context: VerifyContext): Promise<VerifiedToken> {
    const { maxTokenBytes, clockToleranceSeconds } = this.options;
    if (token.length > maxTokenBytes) throw invalidToken(`The token is longer than ${maxTokenBytes} bytes.`);
    const cacheKey = `${context.resourceIdentifier}\n${context.hubUrl}\n${token}`;
    const known = this.verified.get(cacheKey);
    if (known !== undefined) {
      const now = Date.now();
      const tolerance = clockToleranceSeconds * 1000;
      const expiresAt = known.expiresAt ?? Number.POSITIVE_INFINITY;
      if (now + tolerance >= known.notBefore && now - tolerance < expiresAt) return known;
      // Out of its window now: checked again in full, which says why it is refused.
      this.verified.delete(cacheKey);
    }
    const format = TOKEN_FORMATS[generation];
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw invalidToken('The token is malformed.');
    }
    const verification = format.verification(unverified, this.keys, context);
    const { payload, protectedHeader: header } = await this.verifySignature(token, format, verification);
    const verified: VerifiedToken = {
      grants: format.grants({ header, payload }, this.selectors, context),
      notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 : Number.NEGATIVE_INFINITY,
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    };
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(cacheKey, verified);
    return verified;
  }

  private async verifySignature(
    token: string,
    format: TokenFormat,
    { keys, checks }: Verification,
  ): Promise<Awaited<ReturnType<typeof jwtVerify>>> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw invalidToken('The token is malformed.');
    }
    const sources = keys.filter((source) => alg !== undefined && source.algorithms.includes(alg));
    if (sources.length === 0) {
      throw invalidToken(
        `The token is signed with ${alg ?? 'no algorithm'}, which no key trusted for ${format.name}s uses.`,
      );
    }
    let reason = 'The token was refused.';
    for (const source of sources) {
      try {
        return await jwtVerify(token, (protectedHeader) => source.key(protectedHeader), {
          ...checks,
          algorithms: [...source.algorithms],
          clockTolerance: this.options.clockToleranceSeconds,
        });
      } catch (error) {
        if (error instanceof HubError) throw error;
        if (error instanceof JwksError && error.kind === 'unavailable') {
          throw new HubError('unavailable', `${error.message} Try again later.`, { 'retry-after': '5' });
        }
        reason = describeRefusal(error, checks.audience);
        // Another source of the same issuer may hold the key; any other fault is the token's.
        const wrongKey = error instanceof errors.JWSSignatureVerificationFailed || error instanceof JwksError;
        if (!wrongKey) break;
      }
    }
    throw invalidToken(reason);
  }
}

function describeRefusal(error: unknown, audience: unknown): string {
  if (error instanceof JwksError) return error.message;
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'typ') return 'The token is not an access token: its "typ" header must be "at+jwt".';
    if (error.claim === 'aud') {
      return `The token's "aud" does not hold this hub's resource identifier ${JSON.stringify(audience)}.`;
    }
    if (error.claim === 'exp') return 'The token has no "exp" claim; access tokens must expire.';
    if (error.claim === 'nbf') return 'The token is not valid yet ("nbf").';
    return `The token is not valid: ${error.reason} (${error.claim}).`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'The token is signed with an algorithm this hub does not accept.';
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "The token's signature is not valid for the keys the hub trusts for it.";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'The token is malformed.';
  if (error instanceof errors.JOSEError) return `The token was refused: ${error.message}`;
  return 'The token was refused.';
}
