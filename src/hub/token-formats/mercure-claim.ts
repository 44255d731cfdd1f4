import { invalidToken } from '../bearer-challenge.js';
import type { SelectorCache, TopicSelector } from '../topic-selector.js';
import type { TokenFormat } from './token-format.js';

/** Reads `mercure.<name>`: an array of draft-07 topic selectors, or absent. */
function selectorList(value: unknown, name: string, cache: SelectorCache): TopicSelector[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalidToken(`The "mercure.${name}" claim must be an array of strings.`);
  }
  return (value as string[]).map((selector) => cache.get(selector));
}

/**
 * Draft-07's token: a JWT (with no `typ`, or any but `at+jwt`) signed with the role's configured key,
 * whose `mercure` claim holds `publish` and `subscribe` (arrays of topic selectors) and `payload`
 * (shown with every subscription of the holder).
 */
export const MERCURE_CLAIM: TokenFormat = {
  name: 'draft-07 token',
  generation: 'draft-07',
  verification(_claims, keys) {
    if (keys.configured === undefined) {
      throw invalidToken(
        'This token is a draft-07 one (no "typ": "at+jwt"), and the hub has no key for it: it takes access tokens of its issuer only.',
      );
    }
    return { keys: [keys.configured], checks: {} };
  },
  grants({ payload }, selectors) {
    // Never read as both generations: draft-08's claim in a token that is not one of its.
    if (payload.authorization_details !== undefined) {
      throw invalidToken(
        'The token carries "authorization_details" but is no access token: its "typ" header must be "at+jwt".',
      );
    }
    const mercure = payload.mercure;
    if (
      mercure !== undefined &&
      (typeof mercure !== 'object' || mercure === null || Array.isArray(mercure))
    ) {
      throw invalidToken('The "mercure" claim must be an object.');
    }
    const claim = (mercure ?? {}) as Record<string, unknown>;
    const holder = claim.payload;
    return {
      publish: selectorList(claim.publish, 'publish', selectors),
      subscribe: selectorList(claim.subscribe, 'subscribe', selectors),
      payloadFor: () => holder,
    };
  },
};
