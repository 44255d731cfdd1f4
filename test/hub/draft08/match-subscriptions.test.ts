// Draft-08 subscription events and API shapes: …/subscriptions/{match_type}/{match}/{subscriber},
// plain JSON, SSE type mercure, private; the API's paths and answers.
import { describe, expect, it } from 'vitest';
import {
  matchSubscriptionDocument,
  matchSubscriptionsResponse,
  matchSubscriptionTopic,
  matchSubscriptionUpdate,
  parseMatchSubscriptionsPath,
} from '../../../src/hub/match-subscriptions.js';

const SUBSCRIBER = 'urn:uuid:bb3de268-05b0-4c65-b44e-8f9acefc29d6';

describe('draft-08 subscriptions', () => {
  it('have the topic of the spec’s example: each variable encoded once', () => {
    expect(matchSubscriptionTopic('urlpattern', 'https://example.com/:selector', SUBSCRIBER)).toBe(
      '/.well-known/mercure/subscriptions/urlpattern/https%3A%2F%2Fexample.com%2F%3Aselector/urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6',
    );
    expect(matchSubscriptionTopic('exact', 'a%20b', 's')).toBe(
      '/.well-known/mercure/subscriptions/exact/a%2520b/s',
    );
  });

  it('are announced as private updates of type mercure with a plain JSON document', () => {
    const document = matchSubscriptionDocument(
      'urlpattern',
      'https://example.com/:selector',
      SUBSCRIBER,
      true,
      {
        foo: 'bar',
      },
    );
    const update = matchSubscriptionUpdate(document);
    expect(update).toMatchObject({ topics: [document.id], type: 'mercure', private: true });
    expect(JSON.parse(update.data as string)).toEqual({
      id: document.id,
      type: 'subscription',
      match_type: 'urlpattern',
      match: 'https://example.com/:selector',
      subscriber: SUBSCRIBER,
      active: true,
      payload: { foo: 'bar' },
    });
    expect(matchSubscriptionDocument('exact', 'a', 's', false)).not.toHaveProperty('payload');
  });

  it('are read back from the API paths, unknown matcher types being no path', () => {
    expect(parseMatchSubscriptionsPath('')).toEqual({ kind: 'all' });
    expect(parseMatchSubscriptionsPath('/exact/a%2Fb')).toEqual({
      kind: 'matcher',
      matchType: 'exact',
      match: 'a/b',
    });
    expect(parseMatchSubscriptionsPath('/urlpattern/%2Fbooks%2F%3Aid/urn%3Auuid%3A1')).toEqual({
      kind: 'one',
      matchType: 'urlpattern',
      match: '/books/:id',
      subscriber: 'urn:uuid:1',
    });
    for (const rest of ['/regexp/a', '/exact', '/exact/a/b/c', '/exact/%E0%A4%A', 'exact/a']) {
      expect(parseMatchSubscriptionsPath(rest), rest).toBeUndefined();
    }
  });

  it('are listed by the API: all, by matcher, one (none: undefined, a 404)', () => {
    const documents = [
      matchSubscriptionDocument('exact', 'a', 's1', true),
      matchSubscriptionDocument('urlpattern', 'a', 's1', true),
      matchSubscriptionDocument('exact', 'a', 's2', true),
    ];
    const all = matchSubscriptionsResponse('/.well-known/mercure/subscriptions', { kind: 'all' }, documents);
    expect(all).toEqual({
      id: '/.well-known/mercure/subscriptions',
      type: 'subscriptions',
      subscriptions: documents,
    });
    const byMatcher = matchSubscriptionsResponse(
      '/p',
      { kind: 'matcher', matchType: 'exact', match: 'a' },
      documents,
    );
    expect(byMatcher).toMatchObject({ subscriptions: [documents[0], documents[2]] });
    const one = { kind: 'one', matchType: 'urlpattern', match: 'a', subscriber: 's1' } as const;
    expect(matchSubscriptionsResponse('/p', one, documents)).toBe(documents[1]);
    expect(matchSubscriptionsResponse('/p', { ...one, subscriber: 's3' }, documents)).toBeUndefined();
  });
});
