import { describe, expect, it } from 'vitest';
import { renderSampleSize, sampleSize, type SampleSizeInput } from '../../src/commands/sample-size.js';
import { UsageError } from '../../src/errors.js';
import { testContext } from '../helpers/context.js';
import { expectClose } from '../stats/close.js';
import * as ref from '../stats/reference-values.generated.js';

const find = <T extends { args: unknown[] }>(rows: T[], ...args: unknown[]): T => {
  const row = rows.find((r) => args.every((a, i) => r.args[i] === a));
  if (!row) throw new Error(`no reference row for ${JSON.stringify(args)}`);
  return row;
};

describe('sampleSize (result object)', () => {
  it('sizes a relative MDE with the pooled default', async () => {
    const { ctx } = testContext();
    const r = await sampleSize(ctx, { baseline: 0.045, mdeRelative: 0.1, dailyTraffic: 10000 });
    const exact = find(ref.cli, 'pooled', 0.045, 0.0045).expected; // pooled formula, scipy quantiles
    expect(r).toMatchObject({
      solve_for: 'sample_size',
      method: 'pooled',
      alpha: 0.05,
      power: 0.8,
      alternative: 'two-sided',
      baseline: 0.045,
      treatment_rate: 0.0495,
      mde_absolute: 0.0045,
      mde_relative: 0.1,
      ratio: 1,
      variants: 1,
      per_variant: { control: Math.ceil(exact), treatment: Math.ceil(exact) },
      total: 2 * Math.ceil(exact),
      days: Math.ceil((2 * Math.ceil(exact)) / 10000),
    });
  });

  it('applies the allocation ratio and power', async () => {
    const { ctx } = testContext();
    const r = await sampleSize(ctx, { baseline: 0.045, mde: 0.005, power: 0.9, ratio: 2 });
    const exact = find(ref.cli, 'pooled', 0.045, 0.005).expected;
    expect(r.per_variant).toEqual({ control: Math.ceil(exact), treatment: 2 * Math.ceil(exact) });
    expect(r).not.toHaveProperty('days');
  });

  it('reproduces the evanmiller.org convention', async () => {
    const { ctx } = testContext();
    const r = await sampleSize(ctx, { baseline: 0.1, mde: 0.01, method: 'evanmiller' });
    expect(r.per_variant.control).toBe(Math.ceil(find(ref.cli, 'evanmiller', 0.1, 0.01).expected));
  });

  it('sizes a continuous metric with Bonferroni over three arms, one-sided', async () => {
    const { ctx } = testContext();
    const r = await sampleSize(ctx, { sd: 4.1, mde: 0.3, variants: 3, alternative: 'one-sided', method: 'continuous' });
    const exact = find(ref.cli, 'continuous', null, 0.3).expected;
    expect(r).toMatchObject({
      method: 'continuous',
      sd: 4.1,
      baseline: null,
      treatment_rate: null,
      mde_relative: null,
      per_variant: { control: Math.ceil(exact), treatment: Math.ceil(exact) },
      total: 4 * Math.ceil(exact),
    });
    expectClose(r.alpha_per_comparison, 0.05 / 3, 1e-15);
  });

  it('--sd defaults to the t-test (noncentral t); --metrics and --correction split alpha as analyze will', async () => {
    const { ctx } = testContext();
    const r = await sampleSize(ctx, { sd: 4.1, mde: 0.3 });
    // R: ceiling(power.t.test(delta=0.3, sd=4.1, power=0.8, strict=TRUE)$n) = 2933
    expect(r).toMatchObject({ method: 't', per_variant: { control: 2933, treatment: 2933 }, metrics: 1 });
    const m = await sampleSize(ctx, {
      baseline: 0.045,
      mde: 0.0045,
      metrics: 2,
      variants: 2,
      correction: 'bonferroni',
    });
    // R: ceiling(power.prop.test(p1=0.045, p2=0.0495, sig.level=0.05/4, power=0.8)$n) = 49579
    expect(m).toMatchObject({ metrics: 2, correction: 'bonferroni', per_variant: { control: 49579 } });
    expectClose(m.alpha_per_comparison, 0.0125, 1e-15);
    await expect(sampleSize(ctx, { baseline: 0.045, mde: 0.0045, metrics: 1.5 })).rejects.toThrow(
      '--metrics must be an integer ≥ 1, got 1.5',
    );
    await expect(sampleSize(ctx, { baseline: 0.045, mde: 0.0045, method: 't' })).rejects.toThrow('give --sd');
  });

  it('answers the inverse question (--n) with arcsine', async () => {
    const { ctx } = testContext();
    const r = await sampleSize(ctx, { baseline: 0.2, n: 5000, method: 'arcsine' });
    const row = find(ref.arcsine_mde, 0.2, 5000);
    expect(r.solve_for).toBe('mde');
    expectClose(r.mde_absolute, row.expected, 1e-9, 0, row.call);
    expectClose(r.mde_relative, row.expected / 0.2, 1e-9, 0, row.call);
    expect(r.per_variant).toEqual({ control: 5000, treatment: 5000 });
  });

  const bad: [string, SampleSizeInput, RegExp][] = [
    ['rate above 1', { baseline: 1.5, mde: 0.01 }, /--baseline must be a rate in \(0, 1\), got 1.5/],
    ['no baseline', { mde: 0.01 }, /--baseline is required/],
    ['alpha', { baseline: 0.1, mde: 0.01, alpha: 1.5 }, /--alpha must be a number in \(0, 1\), got 1.5/],
    ['power', { baseline: 0.1, mde: 0.01, power: 0 }, /--power must be a number in \(0, 1\), got 0/],
    ['ratio', { baseline: 0.1, mde: 0.01, ratio: -1 }, /--ratio must be a number > 0/],
    ['variants', { baseline: 0.1, mde: 0.01, variants: 1.5 }, /--variants must be an integer ≥ 1, got 1.5/],
    [
      'two MDEs',
      { baseline: 0.1, mde: 0.01, mdeRelative: 0.1 },
      /exactly one of --mde, --mde-relative or --n, got --mde and --mde-relative/,
    ],
    ['no MDE', { baseline: 0.1 }, /give exactly one of --mde, --mde-relative or --n/],
    ['treatment rate out of range', { baseline: 0.95, mde: 0.06 }, /must stay in \(0, 1\)/],
    ['method with --sd', { sd: 2, mde: 0.1, method: 'arcsine' }, /--method arcsine applies to proportion metrics/],
    ['relative without mean', { sd: 2, mdeRelative: 0.1 }, /--mde-relative with --sd needs --baseline/],
    ['negative sd', { sd: -2, mde: 0.1 }, /--sd must be a number > 0/],
    [
      'evanmiller one-sided',
      { baseline: 0.1, mde: 0.01, method: 'evanmiller', alternative: 'one-sided' },
      /two-sided by its convention/,
    ],
    ['evanmiller ratio', { baseline: 0.1, mde: 0.01, method: 'evanmiller', ratio: 2 }, /no allocation ratio/],
    ['n not an integer', { baseline: 0.1, n: 10.5 }, /--n must be an integer ≥ 2/],
    ['daily traffic', { baseline: 0.1, mde: 0.01, dailyTraffic: 0 }, /--daily-traffic must be a number > 0/],
    ['power below alpha', { baseline: 0.1, mde: 0.01, power: 0.01 }, /--power must exceed the one-tail alpha/],
  ];
  it.each(bad)('rejects %s with a usage error naming the flag', async (_name, input, message) => {
    const { ctx } = testContext();
    const err = await sampleSize(ctx, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  it('says when --n is too small for any effect (exit 2, input error)', async () => {
    const { ctx } = testContext();
    await expect(sampleSize(ctx, { baseline: 0.5, n: 3 })).rejects.toMatchObject({ exitCode: 2, message: /too small/ });
  });
});

describe('renderSampleSize', () => {
  it('states its conventions and boxes the arms on a TTY', async () => {
    const { ctx, stdout } = testContext({ tty: true });
    const r = await sampleSize(ctx, { baseline: 0.045, mdeRelative: 0.1, ratio: 2, variants: 2, dailyTraffic: 20000 });
    ctx.output(r, renderSampleSize);
    const text = stdout.text;
    expect(text).toContain('method pooled');
    expect(text).toContain('two-sided, alpha 0.05, power 80%');
    expect(text).toContain('+0.45 pp absolute (+10% relative) → treatment rate 4.95%');
    expect(text).toContain('1 control : 2 treatment');
    expect(text).toContain('Bonferroni: alpha 0.05/2 = 0.025 per comparison');
    expect(text).toContain('treatment 2');
    expect(text).toMatch(/┌|╭|─/); // cli-table3 box drawing
    expect(text).toContain(r.per_variant.control.toLocaleString('en-US'));
    expect(text).toContain(`days needed: `);
    expect(text).toContain('Conventions: each arm rounded up');
  });

  it('prints tab-separated arms without colour when piped', async () => {
    const { ctx, stdout } = testContext({ tty: false });
    const r = await sampleSize(ctx, { sd: 4.1, mde: 0.3, baseline: 12.3 });
    ctx.output(r, renderSampleSize);
    const text = stdout.text;
    expect(text).not.toMatch(/\u001b\[/);
    expect(text).toContain(`control\t${r.per_variant.control}\n`);
    expect(text).toContain(`total\t${r.total}`);
    expect(text).toContain('difference in means');
    expect(text).toContain('of 12.3');
  });

  it('words the inverse answer as a detectable effect', async () => {
    const { ctx, stdout } = testContext();
    ctx.output(await sampleSize(ctx, { baseline: 0.1, n: 14751 }), renderSampleSize);
    expect(stdout.text).toContain('Minimum detectable effect');
    expect(stdout.text).toContain('--n is the control arm');
  });

  it('--json prints the result object with the issue-5 field names', async () => {
    const { ctx, stdout } = testContext({ globals: { json: true } });
    const r = await sampleSize(ctx, { baseline: 0.045, mde: 0.005, dailyTraffic: 1000 });
    ctx.output(r, renderSampleSize);
    const doc = JSON.parse(stdout.text);
    for (const key of [
      'method',
      'alpha',
      'power',
      'alternative',
      'baseline',
      'treatment_rate',
      'mde_absolute',
      'mde_relative',
      'ratio',
      'variants',
      'per_variant',
      'total',
      'days',
    ])
      expect(doc).toHaveProperty(key);
    expect(doc.per_variant).toEqual(r.per_variant);
  });
});
