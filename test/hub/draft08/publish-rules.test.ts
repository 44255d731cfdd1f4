// Draft-08's publish rules: the reserved hub namespace (resolved, normalized), `*`, control and
// format characters, reserved ids and the reserved type: 400; size limits: 413.
import { describe, expect, it } from 'vitest';
import { HubError } from '../../../src/hub/errors.js';
import { addressesHubNamespace, checkPublishRules } from '../../../src/hub/publish-rules.js';
import type { UpdateInit } from '../../../src/hub/update.js';

const HUB = 'https://hub.example.com/.well-known/mercure';
const LIMITS = { maxUpdateBytes: 100, maxTopics: 3, maxTopicLength: 60 };

function status(update: Partial<UpdateInit>): number | 'ok' {
  try {
    checkPublishRules({ topics: ['https://example.com/a'], ...update }, HUB, LIMITS);
    return 'ok';
  } catch (error) {
    if (error instanceof HubError) return error.status;
    throw error;
  }
}

describe('the reserved hub namespace', () => {
  it('holds the hub path and everything below, whatever the scheme or host', () => {
    for (const topic of [
      '/.well-known/mercure',
      '/.well-known/mercure/subscriptions/exact/a/b',
      'https://hub.example.com/.well-known/mercure/subscriptions',
      'https://other.example/.well-known/mercure/x',
      'urn-like:/.well-known/mercure',
      '//cdn.example/.well-known/mercure',
      // Relative to the hub URL: /.well-known/mercure/x.
      'mercure/x',
    ]) {
      expect(addressesHubNamespace(topic, HUB), topic).toBe(true);
    }
  });

  it('sees through dot-segments and percent-encoded unreserved characters', () => {
    for (const topic of [
      '/.well-known/%6Dercure/subscriptions',
      '/.well-known/%6dercure',
      '/a/../.well-known/mercure',
      '/.well-known/mercure/../mercure/x',
      '/%2E%2E/.well-known/mercure',
      '/%2Ewell-known/mercure',
    ]) {
      expect(addressesHubNamespace(topic, HUB), topic).toBe(true);
    }
  });

  it('leaves out neighbours, opaque identifiers and what is no URL', () => {
    for (const topic of [
      '/.well-known/mercurey',
      '/.well-known/mercure%2Fx',
      '/well-known/mercure',
      '.well-known/mercure/x', // /.well-known/.well-known/mercure/x
      'urn:example:/.well-known/mercure',
      'https://example.com/books/1',
      'http://[bad/.well-known/mercure',
    ]) {
      expect(addressesHubNamespace(topic, HUB), topic).toBe(false);
    }
  });

  it('follows the hub URL path', () => {
    expect(addressesHubNamespace('/hub/x', 'https://example.com/hub')).toBe(true);
    expect(addressesHubNamespace('/.well-known/mercure', 'https://example.com/hub')).toBe(false);
  });
});

describe('publish rules', () => {
  it('answer 400 for reserved topics and characters, ids and types', () => {
    expect(status({})).toBe('ok');
    expect(status({ topics: ['*'] })).toBe(400);
    expect(status({ topics: ['ok', 'https://hub.example.com/.well-known/mercure/subscriptions/x'] })).toBe(
      400,
    );
    expect(status({ topics: ['a\u0007b'] })).toBe(400);
    expect(status({ topics: ['a\u200Bb'] })).toBe(400);
    expect(status({ topics: ['a\u009Fb'] })).toBe(400);
    expect(status({ topics: ['a\uD800b'] })).toBe(400);
    expect(status({ id: 'earliest' })).toBe(400);
    expect(status({ id: '#1' })).toBe(400);
    expect(status({ id: 'a\u2066b' })).toBe(400);
    expect(status({ id: 'urn:uuid:1' })).toBe('ok');
    expect(status({ type: 'mercure' })).toBe(400);
    expect(status({ type: 'a\u0000' })).toBe(400);
    expect(status({ type: 'Mercure' })).toBe('ok');
  });

  it('answer 413 past the size limits', () => {
    expect(status({ topics: ['a', 'b', 'c', 'd'] })).toBe(413);
    expect(status({ topics: [`https://example.com/${'a'.repeat(60)}`] })).toBe(413);
    expect(status({ data: 'é'.repeat(51) })).toBe(413);
    expect(status({ data: 'é'.repeat(50) })).toBe('ok');
  });
});
