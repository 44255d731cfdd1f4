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
 * @module
 */

/** Longest template `compileUriTemplate` accepts, in UTF-16 code units; it bounds the cost of a match. */
export const MAX_TEMPLATE_LENGTH = 2048;

/** A compiled URI template that can tell whether a string is one of its expansions. */
export interface UriTemplateMatcher {
  readonly template: string;
  /** True when `value` is an expansion of the template for some values of its variables. */
  matches(value: string): boolean;
}

/** A template variable's value: a string, a list, an associative array, or undefined (not set). */
export type UriTemplateValue = string | readonly string[] | Readonly<Record<string, string>> | undefined;

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

/**
 * Expands `template` with `variables` as RFC 6570 section 3 says: characters a value may not carry are
 * pct-encoded as UTF-8 with uppercase hex digits (a lone surrogate as U+FFFD), lists and associative arrays
 * (in insertion order) expand per operator, and undefined variables, empty lists and empty associative arrays
 * expand to nothing. For example `/.well-known/mercure/subscriptions/{topic}/{subscriber}` with
 * `{ topic: 'https://example.com/books/1' }` gives `…/subscriptions/https%3A%2F%2Fexample.com%2Fbooks%2F1/`.
 *
 * @throws TypeError when `template` is not a valid URI template, or a prefix modifier (`{x:3}`) meets a list
 * or an associative array, which RFC 6570 section 2.4.1 forbids.
 */
export function expandUriTemplate(
  template: string,
  variables: Readonly<Record<string, UriTemplateValue>>,
): string {
  const parts = parseTemplate(template);
  if (parts === undefined) throw new TypeError(`Not a valid URI template: ${JSON.stringify(template)}`);
  let result = '';
  for (const part of parts) {
    result += typeof part === 'string' ? part : expandExpression(part, variables);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Grammar

/** How an expression's operator expands its variables (RFC 6570 appendix A). */
interface Operator {
  readonly first: string;
  readonly separator: string;
  readonly named: boolean;
  readonly ifEmpty: string;
  /** Reserved characters and pct-encoded triplets of the value pass through unencoded. */
  readonly reserved: boolean;
}

interface VarSpec {
  readonly name: string;
  readonly explode: boolean;
  /** Prefix length in code points; 0 when the whole value expands. */
  readonly maxLength: number;
}

interface Expression {
  readonly operator: Operator;
  readonly variables: readonly VarSpec[];
}

type Part = string | Expression;

function operator(first: string, separator: string, named: boolean, ifEmpty: string, reserved: boolean) {
  return { first, separator, named, ifEmpty, reserved };
}

const SIMPLE = operator('', ',', false, '', false);

// The op-reserved characters `=`, `,`, `!`, `@` and `|` are absent: they then start the varname, which
// rejects them.
const OPERATORS: ReadonlyMap<string, Operator> = new Map([
  ['+', operator('', ',', false, '', true)],
  ['#', operator('#', ',', false, '', true)],
  ['.', operator('.', '.', false, '', false)],
  ['/', operator('/', '/', false, '', false)],
  [';', operator(';', ';', true, '', false)],
  ['?', operator('?', '&', true, '=', false)],
  ['&', operator('&', '&', true, '=', false)],
]);

// Each iteration consumes a varchar, and a dot can only precede one, so this cannot backtrack.
const VARSPEC =
  /^((?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*)(?:(\*)|:([1-9][0-9]{0,3}))?$/;

function parseTemplate(template: string): Part[] | undefined {
  const parts: Part[] = [];
  let literalStart = 0;
  let i = 0;
  while (i < template.length) {
    const cp = template.codePointAt(i) ?? 0;
    if (cp === 0x7b) {
      if (i > literalStart) parts.push(template.slice(literalStart, i));
      const close = template.indexOf('}', i + 1);
      if (close < 0) return undefined;
      const expression = parseExpression(template.slice(i + 1, close));
      if (expression === undefined) return undefined;
      parts.push(expression);
      i = close + 1;
      literalStart = i;
    } else if (cp === 0x25) {
      if (!isHexDigit(template.charCodeAt(i + 1)) || !isHexDigit(template.charCodeAt(i + 2)))
        return undefined;
      i += 3;
    } else {
      if (!isLiteral(cp)) return undefined;
      i += cp > 0xffff ? 2 : 1;
    }
  }
  if (i > literalStart) parts.push(template.slice(literalStart, i));
  return parts;
}

function parseExpression(body: string): Expression | undefined {
  const named = OPERATORS.get(body.charAt(0));
  const list = named === undefined ? body : body.slice(1);
  const variables: VarSpec[] = [];
  for (const spec of list.split(',')) {
    const match = VARSPEC.exec(spec);
    if (match === null) return undefined;
    variables.push({
      name: match[1] ?? '',
      explode: match[2] !== undefined,
      maxLength: Number(match[3] ?? 0),
    });
  }
  return { operator: named ?? SIMPLE, variables };
}

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** RFC 6570 `literals`, less `%`, which the caller checks as a pct-encoded triplet. */
function isLiteral(cp: number): boolean {
  if (cp < 0x80) return ASCII_LITERAL.has(cp);
  return isUcschar(cp) || isIprivate(cp);
}

const ASCII_LITERAL: ReadonlySet<number> = new Set(
  Array.from({ length: 0x80 }, (_, cp) => cp).filter(
    (cp) => cp > 0x20 && cp < 0x7f && !'"%\'<>\\^`{|}'.includes(String.fromCharCode(cp)),
  ),
);

function isUcschar(cp: number): boolean {
  if (cp < 0x10000) {
    return (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xf900 && cp <= 0xfdcf) || (cp >= 0xfdf0 && cp <= 0xffef);
  }
  // Planes 1 to 14 less each plane's last two code points and U+E0000..U+E0FFF.
  return cp <= 0xefffd && (cp & 0xffff) <= 0xfffd && (cp < 0xe0000 || cp >= 0xe1000);
}

function isIprivate(cp: number): boolean {
  return (cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xf0000 && cp <= 0x10fffd && (cp & 0xffff) <= 0xfffd);
}

// ---------------------------------------------------------------------------------------------------------
// Character classes: one bit each, so an NFA edge tests a code point with one AND.

const UNRESERVED = 1 << 0;
const RESERVED = 1 << 1;
const UCSCHAR = 1 << 2;
const IPRIVATE = 1 << 3;
// The first hex digit of a pct-encoded octet tells its role in UTF-8, which only a prefix modifier needs.
const HEX_ASCII = 1 << 4; // 0-7: a one-octet character
const HEX_CONTINUATION = 1 << 5; // 8-B
const HEX_LEAD2 = 1 << 6; // C-D: starts a two-octet sequence
const HEX_LEAD3 = 1 << 7; // E
const HEX_LEAD4 = 1 << 8; // F
const HEX = HEX_ASCII | HEX_CONTINUATION | HEX_LEAD2 | HEX_LEAD3 | HEX_LEAD4;

const ASCII_CLASSES = (() => {
  const classes = new Uint16Array(0x80);
  const mark = (chars: string, bit: number) => {
    for (const char of chars) {
      const code = char.charCodeAt(0);
      classes[code] = (classes[code] ?? 0) | bit;
    }
  };
  mark('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~', UNRESERVED);
  mark(":/?#[]@!$&'()*+,;=", RESERVED);
  mark('01234567', HEX_ASCII);
  mark('89ABab', HEX_CONTINUATION);
  mark('CDcd', HEX_LEAD2);
  mark('Ee', HEX_LEAD3);
  mark('Ff', HEX_LEAD4);
  return classes;
})();

function classify(cp: number): number {
  if (cp < 0x80) return ASCII_CLASSES[cp] ?? 0;
  if (isUcschar(cp)) return UCSCHAR;
  return isIprivate(cp) ? IPRIVATE : 0;
}

// ---------------------------------------------------------------------------------------------------------
// The NFA

/**
 * An NFA state. Nodes inside a prefix-modified value share a `region`; a path through the region carries the
 * number of code points the value has used so far, and may not exceed `limit`.
 */
class Node {
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

interface Program {
  readonly start: Node;
  readonly accept: Node;
  readonly size: number;
  /** Every code point an edge compares with exactly. */
  readonly literals: ReadonlySet<number>;
}

function buildProgram(parts: readonly Part[]): Program {
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

/** The states of the simulation at one position: each active node with the least count reaching it. */
class StateSet {
  readonly counts: Int32Array;
  readonly active: Node[] = [];
  readonly #stack: Node[] = [];

  constructor(size: number) {
    this.counts = new Int32Array(size).fill(-1);
  }

  clear(): void {
    for (const node of this.active) this.counts[node.id] = -1;
    this.active.length = 0;
  }

  /**
   * Adds `node` reached with `count`, then everything reachable from it without input. A smaller count
   * dominates a larger one at the same node (it allows everything the larger allows), so one count per node
   * is enough, and that keeps the set no larger than the NFA.
   */
  add(node: Node, count: number): void {
    if (!this.#lower(node, count)) return;
    const stack = this.#stack;
    stack.push(node);
    while (stack.length > 0) {
      const at = stack.pop() as Node; // the loop condition guarantees an element
      const atCount = this.counts[at.id] ?? 0;
      for (const next of at.epsilons) {
        if (this.#lower(next, carry(at, next, atCount, 0))) stack.push(next);
      }
    }
  }

  #lower(node: Node, count: number): boolean {
    const current = this.counts[node.id] ?? -1;
    if (current !== -1 && current <= count) return false;
    if (current === -1) this.active.push(node);
    this.counts[node.id] = count;
    return true;
  }
}

/** The count a path has after moving from `from` to `to` with an edge of `weight`; only regions count. */
function carry(from: Node, to: Node, count: number, weight: number): number {
  if (to.region === 0) return 0;
  return (from.region === to.region ? count : 0) + weight;
}

/** Moves every state of `current` on the code point `cp` into `next`, and empties `current`. */
function advance(current: StateSet, next: StateSet, cp: number): void {
  const classes = classify(cp);
  for (const node of current.active) {
    const count = current.counts[node.id] ?? 0;
    const { tests, targets, weights } = node;
    for (let e = 0; e < tests.length; e += 1) {
      const test = tests[e] ?? 0;
      if (test >= 0 ? test !== cp : (classes & -test) === 0) continue;
      const target = targets[e] as Node; // tests, targets and weights are pushed together
      const reached = carry(node, target, count, weights[e] ?? 0);
      if (target.region !== 0 && reached > target.limit) continue;
      next.add(target, reached);
    }
  }
  current.clear();
}

/**
 * Most NFA states a matcher's DFA cache may hold, summed over its DFA states. Ordinary templates need a few
 * dozen; a pathological one fills the cache, and its remaining steps are computed from the NFA each time,
 * which keeps the match linear and the memory bounded.
 */
const DFA_CACHE_NODES = 4096;

/** A set of NFA states with their counts, closed under moves without input: one state of the DFA. */
class DfaState {
  /** Next states by alphabet key (see `Dfa.#key`), filled in as values need them. */
  readonly transitions = new Map<number, DfaState>();

  constructor(
    readonly nodes: readonly Node[],
    readonly counts: readonly number[],
    readonly accepting: boolean,
    readonly cached: boolean,
  ) {}
}

/**
 * The DFA of a program, built lazily (a subset construction, one transition at a time, as values need it):
 * a cached transition costs one map lookup per code point, where the NFA costs one step per active state.
 * Both hold at most one state per NFA node, so either way a step costs at most the size of the NFA.
 */
class Dfa {
  readonly start: DfaState;
  readonly #accept: Node;
  readonly #literals: ReadonlySet<number>;
  readonly #asciiKeys: Int32Array;
  readonly #cache = new Map<string, DfaState>();
  #cachedNodes = 0;
  // Scratch sets, reused: a match runs to completion synchronously, so steps never overlap.
  readonly #current: StateSet;
  readonly #next: StateSet;

  constructor(program: Program) {
    this.#accept = program.accept;
    this.#literals = program.literals;
    this.#asciiKeys = Int32Array.from({ length: 0x80 }, (_, cp) => this.#key(cp));
    this.#current = new StateSet(program.size);
    this.#next = new StateSet(program.size);
    this.#next.add(program.start, 0);
    this.start = this.#intern(this.#next);
  }

  /** Moves from `state` on the code point `cp`; a state with no nodes is dead. */
  step(state: DfaState, cp: number): DfaState {
    const key = cp < 0x80 ? (this.#asciiKeys[cp] ?? 0) : this.#key(cp);
    const known = state.transitions.get(key);
    if (known !== undefined) return known;
    this.#load(this.#current, state);
    advance(this.#current, this.#next, cp);
    const result = this.#intern(this.#next);
    if (state.cached && result.cached) state.transitions.set(key, result);
    return result;
  }

  /**
   * Runs the rest of `value`, `from` to `to` (UTF-16 offsets), on the NFA from `state`, for when the cache is
   * full: interning a state per step would cost more than the step itself.
   */
  finish(state: DfaState, value: string, from: number, to: number): boolean {
    let current = this.#current;
    let next = this.#next;
    this.#load(current, state);
    for (let i = from; i < to && current.active.length > 0; ) {
      const cp = value.codePointAt(i) ?? 0;
      i += cp > 0xffff ? 2 : 1;
      advance(current, next, cp);
      [current, next] = [next, current];
    }
    const accepting = (current.counts[this.#accept.id] ?? -1) !== -1;
    current.clear();
    return accepting;
  }

  #load(set: StateSet, state: DfaState): void {
    state.nodes.forEach((node, k) => {
      set.add(node, state.counts[k] ?? 0);
    });
  }

  /** Transitions depend on a code point only through the literal it is, if any, or else its classes. */
  #key(cp: number): number {
    return this.#literals.has(cp) ? cp : -1 - classify(cp);
  }

  /** The DFA state for `set`, which it empties. */
  #intern(set: StateSet): DfaState {
    const nodes = set.active.slice().sort((a, b) => a.id - b.id);
    const counts = nodes.map((node) => set.counts[node.id] ?? 0);
    const accepting = (set.counts[this.#accept.id] ?? -1) !== -1;
    set.clear();
    const key = nodes.map((node, k) => `${node.id}:${counts[k]}`).join(',');
    const known = this.#cache.get(key);
    if (known !== undefined) return known;
    const cached = this.#cachedNodes + nodes.length <= DFA_CACHE_NODES;
    const state = new DfaState(nodes, counts, accepting, cached);
    if (cached) {
      this.#cache.set(key, state);
      this.#cachedNodes += nodes.length;
    }
    return state;
  }
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

// ---------------------------------------------------------------------------------------------------------
// Expansion

function expandExpression(
  expression: Expression,
  variables: Readonly<Record<string, UriTemplateValue>>,
): string {
  const { operator: op } = expression;
  const expanded: string[] = [];
  for (const spec of expression.variables) {
    // Own properties only, so `{constructor}` is not Object.prototype.constructor.
    const value = Object.hasOwn(variables, spec.name) ? variables[spec.name] : undefined;
    const text = expandVariable(op, spec, value);
    if (text !== undefined) expanded.push(text);
  }
  return expanded.length === 0 ? '' : op.first + expanded.join(op.separator);
}

function expandVariable(op: Operator, spec: VarSpec, value: UriTemplateValue | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const encode = (text: string) => encodeValue(text, op.reserved);
  const pair = (key: string, text: string) => (text === '' ? key + op.ifEmpty : `${key}=${encode(text)}`);
  if (typeof value === 'string') {
    const text = spec.maxLength > 0 ? Array.from(value).slice(0, spec.maxLength).join('') : value;
    return op.named ? pair(spec.name, text) : encode(text);
  }
  if (spec.maxLength > 0) {
    throw new TypeError(
      `{${spec.name}:${spec.maxLength}} cannot take a prefix of a list or an associative array`,
    );
  }
  const name = op.named ? `${spec.name}=` : '';
  if (isList(value)) {
    if (value.length === 0) return undefined;
    if (!spec.explode) return name + value.map(encode).join(',');
    return value.map((item) => (op.named ? pair(spec.name, item) : encode(item))).join(op.separator);
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return undefined;
  if (!spec.explode) return name + entries.map(([key, item]) => `${encode(key)},${encode(item)}`).join(',');
  return entries
    .map(([key, item]) => (op.named ? pair(encode(key), item) : `${encode(key)}=${encode(item)}`))
    .join(op.separator);
}

// Array.isArray does not narrow a readonly array out of a union.
function isList(value: readonly string[] | Readonly<Record<string, string>>): value is readonly string[] {
  return Array.isArray(value);
}

const UPPER_HEX = '0123456789ABCDEF';

function encodeValue(text: string, reserved: boolean): string {
  let result = '';
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    const classes = cp < 0x80 ? (ASCII_CLASSES[cp] ?? 0) : 0;
    if ((classes & UNRESERVED) !== 0 || (reserved && (classes & RESERVED) !== 0)) {
      result += text.charAt(i);
    } else if (
      reserved &&
      cp === 0x25 &&
      isHexDigit(text.charCodeAt(i + 1)) &&
      isHexDigit(text.charCodeAt(i + 2))
    ) {
      result += text.slice(i, i + 3);
      i += 3;
      continue;
    } else {
      result += percentEncode(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
    }
    i += width;
  }
  return result;
}

function percentEncode(cp: number): string {
  const octets =
    cp < 0x80
      ? [cp]
      : cp < 0x800
        ? [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)]
        : cp < 0x10000
          ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]
          : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return octets.map((octet) => `%${UPPER_HEX[octet >> 4]}${UPPER_HEX[octet & 0xf]}`).join('');
}
