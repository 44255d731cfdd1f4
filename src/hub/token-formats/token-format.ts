import type { JWTPayload, JWTVerifyOptions, ProtectedHeaderParameters } from 'jose';
import type { KeySource } from '../oauth/key-source.js';
import type { TokenGeneration } from '../oauth/presented-token.js';
import type { SelectorCache, TopicSelector } from '../topic-selector.js';

/**
 * What a valid token lets its holder do: all the hub knows of a token once it is read. Every token
 * format gives the same grants, so publish, subscribe, private updates, the subscriptions API and
 * the dashboard never ask which format a token was.
 */
export interface Grants {
  /** Selectors of the topics the holder may publish to; undefined: none. */
  readonly publish: readonly TopicSelector[] | undefined;
  /**
   * Selectors of the private topics the holder may receive (private updates, the subscriptions API,
   * the dashboard's figures); undefined: none.
   */
  readonly subscribe: readonly TopicSelector[] | undefined;
  /** Data about the holder shown with its subscription of this selector text; undefined: none. */
  payloadFor(selector: string): unknown;
}

/** Who the hub is for the request a token came with: what its tokens are checked against. */
export interface VerifyContext {
  /** The value an access token's `aud` must hold: the hub's resource identifier. */
  readonly resourceIdentifier: string;
  /** The hub's URL as the request reached it: relative URL Patterns resolve against it. */
  readonly hubUrl: string;
}

/** The keys one role (publishers, or subscribers) trusts. */
export interface TrustedKeys {
  /** The role's configured key, for draft-07 tokens (they name no issuer); undefined: none. */
  readonly configured: KeySource | undefined;
  /** The issuers of access tokens, by the `iss` they sign with, each with its own keys alone. */
  readonly issuers: ReadonlyMap<string, readonly KeySource[]>;
}

/** How a token is verified: with which keys, and what jose checks besides its signature and time window. */
export interface Verification {
  /** Tried in order, those whose algorithms include the token's `alg`. */
  readonly keys: readonly KeySource[];
  readonly checks: Pick<JWTVerifyOptions, 'typ' | 'issuer' | 'audience' | 'requiredClaims'>;
}

/** A JWT whose signature, `exp` and `nbf` the hub has checked with a trusted key. */
export interface VerifiedJwt {
  readonly header: ProtectedHeaderParameters;
  readonly payload: JWTPayload;
}

/**
 * A token format: one way a token says what it grants, one per generation, each a file of this
 * folder: draft-07's `mercure` claim (`mercure-claim.ts`) and draft-08's RFC 9068 access token
 * (`access-token.ts`). Which one a token is, `typ` says (`../oauth/presented-token.ts`); the
 * verifier (`../jwt-verifier.ts`) then asks the format which keys and checks apply, verifies the
 * signature and the time window, and takes the grants from the format.
 */
export interface TokenFormat {
  /** The format's name, for messages. */
  readonly name: string;
  readonly generation: TokenGeneration;
  /**
   * The keys and checks for a token with these (not yet verified) claims. Throws the 401 of
   * `invalidToken` when no trusted key may verify it (an issuer the hub does not trust).
   */
  verification(claims: JWTPayload, keys: TrustedKeys, context: VerifyContext): Verification;
  /**
   * What the token grants; selectors are made with `selectors` (shared, so a token presented again
   * compiles nothing). Throws the 401 of `invalidToken` when the token's claims are not valid ones
   * of this format.
   */
  grants(jwt: VerifiedJwt, selectors: SelectorCache, context: VerifyContext): Grants;
}
