import { compileUriTemplate } from '../uri-template/index.js';
import type { MatcherType } from './matcher.js';

/**
 * An RFC 6570 URI template (draft-07): the topics that are one of its expansions, and the template's
 * own text (a template matches itself, so claims' templates can be compared with subscribers'). A text
 * with no expression, or not a valid template, is not one: it is then an exact selector.
 */
export const URI_TEMPLATE: MatcherType = {
  name: 'uri-template',
  indexing: 'scan',
  compile(text) {
    const template = compileUriTemplate(text);
    if (template === undefined) return undefined;
    return (topic) => topic === text || template.matches(topic);
  },
};
