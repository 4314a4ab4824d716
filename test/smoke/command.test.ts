import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSmoke } from '../../src/commands/smoke.js';
import type { SmokeReport } from '../../src/core/smoke/report.js';
import { runSmoke } from '../../src/smoke/run.js';
import { encodeModel } from '../../src/onnx/builder.js';
import { makeStyle, plainStyle } from '../../src/terminal/style.js';
import { InputError, UsageError } from '../../src/errors.js';
import { repoRoot, runMlv, tempDir } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';

const m = (f: string) => path.join(repoRoot, 'fixtures/models', f);

const report: SmokeReport = {
  model: 'models:/churn/@candidate',
  sha256: 'c65fe6f64f60492ce7b839cc355c84762d7cc143392766023e43a9bf9cbbdc81',
  inputs: [{ name: 'features', type: 'float32', shape: ['N', 4] }],
  outputs: [
    { name: 'label', type: 'int64', shape: ['N'] },
    { name: 'probabilities', type: 'float32', shape: ['N', 2] },
  ],
  checks: [
    { name: 'loads', passed: true, detail: 'onnxruntime 1.23.2' },
    { name: 'outputs', passed: true, detail: '2 outputs with the declared types and shapes' },
    { name: 'finite', passed: true, detail: 'no NaN or Inf in the outputs' },
    { name: 'min-agreement', passed: false, detail: 'agreement 0.9844 < 0.99' },
  ],
  latency_ms: { p50: 0.0841, p95: 0.301, p99: 0.376, max: 12.5 },
  throughput_rows_per_s: 2296000,
  comparison: {
    baseline: 'models:/churn/@production',
    baseline_sha256: '88fe89afd728469f88a4c25bc02a091e832843f63f4f599a75818d3e90686d48',
    outputs: [
      { name: 'label', max_abs_diff: 1, mean_abs_diff: 0.015625, nonfinite_mismatches: 0 },
      { name: 'probabilities', max_abs_diff: 0.0945211, mean_abs_diff: 0.0150161, nonfinite_mismatches: 0 },
    ],
    agreement: 0.984375,
    agreement_output: 'label',
    latency_ratio: 1.05,
    baseline_latency_ms: { p50: 0.08, p95: 0.177, p99: 0.234, max: 0.248 },
    baseline_throughput_rows_per_s: 3180085.2,
  },
  run: { rows: 256, iterations: 100, warmup: 10, seed: 0, input: 'generated', threads: null, onnxruntime: '1.23.2' },
  passed: false,
};

describe('renderSmoke', () => {
  it('piped: tab-separated tables, plain marks', () => {
    expect(renderSmoke(report, plainStyle)).toBe(
      [
        'model models:/churn/@candidate  sha256 c65fe6f64f60',
        '256 generated rows (seed 0) · 100 runs after 10 warm-up · onnxruntime 1.23.2',
        'io\tname\ttype\tshape\ninput\tfeatures\tfloat32\t[N, 4]\noutput\tlabel\tint64\t[N]\noutput\tprobabilities\tfloat32\t[N, 2]',
        'check\tok\tdetail\nloads\t✓\tonnxruntime 1.23.2\noutputs\t✓\t2 outputs with the declared types and shapes\nfinite\t✓\tno NaN or Inf in the outputs\nmin-agreement\t✗\tagreement 0.9844 < 0.99',
        'latency ms\tp50\tp95\tp99\tmax\trows/s\ncandidate\t0.084\t0.301\t0.376\t12.50\t2296000\nbaseline\t0.080\t0.177\t0.234\t0.248\t3180085',
        'vs baseline models:/churn/@production  sha256 88fe89afd728',
        'output\tmax abs diff\tmean abs diff\nlabel\t1\t0.01563\nprobabilities\t0.09452\t0.01502',
        'agreement 98.44% (label) · latency ratio 1.05× (p50)',
        '✗ smoke test failed: min-agreement',
      ].join('\n\n'),
    );
  });

  it('on a TTY: boxed tables and colour', () => {
    const text = renderSmoke(report, makeStyle({ color: true, tty: true }));
    expect(text).toContain('┌');
    expect(text).toContain('\u001b[31m✗');
    expect(text).toMatch(/│ candidate +│ 0\.084 +│/);
  });
});

describe('runSmoke in process (what promote --smoke and compare call)', () => {
  it('returns the report and leaves failing checks to the caller', async () => {
    const { ctx, stdout } = testContext();
    const r = await runSmoke(ctx, { model: m('nan.onnx'), iterations: 2, warmup: 0, threads: 1 });
    expect(r.passed).toBe(false);
    expect(r.checks.find((c) => c.name === 'finite')?.passed).toBe(false);
    expect(stdout.text).toBe('');
  });

  it('resolves paths against ctx.cwd', async () => {
    const { ctx } = testContext({ cwd: repoRoot });
    const r = await runSmoke(ctx, {
      model: 'fixtures/models/classifier-v1-mlflow',
      iterations: 1,
      warmup: 0,
      threads: 1,
    });
    expect(r.model).toBe('fixtures/models/classifier-v1-mlflow');
    expect(r.passed).toBe(true);
  });

  it('warns that --batch does not apply to an input file', async () => {
    const { ctx, stderr } = testContext({ cwd: repoRoot });
    const r = await runSmoke(ctx, {
      model: m('classifier-v1.onnx'),
      input: 'fixtures/inputs/classifier.json',
      batch: 64,
      iterations: 1,
      warmup: 0,
    });
    expect(r.run.rows).toBe(8);
    expect(stderr.text).toContain(
      '--batch, --dim and --seed apply to generated inputs; using the 8 rows of fixtures/inputs/classifier.json',
    );
  });

  it.each([
    [{ gates: { maxAbsDiff: 0.1 } }, UsageError, '--max-abs-diff compares with a baseline: add --baseline MODEL'],
    [{ model: m('corrupt.onnx') }, InputError, /corrupt\.onnx is not a valid ONNX model/],
  ])('throws for usage and bad models: %o', async (extra, type, message) => {
    const { ctx } = testContext();
    const err = await runSmoke(ctx, { model: m('classifier-v1.onnx'), iterations: 1, ...extra }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
  });
});

describe('generated inputs of every element type reach the runtime', () => {
  it('bool, uint8, int32, float16, float64, int8, uint16 and string', async () => {
    const dir = tempDir();
    const types = [
      ['b', 'bool'],
      ['u', 'uint8'],
      ['i', 'int32'],
      ['h', 'float16'],
      ['d', 'double'],
      ['k', 'int8'],
      ['w', 'uint16'],
    ] as const;
    const file = path.join(dir, 'types.onnx');
    writeFileSync(
      file,
      encodeModel({
        graphName: 'types',
        inputs: [
          ...types.map(([name, elemType]) => ({ name, elemType, shape: ['N', 1] })),
          { name: 's', elemType: 'string', shape: ['N'] },
        ],
        outputs: [
          { name: 'y', elemType: 'float', shape: ['N', types.length] },
          { name: 's_out', elemType: 'string', shape: ['N'] },
        ],
        nodes: [
          ...types.map(([n]) => ({ op: 'Cast', inputs: [n], outputs: [`${n}_f`], attrs: { to: 1 } })),
          { op: 'Concat', inputs: types.map(([n]) => `${n}_f`), outputs: ['y'], attrs: { axis: 1 } },
          { op: 'Identity', inputs: ['s'], outputs: ['s_out'] },
        ],
      }),
    );
    const golden = path.join(dir, 'golden.json');
    const r = await runMlv(['smoke', file, '--batch', '3', '--iterations', '1', '--save-outputs', golden, '--json']);
    expect(r.code).toBe(0);
    expect(r.json<SmokeReport>().inputs.map((i) => i.type)).toEqual([
      'bool',
      'uint8',
      'int32',
      'float16',
      'float64',
      'int8',
      'uint16',
      'string',
    ]);
    // The model casts each input to float: y's row i is the row's inputs, in order.
    const saved = JSON.parse((await import('node:fs')).readFileSync(golden, 'utf8'));
    const row0 = types.map(([n]) => {
      const v = saved.inputs[n].data[0][0];
      return typeof v === 'boolean' ? Number(v) : v;
    });
    saved.outputs.y.data[0].forEach((v: number, j: number) => expect(v).toBeCloseTo(row0[j], 3));
    expect(saved.outputs.s_out.data).toEqual(saved.inputs.s.data);
    const again = await runMlv([
      'smoke',
      file,
      '--iterations',
      '1',
      '--expect-outputs',
      golden,
      '--atol',
      '0',
      '--rtol',
      '0',
    ]);
    expect(again.code).toBe(0);
  });
});
