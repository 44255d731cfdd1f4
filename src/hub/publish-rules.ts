import { HubError } from './errors.js';
import { forbiddenCharacter } from './forbidden-characters.js';
import type { UpdateLimits } from './publish.js';
import type { UpdateInit } from './update.js';

/**
 * What Mercure draft-08 §"Publication" refuses in an update, applied to every publisher whatever its
 * token's generation, before the update's other checks: 400 for a topic that is `*`, holds a control
 * or format character, or addresses the hub's own namespace (its URL's path and below, where the hub
 * publishes subscription events), for an `id` that is `earliest`, starts with `#` or holds a control
 * or format character, and for a `type` that is `mercure` (the hub's own events) or holds one; 413
 * for an update past the hub's size limits (too many topics, a topic too long, data too large).
 */

function badRequest(message: string): HubError {
  return new HubError('bad-request', message);
}

function tooLarge(message: string): HubError {
  return new HubError('payload-too-large', message);
}

const UNRESERVED_ESCAPE = /%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[Dd]|2[Ee]|5[Ff]|7[Ee])/g;

/**
 * A path as the reserved-namespace test compares it: dot-segments removed and percent-encoded
 * unreserved characters decoded, so `/.well-known/%6Dercure` and `/a/../.well-known/mercure` are
 * seen for what they are.
 */
function normalizedPath(path: string): string {
  const decoded = path.replace(UNRESERVED_ESCAPE, (encoded) =>
    String.fromCharCode(Number.parseInt(encoded.slice(1), 16)),
  );
  // Decoding may uncover dot-segments (`%2E%2E`): the URL parser removes them. Appended to an
  // origin, not resolved against one: a path starting with `//` must stay a path.
  return new URL(`http://hub.invalid${decoded}`).pathname;
}

/** True when `topic`, resolved against `hubUrl`, names the hub's path or a path below it. */
export function addressesHubNamespace(topic: string, hubUrl: string): boolean {
  let resolved: URL;
  try {
    resolved = new URL(topic, hubUrl);
  } catch {
    // Not a URL reference: it cannot name a hub path.
    return false;
  }
  // Opaque paths (`urn:…`, `mailto:…`) are no hierarchical path at all.
  if (!resolved.pathname.startsWith('/')) return false;
  const hubPath = normalizedPath(new URL(hubUrl).pathname).replace(/\/$/, '');
  const path = normalizedPath(resolved.pathname);
  return path === hubPath || path.startsWith(`${hubPath}/`);
}

/** Throws the 400 or 413 `HubError` draft-08 answers `update` with; returns when it passes. */
export function checkPublishRules(update: UpdateInit, hubUrl: string, limits: UpdateLimits): void {
  const { topics } = update;
  if (topics.length > limits.maxTopics) {
    throw tooLarge(`Too many "topic" fields (the limit is ${limits.maxTopics}).`);
  }
  for (const topic of topics) {
    if (topic.length > limits.maxTopicLength) {
      throw tooLarge(`A topic is longer than ${limits.maxTopicLength} characters.`);
    }
    if (topic === '*') throw badRequest('The topic "*" is reserved for the wildcard matcher.');
    const forbidden = forbiddenCharacter(topic);
    if (forbidden !== undefined)
      throw badRequest(`A topic holds ${forbidden}, a control or format character.`);
    if (addressesHubNamespace(topic, hubUrl)) {
      throw badRequest(
        `The topic "${topic}" is in the hub's own namespace, reserved for the events it publishes.`,
      );
    }
  }
  if (update.data !== undefined && Buffer.byteLength(update.data) > limits.maxUpdateBytes) {
    throw tooLarge(`The update is larger than ${limits.maxUpdateBytes} bytes, the hub's limit.`);
  }
  const { id, type } = update;
  if (id !== undefined && id !== '') {
    if (id === 'earliest') throw badRequest('The "id" "earliest" is reserved.');
    if (id.startsWith('#')) throw badRequest('The "id" must not start with "#".');
    const forbidden = forbiddenCharacter(id);
    if (forbidden !== undefined)
      throw badRequest(`The "id" holds ${forbidden}, a control or format character.`);
  }
  if (type !== undefined && type !== '') {
    if (type === 'mercure')
      throw badRequest('The "type" "mercure" is reserved for the events the hub publishes.');
    const forbidden = forbiddenCharacter(type);
    if (forbidden !== undefined)
      throw badRequest(`The "type" holds ${forbidden}, a control or format character.`);
  }
}
