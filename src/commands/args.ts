import { InvalidArgumentError } from 'commander';

/**
 * Parsers for flag values, shared by the commands. commander prints the thrown message after
 * "option '--x <v>' argument 'v' is invalid." and main.ts maps it to exit 2.
 */

/** A finite number that passes `check`, e.g. `numberArg('--alpha', (x) => x > 0 && x < 1, 'a number in (0, 1)')`. */
export function numberArg(flag: string, check: (x: number) => boolean = () => true, expected = 'a number') {
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !Number.isFinite(x) || !check(x)) {
      throw new InvalidArgumentError(`${flag} must be ${expected}, got "${value}"`);
    }
    return x;
  };
}

/** A whole number ≥ min, written in digits (no 1e3, no 0x10). */
export function intArg(flag: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${flag} must be an integer ≥ ${min}, got "${value}"`);
    }
    return n;
  };
}

/** Collects a repeatable flag's values in order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** A shell word: left bare when safe, else single-quoted. */
export function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * A command line from flags in the given order: `true` → the bare flag, `undefined`/`false` →
 * left out, arrays → the flag repeated, anything else → the flag and its quoted value.
 */
export function commandLine(words: string[], flags: [string, unknown][]): string {
  const parts = [...words];
  for (const [name, v] of flags) {
    if (v === undefined || v === false) continue;
    if (v === true) parts.push(name);
    else if (Array.isArray(v)) for (const x of v) parts.push(name, shellQuote(String(x)));
    else parts.push(name, shellQuote(String(v)));
  }
  return parts.join(' ');
}
