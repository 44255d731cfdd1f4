/**
 * Characters Mercure draft-08 keeps out of topics, matchers, update IDs and event types: C0 and C1
 * controls and DEL (`Cc`), and format characters (`Cf`: bidirectional and zero-width controls,
 * invisible and used to spoof identifiers). Also what keeps SSE fields from injecting frames. A lone
 * surrogate (`Cs` under the `u` flag, which reads a pair as one code point) is no UTF-8 text at all.
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}]/u;

/** The first forbidden character of `text`, as `U+XXXX`; undefined when there is none. */
export function forbiddenCharacter(text: string): string | undefined {
  const found = FORBIDDEN.exec(text);
  if (found === null) return undefined;
  return `U+${(found[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
}
