// The RFC 9728 metadata document and URL, and the Bearer challenges of 401, 403 and 400 answers.
import { describe, expect, it } from 'vitest';
import {
  bearerChallenge,
  insufficientScope,
  invalidRequest,
  invalidToken,
  missingAccessToken,
  withResourceMetadata,
} from '../../../src/hub/bearer-challenge.js';
import {
  RESOURCE_METADATA_PATH,
  resourceMetadataDocument,
  resourceMetadataUrl,
} from '../../../src/hub/resource-metadata.js';

const HUB = 'https://hub.example.com/.well-known/mercure';
const METADATA = 'https://hub.example.com/.well-known/oauth-protected-resource/.well-known/mercure';

describe('protected resource metadata', () => {
  it('is found by inserting the well-known prefix between host and path', () => {
    expect(resourceMetadataUrl(HUB)).toBe(METADATA);
    expect(resourceMetadataUrl('https://hub.example.com/')).toBe(
      'https://hub.example.com/.well-known/oauth-protected-resource',
    );
    expect(resourceMetadataUrl('https://example.com:8443/hub/')).toBe(
      'https://example.com:8443/.well-known/oauth-protected-resource/hub',
    );
    expect(new URL(resourceMetadataUrl(HUB)).pathname).toBe(RESOURCE_METADATA_PATH);
  });

  it('names the resource, the bearer methods, the Mercure detail type and the Mercure members', () => {
    expect(resourceMetadataDocument({ resource: HUB })).toEqual({
      resource: HUB,
      bearer_methods_supported: ['header'],
      authorization_details_types_supported: ['https://mercure.rocks/authorization-detail'],
      mercure_matcher_types_supported: ['exact', 'urlpattern'],
    });
    expect(
      resourceMetadataDocument({
        resource: HUB,
        cookieName: '__Secure-mercure_access_token',
        subscriptions: true,
        authorizationServers: ['https://auth.example.com'],
      }),
    ).toMatchObject({
      authorization_servers: ['https://auth.example.com'],
      mercure_cookie: '__Secure-mercure_access_token',
      mercure_subscriptions: true,
    });
  });
});

describe('Bearer challenges', () => {
  it('carry the error code and a description RFC 6750 allows', () => {
    expect(bearerChallenge()).toBe('Bearer realm="mercure"');
    expect(bearerChallenge({ error: 'invalid_token', description: 'Say "no" \\ ünïcode' })).toBe(
      `Bearer realm="mercure", error="invalid_token", error_description="Say 'no'  ncode"`,
    );
  });

  it('come with the statuses of RFC 6750: 401, 403, 400; no error code when no token came', () => {
    expect(invalidToken('bad')).toMatchObject({ status: 401 });
    expect(insufficientScope('not yours').status).toBe(403);
    expect(insufficientScope('not yours').headers['www-authenticate']).toContain(
      'error="insufficient_scope"',
    );
    expect(invalidRequest('two tokens').status).toBe(400);
    const missing = missingAccessToken('Publishing needs a token.');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="mercure"');
  });

  it('gain resource_metadata once, on Bearer challenges only', () => {
    const added = withResourceMetadata(
      { 'www-authenticate': 'Bearer realm="mercure"', 'retry-after': '1' },
      METADATA,
    );
    expect(added).toEqual({
      'www-authenticate': `Bearer realm="mercure", resource_metadata="${METADATA}"`,
      'retry-after': '1',
    });
    expect(withResourceMetadata(added, METADATA)).toBe(added);
    const other = { 'retry-after': '1' };
    expect(withResourceMetadata(other, METADATA)).toBe(other);
  });
});
