import type { JWTHeaderParameters, JWTPayload } from 'jose';
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
  /** Data about the holder, shown in its subscription events. */
  readonly payload: unknown;
}

/** A JWT whose signature, `exp` and `nbf` the hub has checked with its key. */
export interface VerifiedJwt {
  readonly header: JWTHeaderParameters;
  readonly payload: JWTPayload;
}

/**
 * A token format: one way a token says what it grants. Each format is one file of this folder; the
 * verifier (`../jwt-verifier.ts`) checks a token's signature and time window, asks its formats in
 * order which one `recognizes` the token's header, and takes the grants from that one.
 *
 * Today's format: draft-07's `mercure` claim (`mercure-claim.ts`), which reads any token. The next,
 * RFC 9068 OAuth access tokens (`typ: at+jwt`, `iss`, `aud`, `authorization_details`), is a file
 * exporting a `TokenFormat` that recognizes its `typ`, checks its own claims in `grants`, and makes
 * its selectors with the matcher types its details name (a `SelectorSyntax` each).
 */
export interface TokenFormat {
  /** The format's name, for log lines. */
  readonly name: string;
  /** True when this format reads a token with this protected header. */
  recognizes(header: JWTHeaderParameters): boolean;
  /**
   * What the token grants; selectors are made with `selectors` (shared, so a token presented again
   * compiles nothing). Throws the 401 `HubError` of {@link invalidToken} when the token's claims are
   * not valid ones of this format.
   */
  grants(jwt: VerifiedJwt, selectors: SelectorCache): Grants;
}
