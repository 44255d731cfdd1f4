import type { MatcherType } from './matcher.js';

const EVERY_TOPIC = () => true;

/** `*`: every topic, in every syntax of both generations. Scanned: the index tries it once per update, as it visits its subscribers. */
export const WILDCARD: MatcherType = {
  name: 'wildcard',
  indexing: 'scan',
  compile: (text) => (text === '*' ? EVERY_TOPIC : undefined),
};
