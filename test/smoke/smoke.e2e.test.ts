import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateInputs } from '../../src/core/smoke/generate.js';
import { CLASSIFIER_V1, CLASSIFIER_V2 } from '../../scripts/make-onnx-fixtures.js';
import type { SmokeReport } from '../../src/core/smoke/report.js';
import { repoRoot, runMlv, tempDir } from '../helpers/cli.js';
import { classify, features, v2AgainstV1 } from './classifier-formula.js';

const models = path.join(repoRoot, 'fixtures/models');
const inputs = path.join(repoRoot, 'fixtures/inputs');
const m = (f: string) => path.join(models, f);
const inp = (f: string) => path.join(inputs, f);
// One intra-op thread: the tests run several CLIs at once on a small machine.
const FAST = ['--iterations', '3', '--warmup', '0', '--threads', '1'];

async function smoke(args: string[], opts: { input?: string; cwd?: string } = {}) {
  return runMlv(['smoke', ...args, ...FAST], opts);
}

describe.concurrent('mlv smoke on the fixtures: models that pass', () => {
  it.each([
    ['classifier-v1.onnx', [], 16],
    ['classifier-v2.onnx', [], 16],
    ['classifier-v1-mlflow', [], 16],
    ['multi-input.onnx', ['--batch', '5'], 5],
    ['dynamic-dims.onnx', ['--dim', 'seq=3'], 16],
    ['slow.onnx', ['--batch', '4'], 4],
    ['runtime-error.onnx', ['--batch', '2'], 2],
    ['nan.onnx', ['--input', inp('nan-positive.json')], 3],
  ])('%s %j → exit 0', async (file, extra, rows) => {
    const r = await smoke([m(file), '--json', ...extra]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = r.json<SmokeReport>();
    expect(Object.keys(report)).toEqual([
      'model',
      'sha256',
      'inputs',
      'outputs',
      'checks',
      'latency_ms',
      'throughput_rows_per_s',
      'run',
      'passed',
    ]);
    expect(report.passed).toBe(true);
    expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['loads', true],
      ['outputs', true],
      ['finite', true],
    ]);
    expect(report.run.rows).toBe(rows);
    expect(report.run.iterations).toBe(3);
    const l = report.latency_ms;
    expect(l.p50).toBeGreaterThan(0);
    expect(l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max).toBe(true);
    expect(report.throughput_rows_per_s).toBeGreaterThan(0);
  });

  it('reports the declared inputs and outputs', async () => {
    const r = await smoke([m('multi-input.onnx'), '--json']);
    const report = r.json<SmokeReport>();
    expect(report.inputs).toEqual([
      { name: 'ids', type: 'int64', shape: ['batch', 3] },
      { name: 'x', type: 'float32', shape: ['batch', 2] },
    ]);
    expect(report.outputs).toEqual([{ name: 'y', type: 'float32', shape: ['batch', 1] }]);
  });

  it('the human report is a table: tab-separated when piped', async () => {
    const r = await smoke([m('classifier-v1.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'io\tname\ttype\tshape\ninput\tfeatures\tfloat32\t[N, 4]\noutput\tlabel\tint64\t[N]\noutput\tprobabilities\tfloat32\t[N, 2]',
    );
    expect(r.stdout).toMatch(
      /check\tok\tdetail\nloads\t✓\tonnxruntime 1\.\d+\.\d+\noutputs\t✓\t2 outputs with the declared types and shapes\nfinite\t✓/,
    );
    expect(r.stdout).toMatch(/latency ms\tp50\tp95\tp99\tmax\trows\/s\ncandidate\t[\d.]+\t[\d.]+\t[\d.]+\t[\d.]+\t\d+/);
    expect(r.stdout.trimEnd().endsWith('✓ smoke test passed')).toBe(true);
  });
});

describe.concurrent('bad models: exit 2 with one line', () => {
  it.each([
    ['corrupt.onnx', [], /^error: .*corrupt\.onnx is not a valid ONNX model: truncated protobuf/],
    [
      'not-onnx.onnx',
      [],
      /^error: .*not-onnx\.onnx is not a valid ONNX model: it is a text file, not an ONNX protobuf$/,
    ],
    [
      'unsupported-op.onnx',
      [],
      /^error: .*unsupported-op\.onnx uses operator FrobnicateV2 \(opset 17\), which onnxruntime [\d.]+ does not implement$/,
    ],
    [
      'unsupported-opset.onnx',
      [],
      /^error: .*unsupported-opset\.onnx imports opset 99 of ai\.onnx, but onnxruntime [\d.]+ supports up to opset 23$/,
    ],
    [
      'wrong-output-shape.onnx',
      [],
      /^error: .*wrong-output-shape\.onnx: output "y" is declared \[N, 3\] \(N=16\) but the model produced \[16, 2\]$/,
    ],
    [
      'wrong-output-type.onnx',
      [],
      /^error: .*wrong-output-type\.onnx declares y as tensor\(int64\) but its node produces tensor\(float\)$/,
    ],
    [
      'runtime-error.onnx',
      ['--batch', '3'],
      /^error: .*runtime-error\.onnx failed at run time on a batch of 3: .*cannot be reshaped to the requested shape/,
    ],
    ['missing.onnx', [], /^error: model .*missing\.onnx does not exist$/],
  ])('%s', async (file, extra, message) => {
    const r = await smoke([m(file), ...extra]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });
});

describe.concurrent('non-finite outputs', () => {
  it('fail the smoke test (exit 1) after printing the report', async () => {
    const r = await smoke([m('nan.onnx'), '--json']);
    expect(r.code).toBe(1);
    const report = r.json<SmokeReport>();
    expect(report.passed).toBe(false);
    // Independent count: log(x) is NaN exactly where the generated x < 0.
    const x = generateInputs([{ name: 'x', type: 'float32', typeText: '', shape: ['N', 2] }], { seed: 0, batch: 16 }).x!
      .data as Float32Array;
    const negatives = [...x].filter((v) => v < 0).length;
    const first = [...x].findIndex((v) => v < 0);
    expect(negatives).toBeGreaterThan(0);
    expect(report.checks.find((c) => c.name === 'finite')).toEqual({
      name: 'finite',
      passed: false,
      detail: `y: ${negatives} NaN of 32 (first at [${Math.floor(first / 2)}][${first % 2}])`,
    });
    expect(r.stderr).toMatch(/^error: smoke test of .*nan\.onnx failed: finite/);
  });

  it('pass with --allow-nonfinite', async () => {
    const r = await smoke([m('nan.onnx'), '--allow-nonfinite', '--json']);
    expect(r.code).toBe(0);
    expect(r.json<SmokeReport>().checks.find((c) => c.name === 'finite')?.detail).toMatch(
      /— allowed by --allow-nonfinite$/,
    );
  });
});

describe.concurrent('--baseline: v2 against v1 on the same generated inputs', () => {
  const batch = 256;
  const { agree, maxProb, meanProb, minMargin } = v2AgainstV1(features(0, batch), batch);

  it('the expected figures are meaningful: high agreement below 1, no near-ties float32 could flip', () => {
    expect(agree).toBeGreaterThan(0.9);
    expect(agree).toBeLessThan(1);
    expect(minMargin).toBeGreaterThan(1e-4);
  });

  it('reports max/mean abs diff per output, agreement and latency ratio', async () => {
    const r = await smoke([
      m('classifier-v2.onnx'),
      '--baseline',
      m('classifier-v1.onnx'),
      '--batch',
      String(batch),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const c = r.json<SmokeReport>().comparison!;
    expect(c.baseline).toBe(m('classifier-v1.onnx'));
    expect(c.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    const [label, probabilities] = c.outputs as [(typeof c.outputs)[0], (typeof c.outputs)[0]];
    expect(label.max_abs_diff).toBe(1);
    expect(label.mean_abs_diff).toBeCloseTo(1 - agree, 6);
    expect(probabilities.max_abs_diff).toBeCloseTo(maxProb, 5);
    expect(probabilities.mean_abs_diff).toBeCloseTo(meanProb, 5);
    expect(c.agreement).toBeCloseTo(agree, 6);
    expect(c.agreement_output).toBe('label');
    expect(c.latency_ratio).toBeGreaterThan(0);
    expect(c.baseline_latency_ms.p50).toBeGreaterThan(0);
    expect(c.baseline_throughput_rows_per_s).toBeGreaterThan(0);
  });

  it.each([
    [['--min-agreement', String(agree - 0.01)], 0, []],
    [['--min-agreement', String(agree + 0.005)], 1, ['min-agreement']],
    [['--max-abs-diff', String(maxProb + 0.001)], 0, []],
    [['--max-abs-diff', String(maxProb - 0.001)], 1, ['max-abs-diff']],
    [['--max-latency-ratio', '1000'], 0, []],
    [['--max-latency-ratio', '0.000001', '--min-agreement', '1'], 1, ['min-agreement', 'max-latency-ratio']],
  ])('gates %j → exit %d', async (gates, code, failed) => {
    const r = await smoke([
      m('classifier-v2.onnx'),
      '--baseline',
      m('classifier-v1.onnx'),
      '--batch',
      String(batch),
      '--json',
      ...gates,
    ]);
    expect(r.code).toBe(code);
    const report = r.json<SmokeReport>();
    expect(report.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(failed);
    if (code === 1) expect(r.stderr).toContain(`failed: ${failed[0]} (`);
  });

  it('the same model as its own baseline: zero difference, full agreement', async () => {
    const r = await smoke([
      m('classifier-v1.onnx'),
      '--baseline',
      m('classifier-v1-mlflow'),
      '--json',
      '--max-abs-diff',
      '0',
      '--min-agreement',
      '1',
    ]);
    expect(r.code).toBe(0);
    const c = r.json<SmokeReport>().comparison!;
    expect(c.outputs.map((o) => [o.max_abs_diff, o.mean_abs_diff])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(c.agreement).toBe(1);
  });

  it('a baseline with other inputs is an input error', async () => {
    const r = await smoke([m('classifier-v1.onnx'), '--baseline', m('multi-input.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error: baseline .*multi-input\.onnx needs input "ids", which .*classifier-v1\.onnx does not have \(its inputs: features\)/,
    );
  });
});

describe.concurrent('latency and throughput gates', () => {
  it.each([
    [['--max-p99-ms', '0.000001'], 1, ['max-p99-ms']],
    [['--max-p99-ms', '10000'], 0, []],
    [['--min-throughput', '1'], 0, []],
    [['--min-throughput', '1e12'], 1, ['min-throughput']],
  ])('%j → exit %d', async (gates, code, failed) => {
    const r = await smoke([m('slow.onnx'), '--batch', '2', '--json', ...gates]);
    expect(r.code).toBe(code);
    expect(
      r
        .json<SmokeReport>()
        .checks.filter((c) => !c.passed)
        .map((c) => c.name),
    ).toEqual(failed);
  });

  it('comparison gates without --baseline are usage errors', async () => {
    const r = await smoke([m('classifier-v1.onnx'), '--min-agreement', '0.9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --min-agreement compares with a baseline: add --baseline MODEL\n');
  });
});

describe.concurrent('--input', () => {
  const golden = tempDir();
  const goldenFile = path.join(golden, 'classifier-golden.json');

  it('every supported format gives the same outputs as {"inputs": …}', async () => {
    const base = await smoke([
      m('classifier-v1.onnx'),
      '--input',
      inp('classifier.json'),
      '--save-outputs',
      goldenFile,
    ]);
    expect(base.code).toBe(0);
    for (const f of [
      'classifier.jsonl',
      'classifier-batches.jsonl',
      'classifier-dataframe-split.json',
      'classifier-dataframe-records.json',
      'classifier-instances.json',
    ]) {
      const r = await smoke([
        m('classifier-v1.onnx'),
        '--input',
        inp(f),
        '--expect-outputs',
        goldenFile,
        '--atol',
        '0',
        '--rtol',
        '0',
        '--json',
      ]);
      expect([f, r.code, r.stderr]).toEqual([f, 0, '']);
      expect(r.json<SmokeReport>().expected).toMatchObject({ compared: 24, mismatches: 0 });
    }
  });

  it.each([
    ['multi-input.onnx', 'multi-input.json', 3],
    ['multi-input.onnx', 'multi-input.jsonl', 3],
    ['multi-input.onnx', 'multi-input-dataframe-split.json', 3],
    ['dynamic-dims.onnx', 'dynamic-dims.json', 2],
  ])('%s with %s', async (model, file, rows) => {
    const r = await smoke([m(model), '--input', inp(file), '--json']);
    expect(r.code).toBe(0);
    expect(r.json<SmokeReport>().run).toMatchObject({ rows, input: inp(file), seed: null });
  });

  it('multi-input values reach the model: y = ids·[0.1, 0.2, 0.3] + x·[1, −1]', async () => {
    const out = path.join(tempDir(), 'out.json');
    const r = await smoke([m('multi-input.onnx'), '--input', inp('multi-input.json'), '--save-outputs', out]);
    expect(r.code).toBe(0);
    const ids = [
      [1, 2, 3],
      [0, 0, 7],
      [42, 5, 9],
    ];
    const x = [
      [0.5, -0.5],
      [1.5, 2.0],
      [-3.25, 0.0],
    ];
    const expected = ids.map((row, i) => 0.1 * row[0]! + 0.2 * row[1]! + 0.3 * row[2]! + x[i]![0]! - x[i]![1]!);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { outputs: { y: { data: number[][] } } };
    saved.outputs.y.data.forEach((row, i) => expect(row[0]).toBeCloseTo(expected[i]!, 5));
  });

  it('reads stdin with --input -', async () => {
    const r = await smoke([m('classifier-v1.onnx'), '--input', '-', '--json'], {
      input: readFileSync(inp('classifier.json'), 'utf8'),
    });
    expect(r.code).toBe(0);
    expect(r.json<SmokeReport>().run.rows).toBe(8);
  });

  it.each([
    ['classifier-v1.onnx', 'invalid/wrong-name.json', '"featurez" is not an input of the model (its inputs: features)'],
    [
      'classifier-v1.onnx',
      'invalid/wrong-type.json',
      'input "features" at [0][2]: expected a number (float32), got "high"',
    ],
    ['classifier-v1.onnx', 'invalid/wrong-shape.json', 'input "features" has shape [8, 3], the model expects [N, 4]'],
    ['classifier-v1.onnx', 'invalid/ragged.json', 'input "features" is ragged: [1] has 2 entries, expected 4'],
    [
      'multi-input.onnx',
      'invalid/multi-input-float-ids.json',
      'input "ids" at [0][0]: expected an integer (int64), got 1.5',
    ],
    ['multi-input.onnx', 'classifier.json', '"features" is not an input of the model (its inputs: ids, x)'],
    ['classifier-v1.onnx', 'invalid/not-json.json', 'is not valid JSON: '],
    ['classifier-v1.onnx', 'invalid/missing.json', 'no such file'],
  ])('%s with %s → exit 2', async (model, file, message) => {
    const r = await smoke([m(model), '--input', inp(file)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toContain(`error: --input ${inp(file)}`);
    expect(r.stderr.split('\n')[0]).toContain(message);
  });
});

describe('--save-outputs / --expect-outputs', () => {
  const dir = tempDir();
  const file = path.join(dir, 'v1.json');

  it('round trip: the saved file replays its own inputs and matches', async () => {
    const save = await smoke([m('classifier-v1.onnx'), '--save-outputs', file, '--seed', '5']);
    expect(save.code).toBe(0);
    expect(save.stderr).toContain(`saved inputs and outputs to ${file}`);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      format: string;
      inputs: { features: { shape: number[] } };
    };
    expect(saved.format).toBe('mlv-smoke-outputs/1');
    expect(saved.inputs.features.shape).toEqual([16, 4]);
    const again = await smoke([m('classifier-v1.onnx'), '--expect-outputs', file, '--json']);
    expect(again.code).toBe(0);
    const report = again.json<SmokeReport>();
    expect(report.expected).toMatchObject({ compared: 48, mismatches: 0, max_abs_diff: 0 });
    expect(report.run.input).toBe(`${file} (recorded inputs)`);
  });

  it('another model fails, naming the worst element', async () => {
    const r = await smoke([m('classifier-v2.onnx'), '--expect-outputs', file, '--json']);
    expect(r.code).toBe(1);
    const report = r.json<SmokeReport>();
    // Worst element computed independently: largest |v2 − v1| − (atol + rtol·|v1|) over both outputs.
    const x = features(5, 16);
    const a = classify(CLASSIFIER_V1, x, 16);
    const b = classify(CLASSIFIER_V2, x, 16);
    const tol = (e: number) => 1e-5 + 1e-5 * Math.abs(e);
    const candidates = [
      ...a.labels.map((l, i) => ({ index: `label[${i}]`, excess: Math.abs(b.labels[i]! - l) - tol(l) })),
      ...a.probs.flatMap((p, i) =>
        [0, 1].map((k) => ({
          index: `probabilities[${i}][${k}]`,
          excess: Math.abs(b.probs[i]![k]! - p[k]!) - tol(p[k]!),
        })),
      ),
    ];
    const worst = candidates.reduce((w, c) => (c.excess > w.excess ? c : w));
    const failing = candidates.filter((c) => c.excess > 0).length;
    expect(report.expected!.mismatches).toBe(failing);
    expect(`${report.expected!.worst!.output}${report.expected!.worst!.index}`).toBe(worst.index);
    expect(r.stderr).toContain(`${failing} of 48 values differ; worst ${worst.index}: got `);
  });

  it('tolerances loose enough make it pass', async () => {
    const r = await smoke([m('classifier-v2.onnx'), '--expect-outputs', file, '--atol', '1', '--json']);
    expect(r.code).toBe(0);
  });

  it('a file that is not a golden file is an input error', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"outputs": {}}');
    const r = await smoke([m('classifier-v1.onnx'), '--expect-outputs', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not an mlv smoke outputs file');
  });

  it('NaN outputs round-trip', async () => {
    const nanFile = path.join(dir, 'nan.json');
    const saved = await smoke([m('nan.onnx'), '--allow-nonfinite', '--save-outputs', nanFile]);
    expect(saved.code, saved.stderr).toBe(0);
    const r = await smoke([m('nan.onnx'), '--allow-nonfinite', '--expect-outputs', nanFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<SmokeReport>().expected!.mismatches).toBe(0);
  });
});

describe.concurrent('usage errors exit 2', () => {
  it.each([
    [
      ['--batch', '0'],
      "error: option '--batch <n>' argument '0' is invalid. --batch must be an integer ≥ 1, got \"0\"",
    ],
    [
      ['--min-agreement', '1.5', '--baseline', 'x'],
      'argument \'1.5\' is invalid. --min-agreement must be a number in [0, 1], got "1.5"',
    ],
    [['--atol', '0.1'], 'error: --atol and --rtol apply to --expect-outputs, which is missing'],
    [['--dim', 'seq'], '--dim must be NAME=SIZE with SIZE ≥ 1, got "seq"'],
  ])('%j', async (args, message) => {
    const r = await runMlv(['smoke', m('classifier-v1.onnx'), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
