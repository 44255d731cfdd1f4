import { compileUrlPattern, UrlPatternError } from '../selectors/url-pattern.js';
import { type MatcherType, SelectorError } from './matcher.js';

/**
 * A WHATWG URL Pattern (draft-08's `urlpattern`), resolved against the hub's URL, matched in linear
 * time (`../selectors/url-pattern.ts` says how, and what it refuses). Any text is read as one: a text
 * that is not a URL Pattern the hub accepts is a {@link SelectorError}.
 */
export const URL_PATTERN: MatcherType = {
  name: 'urlpattern',
  indexing: 'scan',
  relative: true,
  compile(text, hubUrl) {
    try {
      const pattern = compileUrlPattern(text, hubUrl);
      return (topic) => pattern.matches(topic);
    } catch (error) {
      if (error instanceof UrlPatternError) throw new SelectorError(error.message);
      throw error;
    }
  },
};
