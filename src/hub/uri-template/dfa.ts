/**
 * Running the NFA over a value: the set of states at one position, one step on a code point, and the DFA
 * that caches those sets so that a step costs one map lookup.
 *
 * @module
 */

import { classify } from './charset.js';
import type { Node, Program } from './nfa.js';

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
export class Dfa {
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
