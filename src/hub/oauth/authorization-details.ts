import { forbiddenCharacter } from '../forbidden-characters.js';
import { SelectorError } from '../matchers/matcher.js';
import { MERCURE_AUTHORIZATION_DETAIL_TYPE } from '../resource-metadata.js';
import { MATCH_TYPES, matchSyntax, type SelectorCache, type TopicSelector } from '../topic-selector.js';

/**
 * What a draft-08 access token allows, read from its `authorization_details` claim (RFC 9396):
 * entries of type `https://mercure.rocks/authorization-detail` with `actions` (`publish`,
 * `subscribe`; others grant nothing), `topics` (matchers: `match`, optional `match_type`, default
 * `exact`) and an optional `payload` object. Entries of other types are someone else's and skipped.
 * Any malformed Mercure entry, or one past a limit, fails the whole token: acting on the rest would
 * change what the token allows.
 */

export interface DetailLimits {
  /** Most Mercure authorization details in one token. */
  readonly maxDetails: number;
  /** Most entries in one detail's `topics`. */
  readonly maxTopicsPerDetail: number;
  /** Longest `match` value, in characters. */
  readonly maxMatcherLength: number;
}

export const DEFAULT_DETAIL_LIMITS: DetailLimits = {
  maxDetails: 100,
  maxTopicsPerDetail: 100,
  maxMatcherLength: 2048,
};

/** One `subscribe` detail, kept in token order: the first matching a subscription gives its payload. */
export interface SubscribeDetail {
  readonly matchers: readonly TopicSelector[];
  readonly payload: Record<string, unknown> | undefined;
}

export interface AccessGrants {
  /** Matchers of the topics the token may publish to; empty: none. */
  readonly publish: readonly TopicSelector[];
  /** Matchers of the topics whose private updates the token may receive; empty: none. */
  readonly subscribe: readonly TopicSelector[];
  readonly subscribeDetails: readonly SubscribeDetail[];
}

/** Why `authorization_details` was refused; the message says which entry and what is wrong. */
export class AuthorizationDetailsError extends Error {
  override readonly name = 'AuthorizationDetailsError';
}

function fail(message: string): never {
  throw new AuthorizationDetailsError(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readMatcher(
  entry: unknown,
  where: string,
  hubUrl: string,
  cache: SelectorCache,
  limits: DetailLimits,
): TopicSelector {
  if (!isObject(entry)) fail(`${where} must be an object {"match": …}.`);
  const { match, match_type: matchType = 'exact' } = entry;
  if (typeof match !== 'string' || match === '') fail(`${where}.match must be a non-empty string.`);
  if (match.length > limits.maxMatcherLength) {
    fail(`${where}.match is longer than ${limits.maxMatcherLength} characters.`);
  }
  const forbidden = forbiddenCharacter(match);
  if (forbidden !== undefined) fail(`${where}.match holds ${forbidden}, a control or format character.`);
  const syntax = typeof matchType === 'string' ? matchSyntax(matchType) : undefined;
  if (syntax === undefined) {
    fail(
      `${where}.match_type must be ${MATCH_TYPES.map((name) => `"${name}"`).join(' or ')}, not ${JSON.stringify(matchType)}.`,
    );
  }
  try {
    return cache.get(match, syntax, hubUrl);
  } catch (error) {
    if (error instanceof SelectorError) fail(`${where}.match: ${error.message}`);
    throw error;
  }
}

/**
 * Reads the `authorization_details` claim (`undefined` when the token has none: it grants nothing).
 * URL Patterns resolve against `hubUrl`. Throws {@link AuthorizationDetailsError}.
 */
export function readAuthorizationDetails(
  claim: unknown,
  hubUrl: string,
  cache: SelectorCache,
  limits: DetailLimits = DEFAULT_DETAIL_LIMITS,
): AccessGrants {
  const publish: TopicSelector[] = [];
  const subscribe: TopicSelector[] = [];
  const subscribeDetails: SubscribeDetail[] = [];
  if (claim === undefined) return { publish, subscribe, subscribeDetails };
  if (!Array.isArray(claim)) fail('"authorization_details" must be an array.');
  let mercureDetails = 0;
  claim.forEach((detail: unknown, index) => {
    const where = `authorization_details[${index}]`;
    if (!isObject(detail) || typeof detail.type !== 'string')
      fail(`${where} must be an object with a "type".`);
    if (detail.type !== MERCURE_AUTHORIZATION_DETAIL_TYPE) return;
    mercureDetails++;
    if (mercureDetails > limits.maxDetails)
      fail(`the token has more than ${limits.maxDetails} Mercure details.`);
    const { actions, topics, payload } = detail;
    if (!Array.isArray(actions) || actions.length === 0) fail(`${where}.actions must be a non-empty array.`);
    if (actions.some((action) => typeof action !== 'string'))
      fail(`${where}.actions must hold strings only.`);
    if (!Array.isArray(topics) || topics.length === 0) fail(`${where}.topics must be a non-empty array.`);
    if (topics.length > limits.maxTopicsPerDetail) {
      fail(`${where}.topics has more than ${limits.maxTopicsPerDetail} entries.`);
    }
    if (payload !== undefined && !isObject(payload)) fail(`${where}.payload must be a JSON object.`);
    const matchers = topics.map((entry, at) =>
      readMatcher(entry, `${where}.topics[${at}]`, hubUrl, cache, limits),
    );
    if (actions.includes('publish')) publish.push(...matchers);
    if (actions.includes('subscribe')) {
      subscribe.push(...matchers);
      subscribeDetails.push({ matchers, payload });
    }
  });
  return { publish, subscribe, subscribeDetails };
}

/**
 * The payload shown with a subscription: that of the first `subscribe` detail one of whose matchers
 * matches the subscription's own matcher text, read as a topic (draft-08 §"Payloads").
 */
export function payloadFor(
  grants: AccessGrants,
  subscriptionMatcher: string,
): Record<string, unknown> | undefined {
  for (const detail of grants.subscribeDetails) {
    if (detail.matchers.some((matcher) => matcher.matches(subscriptionMatcher))) return detail.payload;
  }
  return undefined;
}
