import type { PatternPart } from './url-pattern-parts.js';

/**
 * A URL Pattern component matched in time linear in the input: the regular expression URL Pattern
 * would build from the parts (`^…$`, a segment `[^d]+?`, a wildcard `.*`, prefix/suffix groups with
 * their modifier) as a Thompson NFA, run over the input one code point at a time with the set of
 * live states. A backtracking engine tries the ways an input splits between variable parts one by
 * one: `/{:x}+/z` takes seconds on 30 characters. Here every step is bounded by the number of
 * states, so the cost is at most (input length × states), whatever the pattern.
 *
 * Custom regexp parts are not compiled: the caller refuses them (see url-pattern.ts).
 */

const CHAR = 0;
/** Any code point but the delimiter (a segment); with no delimiter, any code point. */
const NOT_DELIMITER = 1;
/** Any code point but a line terminator: `.` under the `u` flag. */
const ANY_BUT_NEWLINE = 2;
const SPLIT = 3;
const JUMP = 4;
const MATCH = 5;

/** Default bound on the states of one component's program; a larger pattern is refused. */
export const DEFAULT_MAX_PROGRAM_STATES = 4096;

interface Fragment {
  start: number;
  /** States whose `next` (or `alt`) still points nowhere: patched to the fragment that follows. */
  holes: Array<{ state: number; alt: boolean }>;
}

/** One component's compiled program. Not reentrant: it keeps its scratch lists between runs. */
export class LinearMatcher {
  private readonly kind: number[] = [];
  private readonly code: number[] = [];
  private readonly next: number[] = [];
  private readonly alt: number[] = [];
  private readonly start: number;
  private current = new Int32Array(0);
  private following = new Int32Array(0);
  private readonly seen: Int32Array;
  /** Every state is expanded once per step and pushes at most two others: 2 × states + 1 bounds it. */
  private readonly stack: Int32Array;
  private generation = 0;

  constructor(parts: readonly PatternPart[], delimiter: string, maxStates = DEFAULT_MAX_PROGRAM_STATES) {
    const delimiterCode = delimiter === '' ? -1 : (delimiter.codePointAt(0) as number);
    const state = (kind: number, code = -1): number => {
      if (this.kind.length >= maxStates) {
        throw new TypeError(`the pattern needs more than ${maxStates} states to match.`);
      }
      this.kind.push(kind);
      this.code.push(code);
      this.next.push(-1);
      this.alt.push(-1);
      return this.kind.length - 1;
    };
    const patch = (fragment: Fragment, to: number): void => {
      for (const hole of fragment.holes) (hole.alt ? this.alt : this.next)[hole.state] = to;
    };
    const empty = (): Fragment => {
      const jump = state(JUMP);
      return { start: jump, holes: [{ state: jump, alt: false }] };
    };
    const sequence = (...fragments: Fragment[]): Fragment => {
      const [first, ...rest] = fragments;
      if (first === undefined) return empty();
      let last = first;
      for (const fragment of rest) {
        patch(last, fragment.start);
        last = fragment;
      }
      return { start: first.start, holes: last.holes };
    };
    const literal = (text: string): Fragment => {
      const fragments: Fragment[] = [];
      for (const char of text) {
        const s = state(CHAR, char.codePointAt(0) as number);
        fragments.push({ start: s, holes: [{ state: s, alt: false }] });
      }
      return sequence(...fragments);
    };
    const optional = (fragment: Fragment): Fragment => {
      const split = state(SPLIT);
      this.next[split] = fragment.start;
      return { start: split, holes: [...fragment.holes, { state: split, alt: true }] };
    };
    const zeroOrMore = (fragment: Fragment): Fragment => {
      const split = state(SPLIT);
      this.next[split] = fragment.start;
      patch(fragment, split);
      return { start: split, holes: [{ state: split, alt: true }] };
    };
    const oneOrMore = (fragment: Fragment): Fragment => {
      const split = state(SPLIT);
      this.next[split] = fragment.start;
      patch(fragment, split);
      return { start: fragment.start, holes: [{ state: split, alt: true }] };
    };
    const modified = (fragment: Fragment, modifier: string): Fragment =>
      modifier === '?'
        ? optional(fragment)
        : modifier === '*'
          ? zeroOrMore(fragment)
          : modifier === '+'
            ? oneOrMore(fragment)
            : fragment;
    const wildcard = (part: PatternPart): Fragment => {
      if (part.type === 'segment') {
        const s = state(NOT_DELIMITER, delimiterCode);
        return oneOrMore({ start: s, holes: [{ state: s, alt: false }] });
      }
      if (part.type === 'full') {
        const s = state(ANY_BUT_NEWLINE);
        return zeroOrMore({ start: s, holes: [{ state: s, alt: false }] });
      }
      throw new TypeError('custom regexp groups are not matched by the linear engine.');
    };

    const fragments: Fragment[] = [];
    for (const part of parts) {
      if (part.type === 'fixed') {
        fragments.push(modified(literal(part.value), part.modifier));
      } else if (part.prefix === '' && part.suffix === '') {
        fragments.push(modified(wildcard(part), part.modifier));
      } else if (part.modifier === '' || part.modifier === '?') {
        fragments.push(
          modified(sequence(literal(part.prefix), wildcard(part), literal(part.suffix)), part.modifier),
        );
      } else {
        // prefix R (suffix prefix R)* suffix, optional as a whole for `*`: what URL Pattern builds.
        const repeated = sequence(
          literal(part.prefix),
          wildcard(part),
          zeroOrMore(sequence(literal(part.suffix), literal(part.prefix), wildcard(part))),
          literal(part.suffix),
        );
        fragments.push(part.modifier === '*' ? optional(repeated) : repeated);
      }
    }
    const program = sequence(...fragments);
    patch(program, state(MATCH));
    this.start = program.start;
    this.seen = new Int32Array(this.kind.length);
    this.stack = new Int32Array(2 * this.kind.length + 1);
  }

  /** Number of states of the program. */
  get size(): number {
    return this.kind.length;
  }

  /** True when the whole of `input` matches. */
  matches(input: string): boolean {
    const size = this.kind.length;
    if (this.current.length < size) {
      this.current = new Int32Array(size);
      this.following = new Int32Array(size);
    }
    let current = this.current;
    let following = this.following;
    this.nextGeneration();
    let count = this.follow(current, 0, this.start);
    for (const char of input) {
      if (count === 0) return false;
      const code = char.codePointAt(0) as number;
      this.nextGeneration();
      let nextCount = 0;
      for (let i = 0; i < count; i++) {
        const s = current[i] as number;
        if (this.accepts(s, code)) nextCount = this.follow(following, nextCount, this.next[s] as number);
      }
      [current, following] = [following, current];
      count = nextCount;
    }
    for (let i = 0; i < count; i++) if (this.kind[current[i] as number] === MATCH) return true;
    return false;
  }

  private accepts(s: number, code: number): boolean {
    switch (this.kind[s]) {
      case CHAR:
        return this.code[s] === code;
      case NOT_DELIMITER:
        return this.code[s] !== code;
      case ANY_BUT_NEWLINE:
        return code !== 0x0a && code !== 0x0d && code !== 0x2028 && code !== 0x2029;
      default:
        return false;
    }
  }

  private nextGeneration(): void {
    this.generation++;
    if (this.generation === 0x7fffffff) {
      this.seen.fill(0);
      this.generation = 1;
    }
  }

  /** Adds `from` and every state it reaches without reading input to `list`; returns the new count. */
  private follow(list: Int32Array, count: number, from: number): number {
    const stack = this.stack;
    let top = 0;
    stack[top++] = from;
    let length = count;
    while (top > 0) {
      const s = stack[--top] as number;
      if (s < 0 || this.seen[s] === this.generation) continue;
      this.seen[s] = this.generation;
      const kind = this.kind[s];
      if (kind === JUMP) {
        stack[top++] = this.next[s] as number;
      } else if (kind === SPLIT) {
        stack[top++] = this.alt[s] as number;
        stack[top++] = this.next[s] as number;
      } else list[length++] = s;
    }
    return length;
  }
}
