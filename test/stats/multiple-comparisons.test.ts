import { describe, expect, it } from 'vitest';
import { adjustPValues, benjaminiHochberg, chiSquareGoodnessOfFit, holm } from '../../src/core/stats/index.js';
import { expectClose } from './close.js';
import * as ref from './reference-values.generated.js';

describe('Holm and Benjamini–Hochberg adjusted p-values', () => {
  it.each(ref.multitest)('$call', ({ call, args: [ps, method], expected }) => {
    const adjusted = method === 'holm' ? holm(ps) : benjaminiHochberg(ps);
    expect(adjusted).toHaveLength(expected.length);
    adjusted.forEach((p, i) => expectClose(p, expected[i], 1e-14, 1e-300, `${call}[${i}]`));
  });

  it('Bonferroni = R p.adjust(c(0.01, 0.04, 0.03, 0.5), "bonferroni")', () => {
    const want = [0.04, 0.16, 0.12, 1];
    adjustPValues([0.01, 0.04, 0.03, 0.5], 'bonferroni').forEach((p, i) =>
      expectClose(p, want[i]!, 1e-15, 0, 'p.adjust'),
    );
  });

  it("'none' returns the p-values unchanged", () => {
    expect(adjustPValues([0.01, 0.5], 'none')).toEqual([0.01, 0.5]);
  });
});

describe('sample-ratio mismatch: chi-square goodness of fit', () => {
  it.each(ref.srm)('$call', ({ call, args: [observed, proportions], expected: [stat, p] }) => {
    const r = chiSquareGoodnessOfFit(observed, proportions);
    expectClose(r.statistic, stat, 1e-13, 1e-15, call);
    expectClose(r.pValue, p, 1e-11, 1e-300, call);
    expect(r.df).toBe(observed.length - 1);
  });

  it('treats an empty experiment as no evidence of mismatch', () => {
    expect(chiSquareGoodnessOfFit([0, 0], [1, 1])).toMatchObject({ statistic: 0, pValue: 1 });
  });

  it('rejects a non-positive expected proportion', () => {
    expect(() => chiSquareGoodnessOfFit([10, 10], [1, 0])).toThrow(RangeError);
  });
});
