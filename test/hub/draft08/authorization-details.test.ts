// authorization_details -> grants: Mercure details only, actions, topics with match/match_type,
// payloads (the first matching subscribe detail's), and any malformed entry failing the whole claim.
import { describe, expect, it } from 'vitest';
import {
  AuthorizationDetailsError,
  payloadFor,
  readAuthorizationDetails,
} from '../../../src/hub/oauth/authorization-details.js';
import { SelectorCache } from '../../../src/hub/topic-selector.js';
import { thrown } from './caught.js';

const HUB = 'https://hub.example.com/.well-known/mercure';
const TYPE = 'https://mercure.rocks/authorization-detail';

const read = (claim: unknown, limits?: Parameters<typeof readAuthorizationDetails>[3]) =>
  readAuthorizationDetails(claim, HUB, new SelectorCache(), limits);

const refusal = (claim: unknown, limits?: Parameters<typeof readAuthorizationDetails>[3]) =>
  thrown(AuthorizationDetailsError, () => read(claim, limits)).message;

describe('authorization details', () => {
  it('grant publish and subscribe on the topics of Mercure details, exact by default', () => {
    const grants = read([
      { type: TYPE, actions: ['publish'], topics: [{ match: 'https://example.com/books/1' }] },
      {
        type: TYPE,
        actions: ['subscribe', 'publish'],
        topics: [{ match: 'https://example.com/users/:id', match_type: 'urlpattern' }],
      },
      { type: 'https://other.example/detail', anything: true },
    ]);
    const publishes = (topic: string) => grants.publish.some((matcher) => matcher.matches(topic));
    const subscribes = (topic: string) => grants.subscribe.some((matcher) => matcher.matches(topic));
    expect(publishes('https://example.com/books/1')).toBe(true);
    expect(publishes('https://example.com/books/2')).toBe(false);
    expect(publishes('https://example.com/users/7')).toBe(true);
    expect(subscribes('https://example.com/users/7')).toBe(true);
    expect(subscribes('https://example.com/books/1')).toBe(false);
  });

  it('grant nothing without the claim, for unknown actions, or for details of other types', () => {
    expect(read(undefined)).toEqual({ publish: [], subscribe: [], subscribeDetails: [] });
    const grants = read([
      { type: TYPE, actions: ['read-later'], topics: [{ match: '*' }] },
      { type: 'urn:other', actions: ['publish'], topics: [{ match: '*' }] },
    ]);
    expect(grants.publish).toEqual([]);
    expect(grants.subscribe).toEqual([]);
  });

  it('make * match everything whatever the match_type, an exact {id} a plain string', () => {
    const grants = read([
      {
        type: TYPE,
        actions: ['subscribe'],
        topics: [{ match: '*', match_type: 'urlpattern' }, { match: 'https://example.com/{id}' }],
      },
    ]);
    const [wildcard, exact] = grants.subscribe;
    expect(wildcard?.matches('urn:x')).toBe(true);
    expect(exact?.matches('https://example.com/1')).toBe(false);
  });

  it('fail the whole claim for any malformed Mercure entry', () => {
    const detail = (fields: Record<string, unknown>) => [
      { type: TYPE, actions: ['publish'], topics: [{ match: 'a' }] },
      { type: TYPE, actions: ['publish'], topics: [{ match: 'b' }], ...fields },
    ];
    expect(refusal({ type: TYPE })).toContain('must be an array');
    expect(refusal(['text'])).toContain('[0] must be an object with a "type"');
    expect(refusal(detail({ actions: [] }))).toContain('[1].actions must be a non-empty array');
    expect(refusal(detail({ actions: ['publish', 7] }))).toContain('strings only');
    expect(refusal(detail({ topics: [] }))).toContain('[1].topics must be a non-empty array');
    expect(refusal(detail({ topics: ['a'] }))).toContain('topics[0] must be an object');
    expect(refusal(detail({ topics: [{ match: '' }] }))).toContain('non-empty string');
    expect(refusal(detail({ topics: [{ match: 'a', match_type: 'regexp' }] }))).toContain('"regexp"');
    expect(refusal(detail({ topics: [{ match: 'a', match_type: 'URLPATTERN' }] }))).toContain('match_type');
    expect(refusal(detail({ topics: [{ match: '/:id(\\d+)', match_type: 'urlpattern' }] }))).toContain(
      'custom regexp',
    );
    expect(refusal(detail({ topics: [{ match: 'a\u200Eb' }] }))).toContain('U+200E');
    expect(refusal(detail({ payload: ['not', 'an', 'object'] }))).toContain('payload must be a JSON object');
  });

  it('fail the claim past its limits', () => {
    const limits = { maxDetails: 2, maxTopicsPerDetail: 2, maxMatcherLength: 10 };
    const one = { type: TYPE, actions: ['subscribe'], topics: [{ match: 'a' }] };
    expect(refusal([one, one, one], limits)).toContain('more than 2 Mercure details');
    expect(refusal([{ ...one, topics: [{ match: 'a' }, { match: 'b' }, { match: 'c' }] }], limits)).toContain(
      'more than 2 entries',
    );
    expect(refusal([{ ...one, topics: [{ match: 'a'.repeat(11) }] }], limits)).toContain('longer than 10');
    // Details of other types do not count against the Mercure limit.
    expect(() => read([one, { type: 'urn:x' }, { type: 'urn:y' }, one], limits)).not.toThrow();
  });

  it("give a subscription the payload of the first subscribe detail matching its matcher's text", () => {
    const grants = read([
      { type: TYPE, actions: ['publish'], topics: [{ match: '*' }], payload: { never: true } },
      {
        type: TYPE,
        actions: ['subscribe'],
        topics: [{ match: 'https://example.com/foo' }],
        payload: { n: 1 },
      },
      {
        type: TYPE,
        actions: ['subscribe'],
        topics: [{ match: 'https://example.com/bar/:id', match_type: 'urlpattern' }],
        payload: { n: 2 },
      },
      { type: TYPE, actions: ['subscribe'], topics: [{ match: '*' }], payload: { n: 3 } },
    ]);
    expect(payloadFor(grants, 'https://example.com/foo')).toEqual({ n: 1 });
    // The subscription's own matcher read as a topic: a URL Pattern grant covers the pattern's text.
    expect(payloadFor(grants, 'https://example.com/bar/:id')).toEqual({ n: 2 });
    expect(payloadFor(grants, 'https://example.com/other')).toEqual({ n: 3 });
    expect(
      payloadFor(read([{ type: TYPE, actions: ['subscribe'], topics: [{ match: 'x' }] }]), 'y'),
    ).toBeUndefined();
  });
});
