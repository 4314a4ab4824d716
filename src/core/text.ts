/**
 * Characters a terminal acts on instead of showing: C0 (including newline and tab), DEL, C1
 * (0x9b is CSI on 8-bit terminals) and the bidi marks, overrides and isolates that make text read
 * differently from what it is (Trojan Source, CVE-2021-42574). mlv refuses them in the names,
 * aliases and tags it writes, and escapes them in everything it prints.
 */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * The first control character of `s`, written as a code point (`U+001B`), or undefined.
 * @example firstControl('evil\x1b[2J') // 'U+001B'
 */
export function firstControl(s: string): string | undefined {
  const m = CONTROL_CHARS.exec(s);
  return m ? `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}
