/**
 * The RFC 6570 template grammar: a template is literals and expressions; an expression is an operator and
 * variables, each with an explode or prefix modifier. Parsing is strict (see index.ts for what it refuses).
 *
 * @module
 */

import { isHexDigit, isIprivate, isUcschar } from './charset.js';

/** How an expression's operator expands its variables (RFC 6570 appendix A). */
export interface Operator {
  readonly first: string;
  readonly separator: string;
  readonly named: boolean;
  readonly ifEmpty: string;
  /** Reserved characters and pct-encoded triplets of the value pass through unencoded. */
  readonly reserved: boolean;
}

export interface VarSpec {
  readonly name: string;
  readonly explode: boolean;
  /** Prefix length in code points; 0 when the whole value expands. */
  readonly maxLength: number;
}

export interface Expression {
  readonly operator: Operator;
  readonly variables: readonly VarSpec[];
}

export type Part = string | Expression;

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

export function parseTemplate(template: string): Part[] | undefined {
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
