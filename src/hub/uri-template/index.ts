/**
 * RFC 6570 URI Templates (levels 1 to 4) as Mercure topic selectors: `compileUriTemplate` answers "is this
 * topic one of the template's expansions?", `expandUriTemplate` builds a URI from a template.
 *
 * Matching runs an automaton built from the template over the value, one code point at a time, rather than a
 * RegExp: V8's RegExp backtracks, and templates as ordinary as `{a}{b}` or `{/a*}` give patterns whose
 * ambiguous splits cost polynomial or exponential time on a crafted topic. The automaton is an NFA whose
 * state sets are cached as DFA states as values need them; a set holds at most one state per NFA node, so a
 * match costs O(value length × template size) whatever the value, and one map lookup per code point once the
 * DFA states it passes through are cached.
 *
 * Where the RFC leaves room, this module decides:
 * - A variable may be undefined (it expands to nothing, and its separator goes with it) or empty, so
 *   `/books/{id}` matches `/books/`, and `{?x,y}` matches ``, `?x=1`, `?y=2` and `?x=1&y=2`, not `?y=2&x=1`.
 * - A variable may hold a string, a list or an associative array, so `/books/{id}` matches `/books/1,2`, and
 *   `{?k*}` matches any `?a=1&b=2`; the reference Mercure hub's matcher accepts these too.
 * - A value is unreserved characters and pct-encoded triplets (plus reserved characters for `{+x}` and
 *   `{#x}`), as the RFC's expansion produces, and also non-ASCII characters left unencoded (RFC 3987
 *   `ucschar`, and `iprivate` for `{+x}` and `{#x}`): topics are often IRIs, and an IRI topic should match
 *   where its URI form does. A triplet's hex digits may be in either case.
 * - Literals compare exactly as written: `%2F` in the template does not match `%2f` in the value.
 * - The template grammar is strict: a literal character the RFC does not allow (space, `"`, `'`, `<`, `>`,
 *   `\`, `^`, `` ` ``, `|`, a `%` not starting a triplet) makes the template invalid, as in the reference hub,
 *   and the caller then compares the selector exactly.
 * - A prefix `{x:3}` counts code points of the unencoded value: a pct-encoded UTF-8 sequence counts once,
 *   and, in `{+x:3}` and `{#x:3}`, a triplet passed through from the value that is no UTF-8 sequence counts
 *   as its three characters.
 *
 * The layers, each in its file: `charset.ts` (character classes as bits), `grammar.ts` (a template to literals
 * and expressions), `nfa.ts` (expressions to an NFA), `dfa.ts` (running the NFA, its state sets cached as DFA
 * states), `expand.ts` (expansion); this file compiles and matches.
 *
 * @module
 */

import { Dfa } from './dfa.js';
import { type Part, parseTemplate } from './grammar.js';
import { buildProgram } from './nfa.js';

export { expandUriTemplate, type UriTemplateValue } from './expand.js';

/** Longest template `compileUriTemplate` accepts, in UTF-16 code units; it bounds the cost of a match. */
export const MAX_TEMPLATE_LENGTH = 2048;

/** A compiled URI template that can tell whether a string is one of its expansions. */
export interface UriTemplateMatcher {
  readonly template: string;
  /** True when `value` is an expansion of the template for some values of its variables. */
  matches(value: string): boolean;
}

/**
 * Compiles `template`; returns undefined when it is not a valid URI template (unbalanced braces, bad operator
 * or varspec) or has no expression at all (a plain string: callers compare it exactly). Never throws.
 *
 * Templates longer than {@link MAX_TEMPLATE_LENGTH} are refused (undefined). A match runs in time linear in
 * the length of the value. Compiling costs more than matching: compile a selector once and keep the matcher.
 */
export function compileUriTemplate(template: string): UriTemplateMatcher | undefined {
  if (typeof template !== 'string' || template.length > MAX_TEMPLATE_LENGTH) return undefined;
  const parts = parseTemplate(template);
  if (parts === undefined || parts.every((part) => typeof part === 'string')) return undefined;
  return new CompiledUriTemplate(template, parts);
}

class CompiledUriTemplate implements UriTemplateMatcher {
  readonly template: string;
  // Most selectors start with a scheme and host and many end with a literal: comparing those with
  // startsWith and endsWith rejects most topics at once, and leaves the automaton only the part between.
  readonly #head: string;
  readonly #tail: string;
  readonly #dfa: Dfa;

  constructor(template: string, parts: readonly Part[]) {
    this.template = template;
    const first = parts[0];
    const last = parts[parts.length - 1];
    this.#head = typeof first === 'string' ? first : '';
    this.#tail = typeof last === 'string' ? last : '';
    this.#dfa = new Dfa(
      buildProgram(parts.slice(this.#head === '' ? 0 : 1, this.#tail === '' ? undefined : -1)),
    );
  }

  matches(value: string): boolean {
    if (typeof value !== 'string') return false;
    const head = this.#head;
    const tail = this.#tail;
    if (value.length < head.length + tail.length || !value.startsWith(head) || !value.endsWith(tail)) {
      return false;
    }
    const dfa = this.#dfa;
    let state = dfa.start;
    for (let i = head.length, end = value.length - tail.length; i < end; ) {
      const cp = value.codePointAt(i) ?? 0;
      i += cp > 0xffff ? 2 : 1;
      state = dfa.step(state, cp);
      if (state.nodes.length === 0) return false;
      if (!state.cached) return dfa.finish(state, value, i, end);
    }
    return state.accepting;
  }
}
