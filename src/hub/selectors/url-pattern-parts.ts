/**
 * A URL Pattern component's pattern string read back into its parts: the tokenizer and the "parse a
 * pattern string" algorithm of the URL Pattern Living Standard. The strings read here are the
 * canonical ones a `URLPattern` gives back (its `pathname`, `hostname`… getters), already encoded,
 * so no part is encoded again.
 */

/** How a part matches: literal text, one segment (`:name`), anything (`*`), or a custom regexp. */
export type PartType = 'fixed' | 'segment' | 'full' | 'regexp';

/** `?` optional, `*` zero or more, `+` one or more. */
export type PartModifier = '' | '?' | '*' | '+';

export interface PatternPart {
  readonly type: PartType;
  /** The literal text of a `fixed` part; the regexp of a `regexp` part; empty otherwise. */
  readonly value: string;
  readonly prefix: string;
  readonly suffix: string;
  readonly modifier: PartModifier;
}

/** What a component's parts depend on: the character a segment stops at, and the prefixes a name takes. */
export interface ComponentOptions {
  /** `/` in a special scheme's pathname, `.` in a hostname, none elsewhere. */
  readonly delimiter: string;
  /** `/` in a special scheme's pathname, none elsewhere. */
  readonly prefixes: string;
}

type TokenType = 'char' | 'escaped' | 'name' | 'regexp' | 'asterisk' | 'modifier' | 'open' | 'close' | 'end';

interface Token {
  readonly type: TokenType;
  readonly value: string;
}

const NAME_START = /[$_\p{ID_Start}]/u;
// ZWNJ and ZWJ may continue a name (as in JavaScript identifiers): alternatives, not a class.
const NAME_PART = /[$_\p{ID_Continue}]|\u200C|\u200D/u;

function patternError(message: string): never {
  throw new TypeError(`Not a URL Pattern component: ${message}`);
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < input.length) {
    const char = input[at] as string;
    if (char === '*') tokens.push({ type: 'asterisk', value: char });
    else if (char === '+' || char === '?') tokens.push({ type: 'modifier', value: char });
    else if (char === '{') tokens.push({ type: 'open', value: char });
    else if (char === '}') tokens.push({ type: 'close', value: char });
    else if (char === '\\') {
      if (at + 1 >= input.length) patternError(`a "\\" ends the pattern at ${at}.`);
      tokens.push({ type: 'escaped', value: input[++at] as string });
    } else if (char === ':') {
      let end = at + 1;
      while (end < input.length && (end === at + 1 ? NAME_START : NAME_PART).test(input[end] as string))
        end++;
      if (end === at + 1) patternError(`a ":" without a name at ${at}.`);
      tokens.push({ type: 'name', value: input.slice(at + 1, end) });
      at = end;
      continue;
    } else if (char === '(') {
      const end = regexpEnd(input, at);
      tokens.push({ type: 'regexp', value: input.slice(at + 1, end - 1) });
      at = end;
      continue;
    } else tokens.push({ type: 'char', value: char });
    at++;
  }
  tokens.push({ type: 'end', value: '' });
  return tokens;
}

/** The index just past the `)` closing the regexp group opened at `start`. */
function regexpEnd(input: string, start: number): number {
  let depth = 1;
  let at = start + 1;
  if (input[at] === '?') patternError(`a regexp group starts with "?" at ${at}.`);
  while (at < input.length) {
    const char = input[at] as string;
    if (char.charCodeAt(0) > 0x7f) patternError(`a regexp group holds a non-ASCII character at ${at}.`);
    if (char === '\\') {
      at += 2;
      continue;
    }
    if (char === ')') {
      depth--;
      if (depth === 0) {
        if (at === start + 1) patternError(`an empty regexp group at ${start}.`);
        return at + 1;
      }
    } else if (char === '(') {
      depth++;
      if (input[at + 1] !== '?') patternError(`a capturing group inside a regexp group at ${at}.`);
    }
    at++;
  }
  return patternError(`an unbalanced regexp group at ${start}.`);
}

/** The regexp a `:name` stands for in a component with this delimiter, as URL Pattern writes it. */
export function segmentWildcardRegexp(delimiter: string): string {
  return `[^${delimiter.replace(/[.+*?^${}()[\]|/\\]/g, '\\$&')}]+?`;
}

const FULL_WILDCARD_REGEXP = '.*';

/** The parts of a component's (canonical) pattern string. */
export function parsePatternString(input: string, options: ComponentOptions): PatternPart[] {
  const tokens = tokenize(input);
  const segment = segmentWildcardRegexp(options.delimiter);
  const parts: PatternPart[] = [];
  let pending = '';
  let index = 0;

  const tryConsume = (type: TokenType): string | undefined => {
    const token = tokens[index];
    if (token?.type !== type) return undefined;
    index++;
    return token.value;
  };
  const mustConsume = (type: TokenType): void => {
    if (tryConsume(type) === undefined) patternError(`expected ${type}, found ${tokens[index]?.type}.`);
  };
  const consumeText = (): string => {
    let text = '';
    for (let value = tryConsume('char') ?? tryConsume('escaped'); value !== undefined; ) {
      text += value;
      value = tryConsume('char') ?? tryConsume('escaped');
    }
    return text;
  };
  const flushPending = (): void => {
    if (pending === '') return;
    parts.push({ type: 'fixed', value: pending, prefix: '', suffix: '', modifier: '' });
    pending = '';
  };
  const addPart = (
    prefix: string,
    name: string | undefined,
    regexp: string | undefined,
    suffix: string,
    modifierText: string | undefined,
  ): void => {
    const modifier = (modifierText ?? '') as PartModifier;
    if (name === undefined && regexp === undefined && modifier === '') {
      pending += prefix;
      return;
    }
    flushPending();
    if (name === undefined && regexp === undefined) {
      if (prefix !== '') parts.push({ type: 'fixed', value: prefix, prefix: '', suffix: '', modifier });
      return;
    }
    const value = regexp === undefined ? segment : regexp === '*' ? FULL_WILDCARD_REGEXP : regexp;
    const type: PartType = value === segment ? 'segment' : value === FULL_WILDCARD_REGEXP ? 'full' : 'regexp';
    parts.push({ type, value: type === 'regexp' ? value : '', prefix, suffix, modifier });
  };

  while (index < tokens.length) {
    const char = tryConsume('char');
    const name = tryConsume('name');
    let regexp = tryConsume('regexp');
    if (name === undefined && regexp === undefined) regexp = tryConsume('asterisk');
    if (name !== undefined || regexp !== undefined) {
      let prefix = char ?? '';
      if (!options.prefixes.includes(prefix)) {
        pending += prefix;
        prefix = '';
      }
      flushPending();
      addPart(prefix, name, regexp, '', tryConsume('modifier') ?? tryConsume('asterisk'));
      continue;
    }
    const fixed = char ?? tryConsume('escaped');
    if (fixed !== undefined) {
      pending += fixed;
      continue;
    }
    if (tryConsume('open') !== undefined) {
      const prefix = consumeText();
      const groupName = tryConsume('name');
      let groupRegexp = tryConsume('regexp');
      if (groupName === undefined && groupRegexp === undefined) groupRegexp = tryConsume('asterisk');
      const suffix = consumeText();
      mustConsume('close');
      addPart(prefix, groupName, groupRegexp, suffix, tryConsume('modifier') ?? tryConsume('asterisk'));
      continue;
    }
    flushPending();
    mustConsume('end');
  }
  return parts;
}
