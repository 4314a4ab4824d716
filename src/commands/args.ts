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
