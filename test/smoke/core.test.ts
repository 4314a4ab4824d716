import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { countNonFinite, evaluateGates, outputProblems } from '../../src/core/smoke/checks.js';
import { classAgreement, compareToExpected, diffTensors, predictedClasses } from '../../src/core/smoke/compare.js';
import {
  DEFAULT_SYMBOLIC_DIM,
  INT_CEILING,
  generateInputs,
  resolveInputShapes,
} from '../../src/core/smoke/generate.js';
import { GOLDEN_FORMAT, encodeTensors, parseGoldenFile } from '../../src/core/smoke/golden.js';
import { percentile, summarizeLatency, throughput } from '../../src/core/smoke/latency.js';
import { mulberry32, normal } from '../../src/core/smoke/random.js';
import { bindSymbols, tensorsFromDocument, tensorsFromLines } from '../../src/core/smoke/records.js';
import {
  floatToHalf,
  formatIndex,
  formatShape,
  halfToFloat,
  toNested,
  type HostTensor,
  type TensorSpec,
} from '../../src/core/smoke/tensor.js';

const f32 = (dims: number[], values: number[]): HostTensor => ({
  type: 'float32',
  dims,
  data: Float32Array.from(values),
});
const f64 = (dims: number[], values: number[]): HostTensor => ({
  type: 'float64',
  dims,
  data: Float64Array.from(values),
});
const i64 = (dims: number[], values: number[]): HostTensor => ({
  type: 'int64',
  dims,
  data: BigInt64Array.from(values.map(BigInt)),
});
const spec = (name: string, type: TensorSpec['type'], shape: TensorSpec['shape']): TensorSpec => ({
  name,
  type,
  typeText: `tensor(${type})`,
  shape,
});

describe('percentile (numpy.percentile, linear)', () => {
  // Expected values from numpy 2.4.6: np.percentile(sample, p).
  it.each([
    [[1, 2, 3, 4], 50, 2.5],
    [[15, 20, 35, 40, 50], 40, 29.0],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99.01],
    [[3, 1, 2], 95, 2.9],
    [[5], 99, 5],
  ])('percentile(%j, %d) = %d', (sample, p, expected) => {
    expect(percentile(sample, p)).toBeCloseTo(expected, 12);
  });

  it('is NaN for an empty sample', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarizes latencies and throughput', () => {
    // numpy: np.percentile([4, 1, 3, 2], [50, 95, 99]) → [2.5, 3.85, 3.97]
    const s = summarizeLatency([4, 1, 3, 2]);
    expect([s.p50, s.p95, s.p99, s.max, s.mean].map((x) => Number(x.toFixed(12)))).toEqual([2.5, 3.85, 3.97, 4, 2.5]);
    // 32 rows × 2 runs in 20 ms → 3200 rows/s
    expect(throughput(32, [10, 10])).toBe(3200);
  });
});

describe('random', () => {
  it('mulberry32 is the reference sequence', () => {
    const r = mulberry32(1);
    // First outputs of the reference C implementation with seed 1.
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it('normal draws have mean ≈ 0 and variance ≈ 1', () => {
    const g = normal(mulberry32(7));
    const xs = Array.from({ length: 20000 }, g);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});

describe('generated inputs', () => {
  const specs = [
    spec('ids', 'int64', ['batch', 3]),
    spec('x', 'float32', ['batch', 'seq', null]),
    spec('flag', 'bool', [null]),
  ];

  it('binds batch axes, named symbols and unknown dims', () => {
    expect(resolveInputShapes(specs, { batch: 5 })).toEqual({
      ids: [5, 3],
      x: [5, DEFAULT_SYMBOLIC_DIM, DEFAULT_SYMBOLIC_DIM],
      flag: [5],
    });
    expect(resolveInputShapes(specs, { batch: 5, dims: { seq: 2, batch: 4 } })).toEqual({
      ids: [4, 3],
      x: [4, 2, 8],
      flag: [5],
    });
  });

  it('is deterministic per seed and respects each type', () => {
    const a = generateInputs(specs, { seed: 3, batch: 4 });
    const b = generateInputs(specs, { seed: 3, batch: 4 });
    const c = generateInputs(specs, { seed: 4, batch: 4 });
    expect(a).toEqual(b);
    expect(a.x!.data).not.toEqual(c.x!.data);
    expect(a.ids!.data).toBeInstanceOf(BigInt64Array);
    expect([...(a.ids!.data as BigInt64Array)].every((v) => v >= 0n && v < BigInt(INT_CEILING))).toBe(true);
    expect(a.x!.data).toBeInstanceOf(Float32Array);
    expect(a.x!.dims).toEqual([4, 8, 8]);
    expect([...(a.flag!.data as Uint8Array)].every((v) => v === 0 || v === 1)).toBe(true);
  });

  it.each([
    [spec('m', null, null), /is tensor\(null\), not a tensor/],
    [spec('u', 'float32', null), /has no declared shape/],
  ])('cannot generate %o', (s, message) => {
    expect(() => generateInputs([s], { seed: 0, batch: 1 })).toThrow(message);
  });
});

describe('input documents', () => {
  const classifier = [spec('features', 'float32', ['N', 4])];
  const multi = [spec('ids', 'int64', ['batch', 3]), spec('x', 'float32', ['batch', 2])];
  const rows = [
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ];
  const expected = f32([2, 4], rows.flat());

  it.each([
    ['inputs by name', { inputs: { features: rows } }],
    ['inputs as the single tensor', { inputs: rows }],
    ['instances', { instances: rows }],
    ['instances as records', { instances: rows.map((r) => ({ features: r })) }],
    ['dataframe_split', { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: rows } }],
    ['dataframe_split by input name', { dataframe_split: { columns: ['features'], data: rows.map((r) => [r]) } }],
    ['dataframe_records', { dataframe_records: rows.map((r) => ({ a: r[0], b: r[1], c: r[2], d: r[3] })) }],
  ])('%s', (_name, doc) => {
    expect(tensorsFromDocument(doc, classifier, 'in.json')).toEqual({ features: expected });
  });

  it('JSON Lines: rows and documents, concatenated', () => {
    const lines = [{ features: rows[0] }, { inputs: { features: [rows[1]] } }];
    expect(tensorsFromLines(lines, classifier, 'in.jsonl')).toEqual({ features: expected });
  });

  it('multi-input records pack int64 and float32', () => {
    const t = tensorsFromDocument(
      {
        dataframe_split: {
          columns: ['ids', 'x'],
          data: [
            [
              [1, 2, 3],
              [0.5, 1],
            ],
          ],
        },
      },
      multi,
      'in.json',
    );
    expect(t).toEqual({ ids: i64([1, 3], [1, 2, 3]), x: f32([1, 2], [0.5, 1]) });
    expect(bindSymbols(t, multi)).toEqual({ batch: 1 });
  });

  it.each<[string, unknown, TensorSpec[], string]>([
    [
      'unknown input',
      { inputs: { featurez: rows } },
      classifier,
      'in.json: "featurez" is not an input of the model (its inputs: features)',
    ],
    [
      'missing input',
      { inputs: { ids: [[1, 2, 3]] } },
      multi,
      'in.json has no value for input "x" (the model\'s inputs: ids, x)',
    ],
    [
      'a string in floats',
      { inputs: { features: [[1, 'a', 3, 4]] } },
      classifier,
      'in.json: input "features" at [0][1]: expected a number (float32), got "a"',
    ],
    [
      'a fraction in int64',
      { inputs: { ids: [[1, 2.5, 3]], x: [[0, 0]] } },
      multi,
      'in.json: input "ids" at [0][1]: expected an integer (int64), got 2.5',
    ],
    [
      'wrong width',
      { inputs: { features: [[1, 2, 3]] } },
      classifier,
      'in.json: input "features" has shape [1, 3], the model expects [N, 4]',
    ],
    [
      'wrong rank',
      { inputs: { features: [1, 2, 3, 4] } },
      classifier,
      'in.json: input "features" has shape [4], the model expects [N, 4]',
    ],
    [
      'ragged',
      {
        inputs: {
          features: [
            [1, 2, 3, 4],
            [1, 2],
          ],
        },
      },
      classifier,
      'in.json: input "features" is ragged: [1] has 2 entries, expected 4',
    ],
    [
      'batch disagreement',
      {
        inputs: {
          ids: [[1, 2, 3]],
          x: [
            [0, 0],
            [1, 1],
          ],
        },
      },
      multi,
      'in.json: inputs disagree on dimension "batch": "ids" has 1, "x" has 2',
    ],
    [
      'no format key',
      { rows },
      classifier,
      'in.json: expected {"inputs": …}, {"instances": …}, {"dataframe_split": …} or {"dataframe_records": …}, got keys "rows"',
    ],
    ['no rows', { inputs: { features: [] } }, classifier, 'in.json: input "features" has no rows'],
    [
      'int out of range',
      { inputs: { ids: [[1, 2, 2 ** 60]], x: [[0, 0]] } },
      multi,
      'in.json: input "ids" at [0][2]: 1152921504606847000 is out of range for int64',
    ],
  ])('%s is an InputError', (_name, doc, specs, message) => {
    let err: unknown;
    try {
      tensorsFromDocument(doc, specs, 'in.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message.slice(0, message.length)).toBe(message);
  });

  it('bool and string inputs', () => {
    const specs = [spec('b', 'bool', [null]), spec('s', 'string', [null])];
    expect(tensorsFromDocument({ inputs: { b: [true, false], s: ['x', 'y'] } }, specs, 'f')).toEqual({
      b: { type: 'bool', dims: [2], data: Uint8Array.from([1, 0]) },
      s: { type: 'string', dims: [2], data: ['x', 'y'] },
    });
    expect(() => tensorsFromDocument({ inputs: { b: [1, 0], s: ['x', 'y'] } }, specs, 'f')).toThrow(
      'f: input "b" at [0]: expected true or false (bool), got 1',
    );
  });
});

describe('comparing outputs', () => {
  it('diffTensors: max and mean of |a − b|, non-finite mismatches apart', () => {
    const d = diffTensors(
      'y',
      f32([2, 2], [1, 2, Number.NaN, 4]),
      f32([2, 2], [1.5, 2, Number.NaN, Number.POSITIVE_INFINITY]),
    );
    expect(d).toEqual({
      name: 'y',
      max_abs_diff: 0.5,
      mean_abs_diff: 0.25,
      nonfinite_mismatches: 1,
      differing: 2,
      count: 4,
    });
  });

  it('diffTensors refuses different shapes', () => {
    expect(() => diffTensors('y', f32([2], [1, 2]), f32([3], [1, 2, 3]))).toThrow(
      'output "y" has shape [2] in the candidate but [3] in the baseline',
    );
  });

  it.each<[string, HostTensor, unknown]>([
    ['label', i64([3], [2, 0, 1]), [2, 0, 1]],
    ['label', i64([3, 1], [2, 0, 1]), [2, 0, 1]],
    ['probabilities', f32([2, 3], [0.1, 0.7, 0.2, 0.5, 0.25, 0.25]), [1, 0]],
    ['embedding', f32([2, 3], [0.1, 0.7, 0.2, 0.5, 0.25, 0.25]), null],
    ['probabilities', f32([2, 1], [0.1, 0.7]), null],
  ])('predictedClasses(%s, %o)', (name, t, expected) => {
    expect(predictedClasses(name, t)).toEqual(expected);
  });

  it('classAgreement prefers the label output', () => {
    const cand = {
      label: i64([4], [0, 1, 1, 0]),
      probabilities: f32([4, 2], [0.9, 0.1, 0.2, 0.8, 0.4, 0.6, 0.6, 0.4]),
    };
    const base = {
      label: i64([4], [0, 1, 0, 0]),
      probabilities: f32([4, 2], [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.6, 0.4]),
    };
    const pairs = ['label', 'probabilities'].map((n) => ({ candidate: n, baseline: n }));
    expect(classAgreement(cand, base, pairs)).toEqual({ output: 'label', rate: 0.75, rows: 4 });
    expect(classAgreement(cand, base, [pairs[1]!])).toEqual({ output: 'probabilities', rate: 0.75, rows: 4 });
    expect(classAgreement({ y: f32([1], [1]) }, { y: f32([1], [1]) }, [{ candidate: 'y', baseline: 'y' }])).toBeNull();
  });

  it('compareToExpected passes within atol + rtol·|expected| and names the worst element', () => {
    const expected = { y: f64([2, 2], [1, 100, Number.NaN, -5]) };
    const ok = compareToExpected({ y: f64([2, 2], [1.0005, 100.05, Number.NaN, -5]) }, expected, {
      atol: 1e-3,
      rtol: 1e-3,
    });
    expect(ok).toMatchObject({ passed: true, mismatches: 0, compared: 4, worst: null });
    const bad = compareToExpected({ y: f64([2, 2], [1.01, 100.5, Number.NaN, -5]) }, expected, {
      atol: 1e-3,
      rtol: 1e-3,
    });
    expect(bad.passed).toBe(false);
    expect(bad.mismatches).toBe(2);
    // excess over tolerance: [0][0] 0.01 − 0.002 = 0.008; [0][1] 0.5 − 0.101 = 0.399 → [0][1] is worst
    expect(bad.worst).toEqual({
      output: 'y',
      index: '[0][1]',
      actual: 100.5,
      expected: 100,
      abs_diff: 0.5,
      allowed: 0.101,
    });
  });

  it('compareToExpected reports missing outputs and shape changes', () => {
    const r = compareToExpected(
      { a: f32([2], [1, 2]) },
      { a: f32([3], [1, 2, 3]), b: f32([1], [0]) },
      { atol: 0, rtol: 0 },
    );
    expect(r.passed).toBe(false);
    expect(r.problems).toEqual([
      'output "a" has shape [2], expected [3]',
      'output "b" is expected but the model does not produce it',
    ]);
  });

  it('a NaN where a number was expected is a mismatch', () => {
    const r = compareToExpected({ y: f32([2], [1, Number.NaN]) }, { y: f32([2], [1, 2]) }, { atol: 1, rtol: 1 });
    expect(r.worst).toMatchObject({ output: 'y', index: '[1]', actual: 'NaN', expected: 2, abs_diff: null });
  });
});

describe('checks', () => {
  const declared = [spec('label', 'int64', ['N']), spec('p', 'float32', ['N', 2]), spec('pairs', 'float32', ['M', 8])];

  it('outputProblems: nothing when outputs conform', () => {
    expect(
      outputProblems(
        declared,
        { label: i64([3], [0, 1, 0]), p: f32([3, 2], [0, 0, 0, 0, 0, 0]), pairs: f32([5, 8], new Array(40).fill(0)) },
        { N: 3 },
      ),
    ).toEqual([]);
  });

  it('outputProblems names type, shape and missing outputs', () => {
    expect(
      outputProblems(declared, { label: f32([3], [0, 1, 0]), p: f32([3, 3], new Array(9).fill(0)) }, { N: 3 }),
    ).toEqual([
      'output "label" is declared int64 but the model produced float32',
      'output "p" is declared [N, 2] (N=3) but the model produced [3, 3]',
      'output "pairs" is declared but was not produced',
    ]);
    expect(
      outputProblems([spec('p', 'float32', ['N', 2])], { p: f32([4, 2], new Array(8).fill(0)) }, { N: 3 }),
    ).toEqual(['output "p" is declared [N, 2] (N=3) but the model produced [4, 2]']);
  });

  it('countNonFinite', () => {
    expect(
      countNonFinite(f32([5], [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN])),
    ).toEqual({
      nan: 2,
      posInf: 1,
      negInf: 1,
      first: 1,
    });
    expect(countNonFinite(i64([2], [1, 2]))).toEqual({ nan: 0, posInf: 0, negInf: 0, first: -1 });
  });

  it('evaluateGates: one check per gate set', () => {
    const checks = evaluateGates(
      { maxP99Ms: 10, minThroughput: 1000, maxAbsDiff: 0.01, minAgreement: 0.99, maxLatencyRatio: 1.5 },
      { p99Ms: 12.5, throughput: 2000, maxAbsDiff: 0.005, agreement: 0.98, latencyRatio: 1.2 },
    );
    expect(checks).toEqual([
      { name: 'max-p99-ms', passed: false, detail: 'p99 12.5 ms > 10 ms' },
      { name: 'min-throughput', passed: true, detail: 'throughput 2000 rows/s ≥ 1000 rows/s' },
      { name: 'max-abs-diff', passed: true, detail: 'max abs diff 0.005 ≤ 0.01' },
      { name: 'min-agreement', passed: false, detail: 'agreement 0.98 < 0.99' },
      { name: 'max-latency-ratio', passed: true, detail: 'latency ratio 1.2 ≤ 1.5' },
    ]);
    expect(evaluateGates({ minAgreement: 0.9 }, { p99Ms: 1, throughput: 1, agreement: null })).toEqual([
      { name: 'min-agreement', passed: false, detail: 'no agreement to compare with 0.9' },
    ]);
    expect(evaluateGates({}, { p99Ms: 1, throughput: 1 })).toEqual([]);
  });
});

describe('tensor helpers', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [1e6, 0x7c00],
    [2 ** -24, 0x0001],
  ])('float16 %d ↔ 0x%s', (x, bits) => {
    expect(floatToHalf(x)).toBe(bits);
    if (x <= 65504) expect(halfToFloat(bits)).toBe(x);
  });

  it('formats shapes and indices', () => {
    expect(formatShape(['N', 4, null])).toBe('[N, 4, ?]');
    expect(formatShape(null)).toBe('?');
    expect(formatIndex([2, 4], 7)).toBe('[1][3]');
    expect(formatIndex([3], 2)).toBe('[2]');
  });

  it('golden files round-trip, non-finite floats included', () => {
    const outputs = { y: f32([2, 2], [1, Number.NaN, Number.NEGATIVE_INFINITY, 0.25]), label: i64([2], [1, 0]) };
    const inputs = { x: f32([2, 1], [3, 4]) };
    const file = JSON.parse(
      JSON.stringify({
        format: GOLDEN_FORMAT,
        model: 'm.onnx',
        sha256: '0',
        inputs: encodeTensors(inputs),
        outputs: encodeTensors(outputs),
      }),
    );
    expect(file.outputs.y.data).toEqual([
      [1, 'NaN'],
      ['-Infinity', 0.25],
    ]);
    const back = parseGoldenFile(file, 'g.json');
    expect(back.outputs).toEqual(outputs);
    expect(back.inputsDocument).toEqual({ inputs: { x: [[3], [4]] } });
    expect(toNested(outputs.label)).toEqual([1, 0]);
    expect(() => parseGoldenFile({ outputs: {} }, 'g.json')).toThrow('g.json is not an mlv smoke outputs file');
  });
});
