/**
 * Text that came from outside (a registry's names, tags and descriptions, a server's error
 * message, a flag value quoted back in an error) is shown escaped: a terminal never receives a
 * control character from it (the set is CONTROL_CHARS of src/core/text.ts; newline and tab are
 * escaped too, they would split TSV rows).
 */

import { CONTROL_CHARS } from '../core/text.js';

const UNSAFE = new RegExp(CONTROL_CHARS.source, 'g');
const UNSAFE_TEST = CONTROL_CHARS;
/** The colour sequences our own Style (chalk at level 1) writes: SGR with numeric parameters. */
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9]{1,3}(?:;[0-9]{1,3})*m/y;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** True when `s` holds a character `escapeControl` would change. */
export function hasControl(s: string): boolean {
  return UNSAFE_TEST.test(s);
}

/**
 * Every unsafe character as a visible escape: `\e`, `\n`, `\t`, `\x07`, `\u{202e}`.
 * @example escapeControl('evil\x1b[2J') // 'evil\\e[2J'
 */
export function escapeControl(s: string): string {
  return UNSAFE_TEST.test(s) ? s.replace(UNSAFE, escapeChar) : s;
}

/**
 * Like `escapeControl`, but keeps SGR colour sequences (`ESC [ 1;31 m`) and newlines: for text
 * composed by our own renderers (which colour it) out of escaped pieces. Anything else a
 * terminal would act on — cursor movement, screen clearing, OSC titles, bells — is escaped.
 */
export function escapeKeepingStyle(s: string): string {
  if (!UNSAFE_TEST.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\u001b') {
      SGR.lastIndex = i;
      const m = SGR.exec(s);
      if (m) {
        out += m[0];
        i += m[0].length - 1;
        continue;
      }
    }
    out += c === '\n' ? c : UNSAFE_TEST.test(c) ? escapeChar(c) : c;
  }
  return out;
}

/**
 * Every string inside a result (object keys too) passed through `escapeControl`: what a human
 * view renders is then free of control characters whatever the registry held. Numbers,
 * booleans and null stay as they are; `--json` does not use this (JSON escapes by itself).
 */
export function escapeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeControl(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => escapeDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[escapeControl(k)] = escapeDeep(v);
    return out as T;
  }
  return value;
}

/** JSON text with DEL, C1 and bidi controls written as \u escapes too (JSON.stringify leaves them raw). */
export function jsonSafe(text: string): string {
  return text.replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Longest quoted input an error line repeats; the rest is summarised as a count. */
export const MAX_QUOTED = 100;
/** Longest error line printed. */
export const MAX_LINE = 1000;

/**
 * An error line fit for a terminal: control characters escaped, then each quoted piece ("…" or
 * '…') longer than MAX_QUOTED characters cut with a count of what was left out, and the whole
 * line cut at MAX_LINE characters.
 * @example errorLine(`--metric key "${'k'.repeat(500)}" is not valid`)
 * // '--metric key "kkk…(100 k)… (500 characters)" is not valid'
 */
export function errorLine(s: string): string {
  let out = escapeControl(s).replace(/(["'])([^"'\n]{101,})\1/g, (_m, q: string, body: string) => {
    return `${q}${sliceChars(body, MAX_QUOTED)}…${q} (${body.length} characters)`;
  });
  if (out.length > MAX_LINE) out = `${sliceChars(out, MAX_LINE)}… (${out.length} characters in all)`;
  return out;
}

/** The first n UTF-16 units, without splitting a surrogate pair. */
function sliceChars(s: string, n: number): string {
  const cut = s.slice(0, n);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
