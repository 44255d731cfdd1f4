/**
 * The character classes of RFC 6570 and RFC 3987 a template and its values are made of, one bit each, so
 * an NFA edge tests a code point with one AND.
 *
 * @module
 */

export const UNRESERVED = 1 << 0;
export const RESERVED = 1 << 1;
export const UCSCHAR = 1 << 2;
export const IPRIVATE = 1 << 3;
// The first hex digit of a pct-encoded octet tells its role in UTF-8, which only a prefix modifier needs.
export const HEX_ASCII = 1 << 4; // 0-7: a one-octet character
export const HEX_CONTINUATION = 1 << 5; // 8-B
export const HEX_LEAD2 = 1 << 6; // C-D: starts a two-octet sequence
export const HEX_LEAD3 = 1 << 7; // E
export const HEX_LEAD4 = 1 << 8; // F
export const HEX = HEX_ASCII | HEX_CONTINUATION | HEX_LEAD2 | HEX_LEAD3 | HEX_LEAD4;

export const ASCII_CLASSES = (() => {
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

export function classify(cp: number): number {
  if (cp < 0x80) return ASCII_CLASSES[cp] ?? 0;
  if (isUcschar(cp)) return UCSCHAR;
  return isIprivate(cp) ? IPRIVATE : 0;
}

export function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

export function isUcschar(cp: number): boolean {
  if (cp < 0x10000) {
    return (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xf900 && cp <= 0xfdcf) || (cp >= 0xfdf0 && cp <= 0xffef);
  }
  // Planes 1 to 14 less each plane's last two code points and U+E0000..U+E0FFF.
  return cp <= 0xefffd && (cp & 0xffff) <= 0xfffd && (cp < 0xe0000 || cp >= 0xe1000);
}

export function isIprivate(cp: number): boolean {
  return (cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xf0000 && cp <= 0x10fffd && (cp & 0xffff) <= 0xfffd);
}
