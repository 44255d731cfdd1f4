import type { IncomingHttpHeaders } from 'node:http';
import { missingAccessToken } from './bearer-challenge.js';
import { HubError } from './errors.js';
import type { HubRequest } from './hub-request.js';
import { TokenVerifier } from './jwt-verifier.js';
import { JwksKeySource } from './oauth/jwks.js';
import { configuredKeySource, type JwtKeyOptions, type KeySource } from './oauth/key-source.js';
import {
  ACCESS_TOKEN_COOKIE,
  presentedCredential,
  type TokenCarrier,
  type TokenGeneration,
} from './oauth/presented-token.js';
import type { Grants, TrustedKeys } from './token-formats/token-format.js';
import type { SelectorCache } from './topic-selector.js';

/** The part of a request that carries credentials: its headers. */
type WithHeaders = { headers: IncomingHttpHeaders };

/** A request's token, checked: what it grants, until when, how it came, and of which generation. */
export interface Authorization {
  readonly grants: Grants;
  /** When the token expires (`exp`), in ms since the epoch; undefined: never. */
  readonly expiresAt: number | undefined;
  readonly carrier: TokenCarrier;
  readonly generation: TokenGeneration;
}

/** Whose keys check a token: publishers' (publishing) or subscribers' (subscribing, reading subscriptions). */
export type TokenRole = 'publisher' | 'subscriber';

/** The options the Authorizer reads: the keys, and who issues access tokens. */
export interface AuthorizerOptions {
  publisherJwt?: JwtKeyOptions;
  subscriberJwt?: JwtKeyOptions;
  issuer?: string;
  jwksUrl?: string;
}

/**
 * The hub's keys and where it looks for tokens: the one place a request's token is read and checked.
 * A role's configured key verifies draft-07 tokens and, when the hub names their `issuer`, that
 * issuer's access tokens, beside the issuer's key set (`jwksUrl`, shared by both roles).
 */
export class Authorizer {
  private readonly publisher: TokenVerifier | undefined;
  private readonly subscriber: TokenVerifier | undefined;
  private readonly draft07: boolean;
  private readonly cookieName: string;

  /**
   * The subscribers' key defaults to the publishers'; both share `selectors`, the hub's cache.
   * Throws a `HubError` (`invalid-option`) for a key that is empty or missing, a key set with no
   * issuer or an unusable URL, and a hub with no key that is not anonymous-only, or that takes
   * access tokens only and names no issuer: no token could ever be valid there.
   */
  constructor(
    options: AuthorizerOptions,
    settings: {
      maxTokenBytes: number;
      clockToleranceSeconds: number;
      cookieName: string;
      anonymous: boolean;
      draft07: boolean;
    },
    selectors: SelectorCache,
  ) {
    this.draft07 = settings.draft07;
    this.cookieName = settings.cookieName;
    const { publisherJwt, subscriberJwt, issuer } = options;
    if (publisherJwt !== undefined) requireKey('publisherJwt', publisherJwt);
    if (subscriberJwt !== undefined) requireKey('subscriberJwt', subscriberJwt);
    if (issuer !== undefined && issuer === '') {
      throw new HubError(
        'invalid-option',
        'issuer is empty: set it to the `iss` of the access tokens to take.',
      );
    }
    const jwks = keySet(options);
    if (
      publisherJwt === undefined &&
      subscriberJwt === undefined &&
      jwks === undefined &&
      !settings.anonymous
    ) {
      throw new HubError(
        'invalid-option',
        'The hub has no key, so no token could ever be valid for it: set publisherJwt: { key } (a shared ' +
          'secret, or a public key with its algorithm), or an issuer and its jwksUrl. For a hub of ' +
          'anonymous subscribers only (no publishing over HTTP; hub.publish() still works), set ' +
          'anonymous: true instead.',
      );
    }
    if (!settings.draft07 && issuer === undefined && !settings.anonymous) {
      throw new HubError(
        'invalid-option',
        'draft-07 is off, so the hub takes access tokens only, yet it names no issuer whose tokens its keys verify: set issuer.',
      );
    }
    const publisherKey = publisherJwt && configuredKeySource(publisherJwt);
    const subscriberKey = subscriberJwt ? configuredKeySource(subscriberJwt) : publisherKey;
    const verifier = (configured: KeySource | undefined): TokenVerifier | undefined => {
      const issuerKeys = [configured, jwks].filter((source) => source !== undefined);
      if (issuerKeys.length === 0) return undefined;
      const keys: TrustedKeys = {
        configured,
        issuers: new Map(issuer === undefined ? [] : [[issuer, issuerKeys]]),
      };
      return new TokenVerifier(keys, selectors, settings);
    };
    this.publisher = verifier(publisherKey);
    this.subscriber = subscriberKey === publisherKey ? this.publisher : verifier(subscriberKey);
  }

  /** Resolves once the keys are read (and the key set loaded); rejects with the error of a bad one. */
  async ready(): Promise<void> {
    await Promise.all([this.publisher?.ready(), this.subscriber?.ready()]);
  }

  /**
   * The token the request presents, checked with the keys of `role`; undefined when it presents
   * none. Throws a 401 `HubError` for a token that cannot be used (`what` says for what, in its
   * message), a 400 for one presented the wrong way.
   */
  async authorize(
    req: WithHeaders,
    request: HubRequest,
    role: TokenRole,
    what: string,
  ): Promise<Authorization | undefined> {
    const presented = presentedCredential(req.headers, request.query, {
      draft07: this.draft07,
      draft07CookieName: this.cookieName,
    });
    if (presented === undefined) return undefined;
    const verifier = role === 'publisher' ? this.publisher : this.subscriber;
    if (verifier === undefined) {
      throw new HubError('unauthorized', `${what} with a token is not possible: the hub has no key for it.`, {
        'www-authenticate': 'Bearer realm="mercure"',
      });
    }
    const { grants, expiresAt } = await verifier.verify(
      presented.token,
      presented.generation,
      request.address,
    );
    return { grants, expiresAt, carrier: presented.carrier, generation: presented.generation };
  }

  /** The 401 for a request that brought no token where one is needed. */
  missingToken(what: string): HubError {
    return missingAccessToken(
      this.draft07
        ? `${what} needs a JWT: send it as "Authorization: Bearer <token>", in the ${ACCESS_TOKEN_COOKIE} (or ${this.cookieName}) cookie, or (a draft-07 token) in the "authorization" query parameter.`
        : `${what} needs an access token: send it as "Authorization: Bearer <token>" or in the ${ACCESS_TOKEN_COOKIE} cookie.`,
    );
  }
}

/** The issuer's key set, when configured; refuses one without an issuer, or whose URL is unusable. */
function keySet(options: AuthorizerOptions): JwksKeySource | undefined {
  if (options.jwksUrl === undefined) return undefined;
  if (options.issuer === undefined) {
    throw new HubError('invalid-option', 'jwksUrl needs issuer: the `iss` of the tokens its keys verify.');
  }
  try {
    return new JwksKeySource({ url: options.jwksUrl });
  } catch (error) {
    throw new HubError('invalid-option', (error as Error).message);
  }
}

/** Refuses a key that is missing or empty (an unset environment variable, most often). */
function requireKey(name: string, options: JwtKeyOptions): void {
  const { key } = options;
  // A caller without types can pass anything: undefined and null are the usual mistakes.
  const missing = key === undefined || key === null;
  if (missing || ((typeof key === 'string' || key instanceof Uint8Array) && key.length === 0)) {
    throw new HubError(
      'invalid-option',
      `${name}.key is ${missing ? 'missing' : 'empty'}, so no token could ever be valid for it. ` +
        'Set it to your secret (or public key): when it comes from an environment variable, check ' +
        'that the variable is set before creating the hub.',
    );
  }
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
