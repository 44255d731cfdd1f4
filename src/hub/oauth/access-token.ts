import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { HubError } from '../errors.js';
import { invalidToken, resourceMetadataUrl } from '../resource-metadata.js';
import type { MatcherCache } from '../selectors/matchers.js';
import {
  type AccessGrants,
  AuthorizationDetailsError,
  DEFAULT_DETAIL_LIMITS,
  type DetailLimits,
  readAuthorizationDetails,
} from './authorization-details.js';
import { JwksError } from './jwks.js';
import type { KeySource } from './key-source.js';

/**
 * Draft-08 access tokens: JWTs of the RFC 9068 profile, checked as Mercure draft-08 §"Token
 * Validation" says. The header's `typ` is `at+jwt`; `iss` is exactly one of the trusted issuers and
 * only that issuer's keys are tried (never a pool spanning issuers); `aud` holds the hub's resource
 * identifier; `exp` is required, `nbf` honoured; the algorithm comes from the key source's allowlist,
 * never from the token, and `none` is on no list. What the token allows comes from its
 * `authorization_details` alone: a token that also carries draft-07's `mercure` claim is refused,
 * the two claim sets are never mixed.
 */

/** An issuer the hub trusts, with where its keys come from. */
export interface TrustedIssuer {
  /** Compared exactly with the token's `iss`. */
  readonly issuer: string;
  /** Tried in order, those whose algorithms include the token's `alg`. */
  readonly keys: readonly KeySource[];
}

/** Default bound on a token's size; longer ones are refused before any cryptography. */
export const DEFAULT_MAX_ACCESS_TOKEN_BYTES = 16 * 1024;
/** Verified tokens remembered, so a token presented again skips the signature check. */
const VERIFIED_TOKEN_CACHE_SIZE = 1024;

export interface AccessTokenVerifierOptions {
  readonly issuers: readonly TrustedIssuer[];
  /** Compiles the matchers of `authorization_details`. */
  readonly matchers: MatcherCache;
  /** Default 16 KiB. */
  readonly maxTokenBytes?: number;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. Default 0. */
  readonly clockToleranceSeconds?: number;
  readonly limits?: DetailLimits;
}

/** What a request's token is checked against: who the hub is for this request. */
export interface VerifyContext {
  /** The value the token's `aud` must hold. */
  readonly resourceIdentifier: string;
  /** The hub's URL: relative URL Patterns resolve against it; the metadata URL derives from it. */
  readonly hubUrl: string;
}

/** A valid draft-08 access token. */
export interface AccessToken {
  readonly issuer: string;
  readonly subject: string | undefined;
  readonly clientId: string | undefined;
  /** `exp`, in ms since the epoch. */
  readonly expiresAt: number;
  readonly grants: AccessGrants;
}

interface Verified {
  readonly token: AccessToken;
  readonly notBefore: number;
}

export class AccessTokenVerifier {
  private readonly issuers: ReadonlyMap<string, TrustedIssuer>;
  private readonly matchers: MatcherCache;
  private readonly maxTokenBytes: number;
  private readonly clockToleranceSeconds: number;
  private readonly limits: DetailLimits;
  private readonly verified = new Map<string, Verified>();

  constructor(options: AccessTokenVerifierOptions) {
    this.issuers = new Map(options.issuers.map((issuer) => [issuer.issuer, issuer]));
    this.matchers = options.matchers;
    this.maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_ACCESS_TOKEN_BYTES;
    this.clockToleranceSeconds = options.clockToleranceSeconds ?? 0;
    this.limits = options.limits ?? DEFAULT_DETAIL_LIMITS;
  }

  /**
   * Verifies a token. Throws a 401 `HubError` (`invalid_token`, with the Bearer challenge) for any
   * fault of the token, and a 503 when its issuer's keys cannot be had right now.
   */
  async verify(token: string, context: VerifyContext): Promise<AccessToken> {
    const metadata = resourceMetadataUrl(context.hubUrl);
    const refuse = (description: string) => invalidToken(description, metadata);
    if (token.length > this.maxTokenBytes)
      throw refuse(`The token is longer than ${this.maxTokenBytes} bytes.`);
    // The same token means something else for another audience or another hub URL.
    const key = `${context.resourceIdentifier}\n${context.hubUrl}\n${token}`;
    const known = this.verified.get(key);
    if (known !== undefined) {
      const now = Date.now();
      const tolerance = this.clockToleranceSeconds * 1000;
      if (now + tolerance >= known.notBefore && now - tolerance < known.token.expiresAt) return known.token;
      this.verified.delete(key);
    }
    let header: JWSHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw refuse('The token is malformed.');
    }
    const trusted = typeof unverified.iss === 'string' ? this.issuers.get(unverified.iss) : undefined;
    if (trusted === undefined) {
      throw refuse(
        typeof unverified.iss === 'string'
          ? `The token's issuer ${JSON.stringify(unverified.iss)} is not one this hub trusts.`
          : 'The token has no "iss" claim.',
      );
    }
    const payload = await this.verifySignature(token, header, trusted, context, refuse);
    if (payload.mercure !== undefined) {
      throw refuse('The token carries both draft-07\'s "mercure" claim and is an access token (at+jwt).');
    }
    let grants: AccessGrants;
    try {
      grants = readAuthorizationDetails(
        payload.authorization_details,
        context.hubUrl,
        this.matchers,
        this.limits,
      );
    } catch (error) {
      if (error instanceof AuthorizationDetailsError) throw refuse(`The token's ${error.message}`);
      throw error;
    }
    const verified: AccessToken = {
      issuer: trusted.issuer,
      subject: typeof payload.sub === 'string' ? payload.sub : undefined,
      clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
      expiresAt: (payload.exp as number) * 1000,
      grants,
    };
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(key, {
      token: verified,
      notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 : Number.NEGATIVE_INFINITY,
    });
    return verified;
  }

  private async verifySignature(
    token: string,
    header: JWSHeaderParameters,
    trusted: TrustedIssuer,
    context: VerifyContext,
    refuse: (description: string) => HubError,
  ): Promise<JWTPayload> {
    const sources = trusted.keys.filter(
      (source) => header.alg !== undefined && source.algorithms.includes(header.alg),
    );
    if (sources.length === 0) {
      throw refuse(
        `The token is signed with ${header.alg ?? 'no algorithm'}, which its issuer's keys do not use.`,
      );
    }
    let reason = 'The token was refused.';
    for (const source of sources) {
      try {
        const { payload } = await jwtVerify(token, (protectedHeader) => source.key(protectedHeader), {
          algorithms: [...source.algorithms],
          typ: 'at+jwt',
          issuer: trusted.issuer,
          audience: context.resourceIdentifier,
          requiredClaims: ['exp'],
          clockTolerance: this.clockToleranceSeconds,
        });
        return payload;
      } catch (error) {
        if (error instanceof JwksError && error.kind === 'unavailable') {
          throw new HubError('unavailable', `${error.message} Try again later.`, { 'retry-after': '5' });
        }
        reason = describe(error, context);
        // Another source of the same issuer may hold the key; any other fault is the token's.
        const wrongKey = error instanceof errors.JWSSignatureVerificationFailed || error instanceof JwksError;
        if (!wrongKey) break;
      }
    }
    throw refuse(reason);
  }
}

function describe(error: unknown, context: VerifyContext): string {
  if (error instanceof JwksError) return error.message;
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'typ') return 'The token is not an access token: its "typ" header must be "at+jwt".';
    if (error.claim === 'aud') {
      return `The token's "aud" does not hold this hub's resource identifier ${JSON.stringify(context.resourceIdentifier)}.`;
    }
    if (error.claim === 'exp') return 'The token has no "exp" claim; access tokens must expire.';
    if (error.claim === 'nbf') return 'The token is not valid yet ("nbf").';
    return `The token is not valid: ${error.reason} (${error.claim}).`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'The token is signed with an algorithm this hub does not accept.';
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "The token's signature does not verify with its issuer's keys.";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'The token is malformed.';
  if (error instanceof errors.JOSEError) return `The token was refused: ${error.message}`;
  return 'The token was refused.';
}
