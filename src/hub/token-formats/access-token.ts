import { invalidToken } from '../bearer-challenge.js';
import {
  type AccessGrants,
  AuthorizationDetailsError,
  payloadFor,
  readAuthorizationDetails,
} from '../oauth/authorization-details.js';
import type { TokenFormat } from './token-format.js';

/**
 * Draft-08's token: a JWT access token of the RFC 9068 profile, checked as Mercure draft-08 §"Token
 * Validation" says. Its `typ` is `at+jwt`; its `iss` is exactly one of the trusted issuers, and only
 * that issuer's keys are tried (never a pool spanning issuers); its `aud` holds the hub's resource
 * identifier; `exp` is required, `nbf` honoured; the algorithm comes from the keys' configuration,
 * never from the token. What it allows comes from its `authorization_details` alone: a token that
 * also carries draft-07's `mercure` claim is refused, the two claim sets are never mixed.
 */
export const ACCESS_TOKEN: TokenFormat = {
  name: 'access token',
  generation: 'draft-08',
  verification(claims, keys, context) {
    const issuer = claims.iss;
    if (typeof issuer !== 'string') throw invalidToken('The token has no "iss" claim.');
    const trusted = keys.issuers.get(issuer);
    if (trusted === undefined) {
      throw invalidToken(
        `The token's issuer ${JSON.stringify(issuer)} is not one this hub trusts.${
          keys.issuers.size === 0
            ? ' The hub trusts no issuer of access tokens yet: name the one its keys verify (--issuer, or createHub({ issuer })).'
            : ''
        }`,
      );
    }
    return {
      keys: trusted,
      checks: { typ: 'at+jwt', issuer, audience: context.resourceIdentifier, requiredClaims: ['exp'] },
    };
  },
  grants({ payload }, selectors, context) {
    if (payload.mercure !== undefined) {
      throw invalidToken(
        'The token carries both draft-07\'s "mercure" claim and is an access token (at+jwt).',
      );
    }
    let grants: AccessGrants;
    try {
      grants = readAuthorizationDetails(payload.authorization_details, context.hubUrl, selectors);
    } catch (error) {
      if (error instanceof AuthorizationDetailsError) throw invalidToken(`The token's ${error.message}`);
      throw error;
    }
    return {
      publish: grants.publish,
      subscribe: grants.subscribe,
      payloadFor: (selector) => payloadFor(grants, selector),
    };
  },
};
