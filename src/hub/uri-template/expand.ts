/**
 * RFC 6570 section 3 expansion: a template and values for its variables to a URI.
 *
 * @module
 */

import { ASCII_CLASSES, isHexDigit, RESERVED, UNRESERVED } from './charset.js';
import { type Expression, type Operator, parseTemplate, type VarSpec } from './grammar.js';

/** A template variable's value: a string, a list, an associative array, or undefined (not set). */
export type UriTemplateValue = string | readonly string[] | Readonly<Record<string, string>> | undefined;

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
