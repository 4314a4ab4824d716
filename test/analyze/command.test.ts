import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, renderAnalyze, renderUpliftChart, type AnalyzeInput } from '../../src/commands/analyze.js';
import { InputError, UsageError } from '../../src/errors.js';
import { makeStyle, plainStyle } from '../../src/terminal/style.js';
import { testContext } from '../helpers/context.js';

const ANSI = /\u001b\[/;

describe('analyze: rendering', () => {
  const input: AnalyzeInput = { control: '450/10000', treatment: ['520/10000'] };

  it('on a TTY: boxed table, unicode chart, colour', async () => {
    const { ctx, stdout } = testContext({ tty: true, env: { FORCE_COLOR: '1' } });
    ctx.output(await analyze(ctx, input), renderAnalyze);
    const text = stdout.text;
    expect(text).toContain('┌');
    expect(text).toContain('●');
    expect(text).toContain('├');
    expect(text).toMatch(ANSI);
    expect(text.split('\n')[0]).toContain('sample ratio ok');
  });

  it('piped: tab-separated rows, an ASCII chart, no colour', async () => {
    const { ctx, stdout } = testContext({ tty: false });
    ctx.output(await analyze(ctx, input), renderAnalyze);
    const text = stdout.text;
    expect(text).not.toMatch(ANSI);
    expect(text).not.toContain('┌');
    expect(text).toContain('variant\tunits\trate\tdifference (pp)\tuplift (95% CI)\tp\tp adj\tverdict');
    expect(text).toContain(
      'treatment\t10,000\t5.20%\t+0.7 [+0.105, +1.3]\t+15.56% [+2.17%, +30.69%]\t0.0212\t0.0212\ttreatment_better',
    );
    expect(text).toMatch(/\n {2}treatment +\| +\[-+o-+\]\n/);
    expect(text).toContain('verdict: SHIP');
  });

  it('--json prints the result object with the documented names', async () => {
    const { ctx, stdout } = testContext({ globals: { json: true } });
    ctx.output(await analyze(ctx, { ...input, bayesian: true, sequential: true }), renderAnalyze);
    const j = JSON.parse(stdout.text);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['srm', 'metrics', 'verdict', 'excluded']));
    expect(Object.keys(j.srm)).toEqual(expect.arrayContaining(['p_value', 'ok', 'counts', 'expected']));
    expect(j.metrics[0]).toMatchObject({ name: 'conversion', type: 'proportion' });
    expect(j.metrics[0].arms[0]).toEqual({ variant: 'control', n: 10000, conversions: 450, rate: 0.045 });
    const c = j.metrics[0].comparisons[0];
    for (const k of [
      'variant',
      'vs',
      'test',
      'statistic',
      'p_value',
      'p_value_adjusted',
      'significant',
      'difference',
      'relative_uplift',
      'bayesian',
      'fixed_horizon',
    ]) {
      expect(c).toHaveProperty(k);
    }
    expect(Object.keys(c.bayesian)).toEqual([
      'prob_better',
      'expected_loss_treatment',
      'expected_loss_control',
      'relative_uplift_ci',
    ]);
    expect(Object.keys(c.fixed_horizon)).toEqual([
      'p_value',
      'difference_ci',
      'difference_ci_method',
      'relative_uplift_ci',
    ]);
    expect(c.p_value_basis).toBe('sequential');
    expect(c.difference.ci_method).toBe('confidence_sequence');
    expect(j.excluded).toEqual({ multi_variant_units: null, bad_lines: 0 });
    expect(j.verdict).toBe('keep_running'); // the sequential p-value (0.44) decides
  });

  it('says SRM first, loudly, when it failed', async () => {
    const { ctx } = testContext();
    const text = renderAnalyze(await analyze(ctx, { control: '450/10000', treatment: ['600/11000'] }), plainStyle);
    const lines = text.split('\n');
    expect(lines[0]).toBe('✗ SAMPLE RATIO MISMATCH — results are untrustworthy');
    expect(lines[1]).toMatch(
      /^ {2}units control 10,000 \/ treatment 11,000, expected 10,500 \/ 10,500 \(χ² p = 5\.2e-12 < 0\.001\)$/,
    );
    expect(text).toContain('verdict: DONT SHIP');
  });

  it('draws one-sided intervals open-ended and marks zero', () => {
    const tty = makeStyle({ color: false, tty: true });
    const lines = renderUpliftChart(
      [
        { label: 'b', estimate: 0.1, ci: [0.05, null] },
        { label: 'c', estimate: -0.05, ci: [-0.1, 0.02] },
      ],
      tty,
      21,
    );
    expect(lines).toEqual(['  b            │    ├───●▶', '  c   ├───●────┼─┤', '      -10.0%   0   +10.0%']);
  });
});

describe('analyze: input errors (exit 2) name the input', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlv-analyze-'));
  const empty = path.join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  const events = path.join(dir, 'e.jsonl');
  writeFileSync(
    events,
    [
      '{"type":"exposure","experiment":"exp","unit":"a","variant":"A","ts":"2024-05-01"}',
      '{"type":"exposure","experiment":"exp","unit":"b","variant":"B","ts":"2024-05-01"}',
      '{"type":"metric","unit":"a","metric":"converted","value":1,"ts":"2024-05-02"}',
    ].join('\n'),
  );
  it.each<[AnalyzeInput, typeof UsageError | typeof InputError, string]>([
    [{}, UsageError, 'nothing to analyze'],
    [
      { control: '450/10000', treatment: ['520/10000'], summary: 'x.csv' },
      UsageError,
      'choose one input form, got counts and summary',
    ],
    [
      { control: '451/450', treatment: ['520/10000'] },
      UsageError,
      '--control 451/450: conversions (451) > units (450)',
    ],
    [
      { control: '-1/450', treatment: ['520/10000'] },
      UsageError,
      '--control -1/450: conversions must be a whole number ≥ 0, got -1',
    ],
    [
      { control: '45/0', treatment: ['520/10000'] },
      UsageError,
      '--control 45/0: units must be a whole number ≥ 1, got 0',
    ],
    [
      { control: 'mean=1,sd=-2,n=100', treatment: ['mean=1,sd=2,n=100'] },
      UsageError,
      '--control mean=1,sd=-2,n=100: sd must be ≥ 0, got -2',
    ],
    [
      { control: 'mean=1,sd=2,n=1', treatment: ['mean=1,sd=2,n=100'] },
      UsageError,
      '--control mean=1,sd=2,n=1: n must be a whole number ≥ 2 for a mean, got 1',
    ],
    [{ control: 'mean=1,sd=2', treatment: ['mean=1,sd=2,n=100'] }, UsageError, '--control mean=1,sd=2: missing n='],
    [{ control: '45/100', treatment: ['mean=1,sd=2,n=100'] }, UsageError, 'must all be proportions'],
    [
      { control: 'a:45/100', treatment: ['50/100'], controlVariant: 'ctl' },
      UsageError,
      '--control is named a but --control-variant says ctl',
    ],
    [{ control: '45/100', treatment: ['b:50/100', 'b:51/100'] }, UsageError, 'arm name b is used twice'],
    [
      { control: '45/100', treatment: ['50/100'], expectedSplit: '80/x' },
      UsageError,
      '--expected-split must be positive shares separated by "/"',
    ],
    [
      { control: '45/100', treatment: ['50/100'], expectedSplit: '50/25/25' },
      UsageError,
      '--expected-split has 3 part(s) but the experiment has 2 arms (control, treatment)',
    ],
    [
      { control: '45/100', treatment: ['50/100'], alpha: 1.5 },
      UsageError,
      '--alpha must be a number in (0, 1), got 1.5',
    ],
    [
      { control: '45/100', treatment: ['50/100'], margin: 0.01, alternative: 'two-sided' },
      UsageError,
      '--margin needs a one-sided test',
    ],
    [
      { control: '45/100', treatment: ['50/100'], test: 'chi2', margin: 0.01 },
      UsageError,
      '--margin works with the z-test',
    ],
    [{ events: [empty], experiment: 'exp', metric: ['converted'] }, InputError, `--events ${empty}: no rows`],
    [
      { events: [events], experiment: 'exp', metric: ['convertd'] },
      InputError,
      '--metric convertd: no observations of metric "convertd"',
    ],
    [{ events: [events], experiment: 'nope', metric: ['converted'] }, InputError, `no exposures for experiment "nope"`],
    [
      { events: [events], experiment: 'exp', metric: ['converted'], controlVariant: 'C' },
      InputError,
      '--control-variant C: no such variant',
    ],
    [{ events: [events], metric: ['converted'] }, UsageError, '--events needs --experiment NAME'],
    [
      { events: [events], experiment: 'exp', metric: ['converted:median'] },
      UsageError,
      '--metric converted:median: unknown suffix ":median"',
    ],
    [{ summary: path.join(dir, 'none.csv') }, InputError, 'none.csv: no such file'],
    [{ control: '45/100', treatment: ['50/100'], guardrail: ['x'] }, UsageError, '--guardrail needs several metrics'],
    [{ events: [events], experiment: 'exp', guardrail: ['converted'] }, UsageError, 'every metric is a guardrail'],
  ])('%j', async (input, type, message) => {
    const { ctx } = testContext();
    const p = analyze(ctx, input);
    await expect(p).rejects.toThrow(type);
    await expect(p).rejects.toThrow(message);
  });

  it('summary without --metric: every metric in the file, the --guardrail ones as guardrails', async () => {
    const file = path.join(dir, 'stats.csv');
    writeFileSync(
      file,
      'variant,metric,n,conversions,sum,sum_sq\ncontrol,converted,1000,100,,\ntreatment,converted,1000,130,,\n' +
        'control,latency,1000,,120000,14500000\ntreatment,latency,1000,,119000,14300000\n',
    );
    const { ctx } = testContext();
    const r = await analyze(ctx, { summary: file, guardrail: ['latency:lower-is-better'] });
    expect(r.metrics.map((m) => [m.name, m.type, m.role, m.direction])).toEqual([
      ['converted', 'proportion', 'primary', 'higher_is_better'],
      ['latency', 'mean', 'guardrail', 'lower_is_better'],
    ]);
    await expect(analyze(ctx, { summary: file, guardrail: ['latncy'] })).rejects.toThrow(
      `--guardrail latncy: not in --summary ${file}`,
    );
  });

  it("resolves --summary and --events paths against the command's cwd", async () => {
    writeFileSync(
      path.join(dir, 'rel.csv'),
      'variant,metric,n,conversions\ncontrol,converted,1000,100\ntreatment,converted,1000,130\n',
    );
    const { ctx } = testContext({ cwd: dir });
    expect((await analyze(ctx, { summary: 'rel.csv' })).srm.counts).toEqual([1000, 1000]);
    const r = await analyze(ctx, { events: ['e.jsonl'], experiment: 'exp', metric: ['converted'] });
    expect(r.srm.counts).toEqual([1, 1]);
    await expect(analyze(testContext().ctx, { summary: 'rel.csv' })).rejects.toThrow('--summary rel.csv: no such file');
  });

  it('uses the named control variant, else "control", else the first seen', async () => {
    const { ctx } = testContext();
    const counts = await analyze(ctx, { control: '45/100', treatment: ['50/100', 'x:40/100'], controlVariant: 'ctl' });
    expect(counts.srm.variants).toEqual(['ctl', 'treatment1', 'x']);
    const base = { events: [events], experiment: 'exp', metric: ['converted'] };
    expect((await analyze(ctx, base)).control).toBe('A');
    expect((await analyze(ctx, { ...base, controlVariant: 'B' })).metrics[0]!.comparisons[0]).toMatchObject({
      variant: 'A',
      vs: 'B',
    });
  });
});
