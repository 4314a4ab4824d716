import { describe, expect, it } from 'vitest';
import { runMlv } from '../helpers/cli.js';
import * as ref from '../stats/reference-values.generated.js';

// Spawns the built CLI (npm test builds first).
describe('mlv sample-size (end to end)', () => {
  it('exits 0 and prints the issue-5 JSON', async () => {
    const r = await runMlv([
      'sample-size',
      '--baseline',
      '0.045',
      '--mde-relative',
      '0.1',
      '--daily-traffic',
      '10000',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json();
    // pooled formula with scipy.stats.norm quantiles (see ref.cli)
    const exact = ref.cli.find((x) => x.args[0] === 'pooled' && x.args[2] === 0.0045)!.expected;
    expect(doc).toMatchObject({
      method: 'pooled',
      per_variant: { control: Math.ceil(exact), treatment: Math.ceil(exact) },
    });
    expect(doc.days).toBe(Math.ceil(doc.total / 10000));
  });

  it('exits 2 with one line naming the flag and its range', async () => {
    const r = await runMlv(['sample-size', '--baseline', '0.1', '--mde', '0.01', '--alpha', '1.5']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: --alpha must be a number in (0, 1), got 1.5');
  });

  it('exits 2 on a non-numeric value and an unknown method', async () => {
    expect((await runMlv(['sample-size', '--baseline', 'abc', '--mde', '0.01'])).code).toBe(2);
    const r = await runMlv(['sample-size', '--baseline', '0.1', '--mde', '0.01', '--method', 'magic']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--method/);
  });

  it('--help shows the formulas and examples', async () => {
    const r = await runMlv(['sample-size', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mlv sample-size --baseline 0.045 --mde-relative 0.1');
    expect(r.stdout).toContain('evanmiller');
  });
});
