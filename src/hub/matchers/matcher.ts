/**
 * A matcher type: one way a topic selector's text says which topics it matches. Each type is one file
 * of this folder; a selector is a (matcher type, text) pair, so the same text under two types is two
 * selectors (`match=/books/{id}` names one topic, `topic=/books/{id}` a template of many).
 *
 * Today's types, all read from draft-07 `topic` selectors and `mercure` claims (`../topic-selector.ts`
 * says which text gets which type): `wildcard` (`*`), `uri-template` (RFC 6570) and `exact`. A new one
 * (draft-08's `match_urlpattern`, a WHATWG URL Pattern) is a file exporting a `MatcherType`, named in
 * the syntax of the parameter or claim that uses it. Nothing else of the hub looks inside a selector:
 * the subscriber index and the authorization of private updates call `matches` and read `indexing`.
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
   * Compiles a selector's text: the test of a topic, called on the hot path of dispatch (no
   * allocation there), or undefined when the text is not a selector of this type. Compiling may cost
   * far more than matching; the hub compiles each distinct selector once and keeps the result.
   */
  compile(text: string): TopicMatch | undefined;
}

/** True when `topic` is one of the topics a compiled selector matches. */
export type TopicMatch = (topic: string) => boolean;
