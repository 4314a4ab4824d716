import { describe, expect, it } from 'vitest';
import { batchDimension, concatRequests, joinable, planBatch, splitOutputs } from '../../src/core/serve/batch.js';
import { ExposureDedupe } from '../../src/core/serve/exposures.js';
import { encodePredictions, fastInvocation, parseInvocation } from '../../src/core/serve/mlflow.js';
import { tensorsFromDocument } from '../../src/core/smoke/records.js';
import { encodeOutputs, parseInferRequest, tensorMetadata } from '../../src/core/serve/oip.js';
import { parseFeedback, unitOf } from '../../src/core/serve/unit.js';
import type { HostTensor, TensorSpec } from '../../src/core/smoke/tensor.js';

const features: TensorSpec = { name: 'features', type: 'float32', typeText: 'tensor(float)', shape: ['N', 4] };
const label: TensorSpec = { name: 'label', type: 'int64', typeText: 'tensor(int64)', shape: ['N'] };
const probs: TensorSpec = { name: 'probabilities', type: 'float32', typeText: 'tensor(float)', shape: ['N', 2] };
const f32 = (dims: number[], values: number[]): HostTensor => ({
  type: 'float32',
  dims,
  data: Float32Array.from(values),
});

describe('MLflow scoring protocol', () => {
  const row = [0.5, 1, 1.5, 2];
  it.each([
    ['inputs', { inputs: [row] }],
    ['instances', { instances: [row] }],
    ['dataframe_split', { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [row] } }],
    ['dataframe_records', { dataframe_records: [{ a: 0.5, b: 1, c: 1.5, d: 2 }] }],
    ['inputs by name', { inputs: { features: [row] } }],
  ])('%s gives the same tensor', (_, body) => {
    const t = parseInvocation(body, [features]);
    expect(t.features!.dims).toEqual([1, 4]);
    expect([...(t.features!.data as Float32Array)]).toEqual(row);
  });

  it('packs the common shapes directly, exactly as the general path does', () => {
    const rows = [
      [0.1, 0.2, 0.3, 0.4],
      [1, 2, 3, 4],
    ];
    for (const body of [
      { inputs: rows },
      { instances: rows },
      { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: rows } },
    ]) {
      expect(fastInvocation(body, [features])).toEqual(tensorsFromDocument(body, [features], 'request'));
    }
    for (const body of [
      { inputs: [[1, 2]] },
      { inputs: [[1, 2, 3, '4']] },
      { inputs: [] },
      { inputs: rows, extra: 1 },
      { dataframe_split: { columns: ['features'], data: [[rows[0]]] } },
    ]) {
      expect(fastInvocation(body, [features])).toBeUndefined();
    }
    expect(fastInvocation({ inputs: rows }, [{ ...features, type: 'int64' }])).toBeUndefined();
  });

  it.each([
    [[1, 2], 'request: expected a JSON object with "dataframe_split", "dataframe_records", "instances" or "inputs"'],
    [{ inputs: [[1, 2]] }, 'request: input "features" has shape [1, 2], the model expects [N, 4]'],
    [{ inputs: [['a', 1, 2, 3]] }, 'request: input "features" at [0][0]: expected a number (float32), got "a"'],
    [
      { rows: [] },
      'request: expected {"inputs": …}, {"instances": …}, {"dataframe_split": …} or {"dataframe_records": …}, got keys "rows"',
    ],
  ])('rejects %j: %s', (body, message) => {
    expect(() => parseInvocation(body, [features])).toThrow(message);
  });

  it('answers one output as its nested list, several as an object by name', () => {
    const l: HostTensor = { type: 'int64', dims: [2], data: BigInt64Array.from([1n, 0n]) };
    expect(encodePredictions({ label: l })).toEqual([1, 0]);
    expect(encodePredictions({ label: l, probabilities: f32([2, 2], [0.25, 0.75, 0.5, 0.5]) })).toEqual({
      label: [1, 0],
      probabilities: [
        [0.25, 0.75],
        [0.5, 0.5],
      ],
    });
    expect(encodePredictions({ y: f32([1], [Number.NaN]) })).toEqual(['NaN']);
  });
});

describe('Open Inference Protocol v2', () => {
  it('describes tensors with OIP datatypes and -1 for free dimensions', () => {
    expect(tensorMetadata([features, label])).toEqual([
      { name: 'features', datatype: 'FP32', shape: [-1, 4] },
      { name: 'label', datatype: 'INT64', shape: [-1] },
    ]);
  });

  it('parses flat and nested data, keeps id and parameters', () => {
    const flat = parseInferRequest(
      {
        id: 'r1',
        parameters: { unit_id: 'u1' },
        inputs: [{ name: 'features', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }],
        outputs: [{ name: 'label' }],
      },
      [features],
      [label, probs],
    );
    expect(flat.id).toBe('r1');
    expect(flat.parameters).toEqual({ unit_id: 'u1' });
    expect(flat.outputs).toEqual(['label']);
    expect(flat.tensors.features!.dims).toEqual([2, 4]);
    const nested = parseInferRequest(
      {
        inputs: [
          {
            name: 'features',
            shape: [2, 4],
            datatype: 'FP32',
            data: [
              [1, 2, 3, 4],
              [5, 6, 7, 8],
            ],
          },
        ],
      },
      [features],
      [label],
    );
    expect([...(nested.tensors.features!.data as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  const input = (over: Record<string, unknown>) => ({
    inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...over }],
  });
  it.each([
    [input({ datatype: 'INT64' }), 'request: input "features" has datatype "INT64", the model expects FP32'],
    [input({ shape: [1, 3], data: [1, 2, 3] }), 'request: input "features" has shape [1, 3], the model expects [N, 4]'],
    [input({ data: [1, 2, 3] }), 'request: input "features" has 3 values for shape [1, 4] (4 expected)'],
    [input({ data: [1, 2, 3, 'x'] }), 'request: input "features" at [3]: expected a number (float32), got "x"'],
    [input({ name: 'x' }), 'request: "x" is not an input of the model (its inputs: features)'],
    [{ inputs: [] }, 'request has no input "features" (the model\'s inputs: features)'],
    [
      { ...input({}), outputs: [{ name: 'nope' }] },
      'request: "nope" is not an output of the model (its outputs: label)',
    ],
  ])('rejects %j: %s', (body, message) => {
    expect(() => parseInferRequest(body, [features], [label])).toThrow(message);
  });

  it('answers flat data with the datatype, only the requested outputs', () => {
    const outputs = {
      label: { type: 'int64', dims: [1], data: BigInt64Array.from([1n]) } as HostTensor,
      probabilities: f32([1, 2], [0.25, 0.75]),
    };
    expect(encodeOutputs(outputs)).toEqual([
      { name: 'label', datatype: 'INT64', shape: [1], data: [1] },
      { name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] },
    ]);
    expect(encodeOutputs(outputs, ['probabilities']).map((o) => o.name)).toEqual(['probabilities']);
  });
});

describe('micro-batching', () => {
  it('batches only models whose inputs and outputs share a symbolic first dimension', () => {
    expect(batchDimension([features], [label, probs])).toBe('N');
    expect(batchDimension([features], [{ ...label, shape: ['M'] }])).toBeNull();
    expect(batchDimension([{ ...features, shape: [1, 4] }], [label])).toBeNull();
    expect(batchDimension([{ ...features, shape: ['N', 'N'] }], [label])).toBeNull();
  });

  it.each([
    [[1, 1, 1], 32, 3],
    [[30, 1, 1, 1], 32, 3],
    [[40, 1], 32, 1],
    [[1, 40], 32, 1],
    [[], 32, 0],
  ])('rows %j with max %i: takes %i', (rows, max, take) => {
    expect(planBatch(rows, max)).toBe(take);
  });

  it('stops at the first request that cannot be joined', () => {
    expect(planBatch([1, 1, 1], 32, (i) => i !== 2)).toBe(2);
  });

  it('joins along axis 0 and splits the outputs back', () => {
    const a = { features: f32([1, 2], [1, 2]) };
    const b = { features: f32([2, 2], [3, 4, 5, 6]) };
    expect(joinable(a, b)).toBe(true);
    expect(joinable(a, { features: f32([1, 3], [1, 2, 3]) })).toBe(false);
    const joined = concatRequests([a, b]);
    expect(joined.features!.dims).toEqual([3, 2]);
    expect([...(joined.features!.data as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6]);
    const parts = splitOutputs({ y: f32([3, 2], [10, 20, 30, 40, 50, 60]) }, [1, 2]);
    expect(parts.map((p) => p.y!.dims)).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect([...(parts[1]!.y!.data as Float32Array)]).toEqual([30, 40, 50, 60]);
  });
});

describe('exposure dedupe', () => {
  it('logs a unit once per revision, again under a new revision', () => {
    const d = new ExposureDedupe(100);
    expect(d.firstSight(1, 'u1')).toBe(true);
    expect(d.firstSight(1, 'u1')).toBe(false);
    expect(d.firstSight(1, 'u2')).toBe(true);
    expect(d.firstSight(2, 'u1')).toBe(true);
    expect(d.firstSight(2, 'u1')).toBe(false);
  });

  it('remembers at most `capacity` units, forgetting the oldest generation', () => {
    const d = new ExposureDedupe(4);
    for (const u of ['a', 'b', 'c', 'd']) expect(d.firstSight(1, u)).toBe(true);
    expect(d.size).toBe(4);
    expect(d.firstSight(1, 'a')).toBe(false); // still in the previous generation
    expect(d.firstSight(1, 'e')).toBe(true); // a new generation: a and b are forgotten
    expect(d.size).toBe(3);
    expect(d.firstSight(1, 'a')).toBe(true);
    expect(d.firstSight(1, 'd')).toBe(false);
  });
});

describe('unit and feedback', () => {
  it.each([
    ['h', 'q', { unit_id: 'p' }, 'h'],
    [undefined, 'q', { unit_id: 'p' }, 'q'],
    ['', '', { unit_id: 'p' }, 'p'],
    [undefined, null, { unit_id: 42 }, '42'],
    [undefined, null, undefined, undefined],
    [['h1', 'h2'], null, undefined, 'h1'],
  ])('header %j, query %j, parameters %j → %j', (h, q, p, unit) => {
    expect(unitOf(h, q, p)).toBe(unit);
  });

  const now = new Date('2026-01-02T03:04:05.000Z');
  it('accepts one row or a list; value defaults to 1, ts to now; epoch seconds and ms', () => {
    expect(parseFeedback({ unit: 'u1', metric: 'converted' }, now)).toEqual([
      { unit: 'u1', metric: 'converted', value: 1, ts: '2026-01-02T03:04:05.000Z' },
    ]);
    expect(
      parseFeedback(
        [
          { unit: 'u1', metric: 'revenue', value: 12.5, ts: 1767323045 },
          { unit: 7, metric: 'revenue', value: 0, ts: 1767323045000 },
          { unit: 'u3', metric: 'revenue', value: 2, ts: '2026-01-01T00:00:00Z' },
        ],
        now,
      ),
    ).toEqual([
      { unit: 'u1', metric: 'revenue', value: 12.5, ts: '2026-01-02T03:04:05.000Z' },
      { unit: '7', metric: 'revenue', value: 0, ts: '2026-01-02T03:04:05.000Z' },
      { unit: 'u3', metric: 'revenue', value: 2, ts: '2026-01-01T00:00:00Z' },
    ]);
  });

  it.each([
    [[], 'feedback: the list is empty'],
    [{ metric: 'm' }, 'feedback: "unit" must be a non-empty string'],
    [{ unit: 'u' }, 'feedback: "metric" must be a non-empty string'],
    [[{ unit: 'u', metric: 'm', value: 'x' }], 'feedback[0]: "value" must be a finite number'],
    [
      { unit: 'u', metric: 'm', ts: 'yesterday' },
      'feedback: "ts" must be an ISO 8601 time or epoch seconds/milliseconds',
    ],
  ])('rejects %j', (body, message) => {
    expect(() => parseFeedback(body, now)).toThrow(message);
  });
});
