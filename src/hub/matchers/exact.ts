import type { MatcherType } from './matcher.js';

/** A topic equal to the selector's text, byte for byte: every text is an exact selector. */
export const EXACT: MatcherType = {
  name: 'exact',
  indexing: 'exact',
  compile: (text) => (topic) => topic === text,
};
