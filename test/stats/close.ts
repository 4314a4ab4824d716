import { expect } from 'vitest';

/**
 * Asserts |actual − expected| ≤ rel·|expected| + abs (null/±Infinity must match exactly).
 * The message names the reference call so a failure says which number disagreed.
 */
export function expectClose(
  actual: number | null | undefined,
  expected: number | null,
  rel: number,
  abs = 0,
  call = '',
): void {
  if (expected === null || actual === null || actual === undefined || !Number.isFinite(expected)) {
    expect(actual, call).toBe(expected);
    return;
  }
  const err = Math.abs(actual - expected);
  const tol = rel * Math.abs(expected) + abs;
  if (!(err <= tol)) {
    throw new Error(
      `${call}: got ${actual}, expected ${expected} (|err| ${err.toExponential(2)} > tol ${tol.toExponential(2)}, rel ${(err / Math.abs(expected)).toExponential(2)})`,
    );
  }
}
