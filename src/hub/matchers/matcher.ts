/**
 * A matcher type: one way a topic selector's text says which topics it matches. Each type is one file
 * of this folder; a selector is a (matcher type, text) pair, so the same text under two types is two
 * selectors (`match=/books/{id}` names one topic, `topic=/books/{id}` a template of many).
 *
 * The types: `wildcard` (`*`, in every syntax), `uri-template` (RFC 6570, draft-07's `topic`),
 * `exact` (both generations' plain text) and `urlpattern` (draft-08's WHATWG URL Pattern). Which
 * text gets which type is the syntax's to say (`../topic-selector.ts`: one per parameter or claim).
 * Nothing else of the hub looks inside a selector: the subscriber index and the authorization of
 * private updates call `matches` and read `indexing`.
 */
export interface MatcherType {
  /** The type's name: part of a selector's identity, shown nowhere else. */
  readonly name: string;
  /**
   * How the subscriber index holds selectors of this type. `exact`: a selector matches the one topic
   * equal to its text, byte for byte, and the index keys a map by that text (one lookup per topic of
   * an update, whatever the number of selectors). `scan`: the index keeps each distinct selector once
   * in a list and calls its `matches` once per topic of every update.
   */
  readonly indexing: 'exact' | 'scan';
  /**
   * True when a text of this type means something else for another hub URL (a relative URL Pattern
   * resolves against it): such selectors are compiled, and known, once per hub URL.
   */
  readonly relative?: boolean;
  /**
   * Compiles a selector's text: the test of a topic, called on the hot path of dispatch (no
   * allocation there), or undefined when the text is not a selector of this type. Throws a
   * {@link SelectorError} for a text that can only be of this type yet is malformed. Compiling may
   * cost far more than matching; the hub compiles each distinct selector once and keeps the result.
   * `hubUrl` is the hub's URL as the request reached it, for the types that resolve against it.
   */
  compile(text: string, hubUrl: string): TopicMatch | undefined;
}

/** True when `topic` is one of the topics a compiled selector matches. */
export type TopicMatch = (topic: string) => boolean;

/**
 * A selector's text that its syntax cannot read; the message says why. Where it came from says what
 * the answer is: a 400 for a subscription's parameter, a 401 `invalid_token` for a token's grant.
 */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}
