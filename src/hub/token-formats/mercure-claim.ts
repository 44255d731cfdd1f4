import { invalidToken } from '../errors.js';
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
 * Draft-07's token: a JWT whose `mercure` claim holds `publish` and `subscribe` (arrays of topic
 * selectors) and `payload`. It reads any token a later format did not recognize: the tokens deployed
 * today carry no `typ`, or `JWT`.
 */
export const MERCURE_CLAIM: TokenFormat = {
  name: 'mercure-claim',
  recognizes: () => true,
  grants({ payload }, selectors) {
    const mercure = payload.mercure;
    if (
      mercure !== undefined &&
      (typeof mercure !== 'object' || mercure === null || Array.isArray(mercure))
    ) {
      throw invalidToken('The "mercure" claim must be an object.');
    }
    const claim = (mercure ?? {}) as Record<string, unknown>;
    return {
      publish: selectorList(claim.publish, 'publish', selectors),
      subscribe: selectorList(claim.subscribe, 'subscribe', selectors),
      payload: claim.payload,
    };
  },
};
