import { HubError } from './errors.js';

/**
 * The `WWW-Authenticate: Bearer` challenges of the hub's 401, 403 and 400 answers (RFC 6750 §3), for
 * both generations' tokens. Every refusal is made here without knowing the request's hub URL;
 * `error-answer.ts` adds the challenge's `resource_metadata` (RFC 9728) on the way out.
 */

/** The `error` codes of RFC 6750 §3.1. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** RFC 6750 allows only printable ASCII but `"` and `\` in `error_description`. */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, (char) => (char === '"' ? "'" : ''));
}

/** A `WWW-Authenticate: Bearer` challenge. */
export function bearerChallenge(options: { error?: BearerErrorCode; description?: string } = {}): string {
  let challenge = 'Bearer realm="mercure"';
  if (options.error !== undefined) challenge += `, error="${options.error}"`;
  if (options.description !== undefined)
    challenge += `, error_description="${quotable(options.description)}"`;
  return challenge;
}

/**
 * `headers` with `resource_metadata` added to its Bearer challenge, if it has one without it: the
 * hub's error answer passes every error's headers through this.
 */
export function withResourceMetadata(
  headers: Record<string, string>,
  resourceMetadata: string,
): Record<string, string> {
  const challenge = headers['www-authenticate'];
  if (challenge === undefined || !/^Bearer\b/i.test(challenge) || /\bresource_metadata=/.test(challenge)) {
    return headers;
  }
  return {
    ...headers,
    'www-authenticate': `${challenge}, resource_metadata="${quotable(resourceMetadata)}"`,
  };
}

/** 401 for a token that is not valid (signature, type, issuer, audience, time, claims). */
export function invalidToken(description: string): HubError {
  return new HubError('unauthorized', description, {
    'www-authenticate': bearerChallenge({ error: 'invalid_token', description }),
  });
}

/** 403 for a valid token that does not allow the operation. */
export function insufficientScope(description: string): HubError {
  return new HubError('forbidden', description, {
    'www-authenticate': bearerChallenge({ error: 'insufficient_scope', description }),
  });
}

/** 400 for a token, or a way of presenting it, that is malformed. */
export function invalidRequest(description: string): HubError {
  return new HubError('bad-request', description, {
    'www-authenticate': bearerChallenge({ error: 'invalid_request', description }),
  });
}

/** 401 for a request that needs a token and has none: a challenge with no error code (RFC 6750 §3.1). */
export function missingAccessToken(description: string): HubError {
  return new HubError('unauthorized', description, { 'www-authenticate': bearerChallenge() });
}
