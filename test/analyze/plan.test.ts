import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/commands/analyze.js';
import { sampleSize } from '../../src/commands/sample-size.js';
import { InputError, UsageError } from '../../src/errors.js';
import { testContext } from '../helpers/context.js';

/** sample-size --save writes the design; analyze --plan uses it and says when the experiment departs from it. */

function planDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'mlv-plan-'));
}

async function savePlan(cwd: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { ctx } = testContext({ cwd });
  const out = await sampleSize(ctx, { baseline: 0.05, mde: 0.005, save: 'plan.json', metric: 'conversion', ...extra });
  expect(out.saved_plan).toBe('plan.json');
  return JSON.parse(readFileSync(path.join(cwd, 'plan.json'), 'utf8'));
}

describe('mlv sample-size --save', () => {
  it('writes the design: R ceiling(power.prop.test(p1 = 0.05, p2 = 0.055, power = 0.8)$n) = 31234 per arm', async () => {
    const plan = await savePlan(planDir(), { startDate: '2026-01-01', dailyTraffic: 5000 });
    expect(plan).toMatchObject({
      mlv_plan: 1,
      metric: 'conversion',
      metric_type: 'proportion',
      metrics: 1,
      variants: 1,
      baseline: 0.05,
      mde_absolute: 0.005,
      alpha: 0.05,
      power: 0.8,
      alternative: 'two-sided',
      ratio: 1,
      correction: 'holm',
      per_variant: { control: 31234, treatment: 31234 },
      start_date: '2026-01-01',
      days: 13,
    });
    expect(plan.command).toBe(
      'mlv sample-size --baseline 0.05 --mde 0.005 --daily-traffic 5000 --metric conversion --start-date 2026-01-01 --save plan.json',
    );
  });

  it('rejects a bad start date and plan-only flags without --save', async () => {
    const { ctx } = testContext({ cwd: planDir() });
    await expect(
      sampleSize(ctx, { baseline: 0.05, mde: 0.005, save: 'p.json', startDate: '1/2/2026' }),
    ).rejects.toThrow('--start-date must be a date YYYY-MM-DD, got 1/2/2026');
    await expect(sampleSize(ctx, { baseline: 0.05, mde: 0.005, startDate: '2026-01-01' })).rejects.toThrow(UsageError);
  });
});

describe('mlv analyze --plan', () => {
  it('units needed from the design; warns about peeking before the planned sample', async () => {
    const cwd = planDir();
    await savePlan(cwd);
    const { ctx } = testContext({ cwd });
    const r = await analyze(ctx, { control: '500/10000', treatment: ['520/10000'], plan: 'plan.json' });
    const c = r.metrics[0]!.comparisons[0]!;
    expect(c.units_needed).toEqual({
      control: 31234,
      treatment: 31234,
      basis: 'design',
      effect: 0.005,
      horizon: 'fixed',
    });
    expect(r.additional_units_needed).toBe(2 * (31234 - 10000));
    expect(r.plan).toMatchObject({ per_variant: { control: 31234 } });
    expect(r.warnings.some((w) => w.startsWith('stopped before the planned sample'))).toBe(true);
    expect(r.warnings.some((w) => w.includes('(peeking)'))).toBe(true);
    // with --sequential, looking early is what the method is for: no peeking warning, sequential units
    const s = await analyze(ctx, {
      control: '500/10000',
      treatment: ['520/10000'],
      plan: 'plan.json',
      sequential: true,
    });
    expect(s.warnings.some((w) => w.includes('peeking'))).toBe(false);
    expect(s.metrics[0]!.comparisons[0]!.units_needed).toMatchObject({ basis: 'design', horizon: 'sequential' });
  });

  it('alpha and correction come from the plan; warns when the family is larger than sized for', async () => {
    const cwd = planDir();
    await savePlan(cwd, { alpha: 0.1, correction: 'bonferroni', metric: undefined });
    const { ctx } = testContext({ cwd });
    const r = await analyze(ctx, {
      control: '500/10000',
      treatment: ['b:520/10000', 'c:530/10000'],
      plan: 'plan.json',
    });
    expect(r.settings.alpha).toBe(0.1);
    expect(r.settings.correction).toBe('bonferroni');
    expect(r.warnings).toContainEqual(expect.stringContaining('2 primary comparisons but the plan sized alpha for 1'));
    const other = await analyze(ctx, {
      control: '500/10000',
      treatment: ['520/10000'],
      metric: ['signup'],
      plan: 'plan.json',
    });
    expect(other.warnings.some((w) => w.includes('not a primary metric'))).toBe(false); // this plan is for every metric
    await expect(
      analyze(ctx, { control: '500/10000', treatment: ['520/10000'], plan: 'plan.json', alpha: 0.05 }),
    ).rejects.toThrow("--alpha 0.05 differs from the plan's alpha 0.1");
    await expect(
      analyze(ctx, { control: '500/10000', treatment: ['520/10000'], plan: 'plan.json', mde: 0.01 }),
    ).rejects.toThrow('--mde and --plan both give the design');
    await savePlan(cwd, { metric: 'checkout' });
    const named = await analyze(ctx, {
      control: '500/10000',
      treatment: ['520/10000'],
      metric: ['signup'],
      plan: 'plan.json',
    });
    expect(named.warnings).toContainEqual(expect.stringContaining('the plan is for metric checkout'));
    expect(named.metrics[0]!.comparisons[0]!.units_needed!.basis).toBe('observed_effect');
  });

  it('warns when the experiment ran less than a week (start date of the plan, the context clock)', async () => {
    const cwd = planDir();
    await savePlan(cwd, { startDate: '2025-12-30' });
    const { ctx } = testContext({ cwd, now: new Date('2026-01-02T12:00:00Z') });
    const r = await analyze(ctx, { control: '31234/40000', treatment: ['31300/40000'], plan: 'plan.json' });
    expect(r.days).toBe(3);
    expect(r.warnings).toContainEqual(expect.stringContaining('ran 3 day(s), less than a full weekly cycle'));
    expect(r.warnings.some((w) => w.includes('peeking'))).toBe(false); // the planned sample is reached
  });

  it('events form: the days come from the exposures (first to last UTC day)', async () => {
    const cwd = planDir();
    await savePlan(cwd);
    const rows = [
      { type: 'exposure', experiment: 'e', unit: 'a', variant: 'control', ts: '2026-01-01T10:00:00Z' },
      { type: 'exposure', experiment: 'e', unit: 'b', variant: 'treatment', ts: '2026-01-01T11:00:00Z' },
      { type: 'exposure', experiment: 'e', unit: 'c', variant: 'control', ts: '2026-01-02T10:00:00Z' },
      { type: 'exposure', experiment: 'e', unit: 'd', variant: 'treatment', ts: '2026-01-02T23:00:00Z' },
      { type: 'metric', unit: 'b', metric: 'conversion', ts: '2026-01-02T00:00:00Z' },
    ];
    writeFileSync(path.join(cwd, 'e.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const { ctx } = testContext({ cwd });
    const r = await analyze(ctx, { events: ['e.jsonl'], experiment: 'e', metric: ['conversion'], plan: 'plan.json' });
    expect(r.days).toBe(2);
    expect(r.warnings).toContainEqual(expect.stringContaining('ran 2 day(s)'));
  });

  it('warns when a one-sided plan is analyzed two-sided', async () => {
    const cwd = planDir();
    await savePlan(cwd, { alternative: 'one-sided' });
    const { ctx } = testContext({ cwd });
    const base = { control: '500/10000', treatment: ['520/10000'], plan: 'plan.json' };
    const two = await analyze(ctx, base);
    expect(two.warnings).toContainEqual(expect.stringContaining('sized for a one-sided test'));
    const one = await analyze(ctx, { ...base, alternative: 'greater' });
    expect(one.warnings.some((w) => w.includes('one-sided test'))).toBe(false);
  });

  it('a file that is not a plan is an input error naming it', async () => {
    const cwd = planDir();
    writeFileSync(path.join(cwd, 'x.json'), '{"alpha": 0.05}');
    writeFileSync(path.join(cwd, 'y.json'), 'nope');
    const { ctx } = testContext({ cwd });
    const base = { control: '500/10000', treatment: ['520/10000'] };
    await expect(analyze(ctx, { ...base, plan: 'x.json' })).rejects.toThrow('--plan x.json: mlv_plan must be 1');
    await expect(analyze(ctx, { ...base, plan: 'y.json' })).rejects.toThrow(InputError);
    await expect(analyze(ctx, { ...base, plan: 'missing.json' })).rejects.toThrow('--plan missing.json: no such file');
  });
});
