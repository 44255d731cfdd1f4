/**
 * The NFA of a template: a node per position in an expansion, edges on a code point or a character class,
 * and moves without input where a variable may be undefined, empty or repeated.
 *
 * @module
 */

import {
  classify,
  HEX,
  HEX_ASCII,
  HEX_CONTINUATION,
  HEX_LEAD2,
  HEX_LEAD3,
  HEX_LEAD4,
  IPRIVATE,
  RESERVED,
  UCSCHAR,
  UNRESERVED,
} from './charset.js';
import type { Expression, Operator, Part, VarSpec } from './grammar.js';

/**
 * An NFA state. Nodes inside a prefix-modified value share a `region`; a path through the region carries the
 * number of code points the value has used so far, and may not exceed `limit`.
 */
export class Node {
  /** Per edge: a code point when >= 0, else the negated class mask the code point must intersect. */
  readonly tests: number[] = [];
  readonly targets: Node[] = [];
  /** Per edge: code points of the unencoded value this edge stands for, counted inside a region only. */
  readonly weights: number[] = [];
  readonly epsilons: Node[] = [];

  constructor(
    readonly id: number,
    readonly region: number,
    readonly limit: number,
  ) {}
}

class ProgramBuilder {
  readonly nodes: Node[] = [];
  #regions = 0;

  node(region = 0, limit = 0): Node {
    const node = new Node(this.nodes.length, region, limit);
    this.nodes.push(node);
    return node;
  }

  newRegion(): number {
    this.#regions += 1;
    return this.#regions;
  }

  epsilon(from: Node, to: Node): void {
    from.epsilons.push(to);
  }

  edge(from: Node, test: number, to: Node, weight = 0): void {
    from.tests.push(test);
    from.targets.push(to);
    from.weights.push(weight);
  }

  char(from: Node, char: string, to: Node): void {
    this.edge(from, char.codePointAt(0) ?? 0, to);
  }

  classEdge(from: Node, mask: number, to: Node, weight = 0): void {
    this.edge(from, -mask, to, weight);
  }

  literal(from: Node, text: string): Node {
    let at = from;
    for (const char of text) {
      const next = this.node();
      this.char(at, char, next);
      at = next;
    }
    return at;
  }

  /**
   * Adds a value of `allowed` characters and pct-encoded triplets, and of `extra` literal characters (a list's
   * separators), starting at `from`; returns the node after it, which loops to take more.
   */
  value(from: Node, allowed: number, extra = '', nonEmpty = false): Node {
    const loop = this.node();
    const extras = [...extra].filter((char) => (classify(char.codePointAt(0) ?? 0) & allowed) === 0);
    const step = (at: Node) => {
      this.classEdge(at, allowed, loop);
      for (const char of extras) this.char(at, char, loop);
      const percent = this.node();
      const digit = this.node();
      this.char(at, '%', percent);
      this.classEdge(percent, HEX, digit);
      this.classEdge(digit, HEX, loop);
    };
    if (nonEmpty) {
      const first = this.node();
      this.epsilon(from, first);
      step(first);
    } else {
      this.epsilon(from, loop);
    }
    step(loop);
    return loop;
  }

  /**
   * Adds a value that is a prefix of at most `maxLength` code points of some string. It follows UTF-8 in
   * pct-encoded octets so that a multi-octet character counts once and stray octets cannot slip past the
   * count; with `reserved`, any triplet may also stand for its own three characters.
   */
  prefixValue(from: Node, allowed: number, reserved: boolean, maxLength: number, nonEmpty: boolean): Node {
    const region = this.newRegion();
    const node = () => this.node(region, maxLength);
    const ready = node();
    // waitingN: a character's lead octet is in, and N continuation octets must follow.
    const waiting1 = node();
    const waiting2 = node();
    const waiting3 = node();
    const leads: [number, Node][] = [
      [HEX_ASCII, ready],
      [HEX_LEAD2, waiting1],
      [HEX_LEAD3, waiting2],
      [HEX_LEAD4, waiting3],
    ];
    const entry = nonEmpty ? node() : ready;
    this.epsilon(from, entry);

    const characterFrom = (at: Node) => {
      this.classEdge(at, allowed, ready, 1);
      const percent = node();
      this.char(at, '%', percent);
      for (const [lead, then] of leads) {
        const digit = node();
        this.classEdge(percent, lead, digit, 1);
        this.classEdge(digit, HEX, then);
      }
      if (reserved) {
        const digit = node();
        this.classEdge(percent, HEX, digit, 3);
        this.classEdge(digit, HEX, ready);
      }
    };
    characterFrom(entry);
    if (nonEmpty) characterFrom(ready);
    const continuations: [Node, Node][] = [
      [waiting1, ready],
      [waiting2, waiting1],
      [waiting3, waiting2],
    ];
    for (const [at, then] of continuations) {
      const percent = node();
      const digit = node();
      this.char(at, '%', percent);
      this.classEdge(percent, HEX_CONTINUATION, digit);
      this.classEdge(digit, HEX, then);
    }
    const end = this.node();
    this.epsilon(ready, end);
    return end;
  }
}

/** Character classes a value may use unencoded, per operator. */
function allowedClasses(op: Operator): number {
  return op.reserved ? UNRESERVED | RESERVED | UCSCHAR | IPRIVATE : UNRESERVED | UCSCHAR;
}

/** Adds the expansion of one defined variable; returns its end node. */
function buildVariable(b: ProgramBuilder, op: Operator, spec: VarSpec, from: Node): Node {
  const allowed = allowedClasses(op);
  const end = b.node();
  if (!op.named) {
    if (spec.maxLength > 0) {
      b.epsilon(b.prefixValue(from, allowed, op.reserved, spec.maxLength, false), end);
      return end;
    }
    // A string, or a list joined with commas; exploded, a list joins with the separator instead.
    b.epsilon(b.value(from, allowed, spec.explode ? op.separator : ','), end);
    if (spec.explode) {
      // An exploded associative array gives key=value pairs, which the line above covers when `=` is allowed.
      if ((classify(0x3d) & allowed) === 0) {
        const keyStart = b.node();
        b.epsilon(from, keyStart);
        const key = b.value(keyStart, allowed);
        const equals = b.node();
        b.char(key, '=', equals);
        const value = b.value(equals, allowed);
        b.char(value, op.separator, keyStart);
        b.epsilon(value, end);
      }
    }
    return end;
  }

  if (!spec.explode) {
    const name = b.literal(from, spec.name);
    if (op.ifEmpty === '') b.epsilon(name, end);
    const equals = b.node();
    b.char(name, '=', equals);
    const value =
      spec.maxLength > 0
        ? b.prefixValue(equals, allowed, op.reserved, spec.maxLength, op.ifEmpty === '')
        : b.value(equals, allowed, ',');
    b.epsilon(value, end);
    return end;
  }

  // Exploded and named: pairs joined with the separator, each `key=value`, or `key` + ifemp when the value is
  // empty. A list's pairs all have the variable's name as key, so the associative array's form covers them.
  const keyStart = b.node();
  b.epsilon(from, keyStart);
  const key = b.value(keyStart, allowed);
  const equals = b.node();
  b.char(key, '=', equals);
  const value = b.value(equals, allowed, '', op.ifEmpty === '');
  b.epsilon(value, end);
  if (op.ifEmpty === '') b.epsilon(key, end);
  b.char(end, op.separator, keyStart);
  return end;
}

/**
 * Adds an expression: nothing when every variable is undefined, else `first` and the defined variables, in
 * order, joined by the separator.
 */
function buildExpression(b: ProgramBuilder, expression: Expression, from: Node): Node {
  const { operator: op } = expression;
  const end = b.node();
  b.epsilon(from, end);
  // noneYet: no variable expanded so far; someDone: at least one, so the next one needs a separator.
  let noneYet = b.literal(from, op.first);
  let someDone: Node | undefined;
  for (const spec of expression.variables) {
    const start = b.node();
    b.epsilon(noneYet, start);
    if (someDone !== undefined) b.char(someDone, op.separator, start);
    const done = buildVariable(b, op, spec, start);
    const nextNoneYet = b.node();
    b.epsilon(noneYet, nextNoneYet);
    const nextSomeDone = b.node();
    b.epsilon(done, nextSomeDone);
    if (someDone !== undefined) b.epsilon(someDone, nextSomeDone);
    noneYet = nextNoneYet;
    someDone = nextSomeDone;
  }
  if (someDone !== undefined) b.epsilon(someDone, end);
  return end;
}

export interface Program {
  readonly start: Node;
  readonly accept: Node;
  readonly size: number;
  /** Every code point an edge compares with exactly. */
  readonly literals: ReadonlySet<number>;
}

export function buildProgram(parts: readonly Part[]): Program {
  const b = new ProgramBuilder();
  const start = b.node();
  let at = start;
  for (const part of parts) {
    at = typeof part === 'string' ? b.literal(at, part) : buildExpression(b, part, at);
  }
  const literals = new Set<number>();
  for (const node of b.nodes) {
    for (const test of node.tests) if (test >= 0) literals.add(test);
  }
  return { start, accept: at, size: b.nodes.length, literals };
}
