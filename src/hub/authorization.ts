import type { IncomingHttpHeaders } from 'node:http';
import { HubError, invalidToken } from './errors.js';
import { type JwtKeyOptions, JwtVerifier } from './jwt-verifier.js';
import type { Grants } from './token-formats/token-format.js';
import type { SelectorCache } from './topic-selector.js';

/** The part of a request that carries credentials: its headers. */
type WithHeaders = { headers: IncomingHttpHeaders };

/** Where a token came from; a publish authorized by a cookie alone needs an allowed Origin (CSRF). */
export type TokenCarrier = 'header' | 'query' | 'cookie';

export interface PresentedToken {
  token: string;
  carrier: TokenCarrier;
}

/** A request's token, checked: what it grants, until when, and how it came. */
export interface Authorization {
  readonly grants: Grants;
  /** When the token expires (`exp`), in ms since the epoch; undefined: never. */
  readonly expiresAt: number | undefined;
  readonly carrier: TokenCarrier;
}

/** Whose key checks a token: publishers' (publishing) or subscribers' (subscribing, reading subscriptions). */
export type TokenRole = 'publisher' | 'subscriber';

/** The hub's keys and where it looks for tokens: the one place a request's token is read and checked. */
export class Authorizer {
  private readonly publisher: JwtVerifier | undefined;
  private readonly subscriber: JwtVerifier | undefined;
  private readonly cookieName: string;

  /**
   * The subscribers' key defaults to the publishers'; both share `selectors`, the hub's cache.
   * Throws a `HubError` (`invalid-option`) for a key that is empty or missing, and for a hub with no
   * key at all that is not anonymous-only: no token could ever be valid there.
   */
  constructor(
    keys: { publisherJwt?: JwtKeyOptions; subscriberJwt?: JwtKeyOptions },
    settings: {
      maxTokenBytes: number;
      clockToleranceSeconds: number;
      cookieName: string;
      anonymous: boolean;
    },
    selectors: SelectorCache,
  ) {
    const { maxTokenBytes, clockToleranceSeconds } = settings;
    this.cookieName = settings.cookieName;
    const publisherKey = keys.publisherJwt;
    if (publisherKey !== undefined) requireKey('publisherJwt', publisherKey);
    if (keys.subscriberJwt !== undefined) requireKey('subscriberJwt', keys.subscriberJwt);
    if (publisherKey === undefined && keys.subscriberJwt === undefined && !settings.anonymous) {
      throw new HubError(
        'invalid-option',
        'The hub has no key, so no token could ever be valid for it: set publisherJwt: { key } (a shared ' +
          'secret, or a public key with its algorithm). For a hub of anonymous subscribers only (no ' +
          'publishing over HTTP; hub.publish() still works), set anonymous: true instead.',
      );
    }
    const subscriberKey = keys.subscriberJwt ?? publisherKey;
    this.publisher =
      publisherKey && new JwtVerifier(publisherKey, selectors, maxTokenBytes, clockToleranceSeconds);
    this.subscriber =
      subscriberKey === publisherKey
        ? this.publisher
        : subscriberKey && new JwtVerifier(subscriberKey, selectors, maxTokenBytes, clockToleranceSeconds);
  }

  /** Resolves once the keys are read; rejects with the configuration error of a bad one. */
  async ready(): Promise<void> {
    await Promise.all([this.publisher?.ready(), this.subscriber?.ready()]);
  }

  /**
   * The token the request presents, checked with the key of `role`; undefined when it presents none.
   * Throws a 401 `HubError` for a token that cannot be used (`what` says for what, in its message).
   */
  async authorize(
    req: WithHeaders,
    query: URLSearchParams,
    role: TokenRole,
    what: string,
  ): Promise<Authorization | undefined> {
    const presented = presentedToken(req, query, this.cookieName);
    if (presented === undefined) return undefined;
    const verifier = role === 'publisher' ? this.publisher : this.subscriber;
    if (verifier === undefined) {
      throw new HubError('unauthorized', `${what} with a token is not possible: the hub has no key for it.`, {
        'www-authenticate': 'Bearer realm="mercure"',
      });
    }
    const { grants, expiresAt } = await verifier.verify(presented.token);
    return { grants, expiresAt, carrier: presented.carrier };
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
      throw invalidToken('The Authorization header must be "Bearer <token>".', 'invalid_request');
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
