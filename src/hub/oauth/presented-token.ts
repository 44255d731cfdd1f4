import type { IncomingHttpHeaders } from 'node:http';
import { decodeProtectedHeader } from 'jose';
import { invalidRequest, invalidToken } from '../bearer-challenge.js';
import { DEFAULT_COOKIE_NAME } from '../hub-options.js';

/**
 * Which token a request presents, how, and of which generation. The `Authorization: Bearer` header
 * comes first (a cookie beside it is ignored: cookies come along unasked); then, while draft-07 is
 * on, its `authorization` query parameter; then the draft-08 cookie, then the draft-07 one. A token
 * is of draft-08 when its header's `typ` is `at+jwt` (RFC 9068), of draft-07 otherwise; a draft-08
 * token is never accepted in the URL (RFC 9700 forbids it), and a token is never both.
 */

/** The cookie draft-08 names for a browser's access token. */
export const ACCESS_TOKEN_COOKIE = '__Secure-mercure_access_token';

export type TokenGeneration = 'draft-07' | 'draft-08';
export type TokenCarrier = 'header' | 'query' | 'cookie';

export interface PresentedCredential {
  readonly token: string;
  readonly carrier: TokenCarrier;
  readonly generation: TokenGeneration;
}

export interface CredentialOptions {
  /** Draft-07 tokens, the `authorization` query parameter and the draft-07 cookie are accepted. */
  readonly draft07: boolean;
  /** The draft-07 cookie's name. Default `mercureAuthorization`. */
  readonly draft07CookieName?: string;
}

function cookies(header: string | undefined): Map<string, string> {
  const found = new Map<string, string>();
  if (header === undefined) return found;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at === -1) continue;
    const name = pair.slice(0, at).trim();
    if (found.has(name)) continue;
    const raw = pair.slice(at + 1).trim();
    try {
      found.set(name, decodeURIComponent(raw));
    } catch {
      found.set(name, raw);
    }
  }
  return found;
}

/** True for the `typ` of an access token: `at+jwt`, or `application/at+jwt`, in any case (RFC 9068 §4). */
export function isAccessTokenType(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt';
}

/**
 * The generation of a token, from its (unverified) header alone: the one read on every request, the
 * verifier's cache coming after it. A token too malformed to read is given to the newest generation
 * the hub accepts, whose verifier says what is wrong. (A token that is not at+jwt yet carries
 * `authorization_details` is refused by the draft-07 format, once it is verified.)
 */
export function tokenGeneration(token: string, options: CredentialOptions): TokenGeneration {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    return options.draft07 ? 'draft-07' : 'draft-08';
  }
  return isAccessTokenType(typ) ? 'draft-08' : 'draft-07';
}

/**
 * The token `headers` and `query` present, or undefined. Throws a 400 `invalid_request` for an
 * Authorization header that is not `Bearer <token>` or a token in the URL where none may be, and a
 * 401 `invalid_token` for a draft-07 token while draft-07 is off.
 */
export function presentedCredential(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  options: CredentialOptions,
): PresentedCredential | undefined {
  const found = presented(headers, query, options);
  if (found === undefined) return undefined;
  const generation = tokenGeneration(found.token, options);
  if (generation === 'draft-07' && !options.draft07) {
    throw invalidToken(
      'This hub accepts access tokens only (JWT with "typ": "at+jwt" and "authorization_details"); draft-07 tokens are turned off.',
    );
  }
  if (found.carrier === 'query' && generation === 'draft-08') {
    throw invalidRequest(
      'Access tokens are not accepted in the URL: send "Authorization: Bearer <token>" or the cookie.',
    );
  }
  return { ...found, generation };
}

function presented(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  options: CredentialOptions,
): { token: string; carrier: TokenCarrier } | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
    if (match?.[1] === undefined) {
      throw invalidRequest('The Authorization header must be "Bearer <token>".');
    }
    return { token: match[1], carrier: 'header' };
  }
  const fromQuery = query.get('authorization');
  if (fromQuery !== null) {
    if (!options.draft07) {
      throw invalidRequest(
        'Tokens are not accepted in the URL: send "Authorization: Bearer <token>" or the cookie.',
      );
    }
    return { token: fromQuery, carrier: 'query' };
  }
  const jar = cookies(headers.cookie);
  const fromCookie =
    jar.get(ACCESS_TOKEN_COOKIE) ??
    (options.draft07 ? jar.get(options.draft07CookieName ?? DEFAULT_COOKIE_NAME) : undefined);
  if (fromCookie !== undefined) return { token: fromCookie, carrier: 'cookie' };
  return undefined;
}
