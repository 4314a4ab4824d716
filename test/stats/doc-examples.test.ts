import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as stats from '../../src/core/stats/index.js';
import { repoRoot } from '../helpers/cli.js';

/**
 * Every `@example EXPR // RESULT` in src/core/stats is evaluated and must print RESULT, so the
 * documentation cannot drift from the code. (The reference values themselves are tested against
 * scipy/statsmodels in the other files.)
 */
const dir = path.join(repoRoot, 'src/core/stats');
const show = (v: unknown): string => {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return '[' + v.map(show).join(', ') + ']';
  if (typeof v === 'object')
    return (
      '{ ' +
      Object.entries(v as object)
        .map(([k, x]) => `${k}: ${show(x)}`)
        .join(', ') +
      ' }'
    );
  return String(v);
};
// sloppy-mode Function so `with` can put the module's exports in scope of the example
const evaluate = new Function('S', 'expr', 'with (S) { return eval(expr); }') as (s: unknown, e: string) => unknown;

const examples: [string, string, string][] = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
  for (const m of readFileSync(path.join(dir, file), 'utf8').matchAll(
    /@example (.*?) \/\/ (.*?)( \(≈[^)]*\))?( \*\/)?$/gm,
  )) {
    examples.push([file, m[1]!, m[2]!]);
  }
}

describe('doc-comment examples', () => {
  it('finds examples in every file', () => {
    expect(examples.length).toBeGreaterThan(50);
  });
  it.each(examples)('%s: %s', (_file, expr, result) => {
    const actual = show(evaluate(stats, expr));
    // same text apart from the numbers; numbers equal to 1e-12 relative (last-digit noise of quadrature)
    const NUM = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g;
    expect(actual.replace(NUM, '#')).toBe(result.replace(NUM, '#'));
    const a = actual.match(NUM)?.map(Number) ?? [];
    const e = result.match(NUM)?.map(Number) ?? [];
    a.forEach((x, i) =>
      expect(Math.abs(x - e[i]!), `${actual} vs ${result}`).toBeLessThanOrEqual(1e-12 * Math.abs(e[i]!)),
    );
  });
});
