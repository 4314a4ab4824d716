import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  diffMetrics,
  diffValues,
  parseDependenciesTag,
  relativeChange,
  type VersionSnapshot,
} from '../../src/core/registry/compare.js';

describe('diffMetrics', () => {
  it('gives absolute and relative deltas of b against a, missing sides as null', () => {
    expect(
      diffMetrics({ auc: 0.8, loss: 0.5, only_a: 1, zero: 0 }, { auc: 0.88, loss: 0.4, only_b: 2, zero: 1 }),
    ).toEqual([
      { key: 'auc', a: 0.8, b: 0.88, delta: 0.08, relative: 0.1 },
      { key: 'loss', a: 0.5, b: 0.4, delta: -0.1, relative: -0.2 },
      { key: 'only_a', a: 1, b: null, delta: null, relative: null },
      { key: 'only_b', a: null, b: 2, delta: null, relative: null },
      { key: 'zero', a: 0, b: 1, delta: 1, relative: null },
    ]);
  });
  it.each([
    [-2, -1, 0.5],
    [4, 1, -0.75],
    [0.1, 0.3, 2],
    [0, 5, null],
    [Number.NaN, 1, null],
  ])('relativeChange(%s, %s) = %s', (a, b, r) => {
    expect(relativeChange(a, b)).toBe(r);
  });
});

describe('diffValues', () => {
  const a = { lr: '0.01', epochs: '10', seed: '1' };
  const b = { lr: '0.02', epochs: '10', batch: '32' };
  it('lists changed keys only by default', () => {
    expect(diffValues(a, b, false)).toEqual([
      { key: 'batch', a: null, b: '32' },
      { key: 'lr', a: '0.01', b: '0.02' },
      { key: 'seed', a: '1', b: null },
    ]);
  });
  it('lists every key with all', () => {
    expect(diffValues(a, b, true).map((d) => d.key)).toEqual(['batch', 'epochs', 'lr', 'seed']);
  });
});

describe('parseDependenciesTag', () => {
  it.each([
    [undefined, {}],
    ['', {}],
    ['not json', {}],
    ['[1]', {}],
    ['{"numpy":"==1.26.4","bad":3}', { numpy: '==1.26.4' }],
  ])('%j', (v, out) => {
    expect(parseDependenciesTag(v)).toEqual(out);
  });
});

describe('compareVersions', () => {
  const snap = (over: Partial<VersionSnapshot>): VersionSnapshot => ({
    version: '1',
    semver: '1.0.0',
    aliases: [],
    stage: 'None',
    status: 'READY',
    created_at: '2026-01-01T00:00:00.000Z',
    run_id: 'r1',
    source: 'mlflow-artifacts:/1/r1/artifacts/model',
    description: '',
    metrics: {},
    params: {},
    tags: {},
    ...over,
  });
  const a = snap({
    metrics: { auc: 0.8 },
    params: { lr: '0.1', depth: '3' },
    tags: {
      'mlv.semver': '1.0.0',
      'mlv.sha256': 'aaa',
      'mlv.framework': 'onnx',
      'mlv.dependencies': '{"numpy":"==1.26.4","torch":"==2.3.0"}',
      team: 'a',
      'mlflow.x': 'y',
    },
    aliases: ['production'],
  });
  const b = snap({
    version: '2',
    semver: '1.1.0',
    run_id: 'r2',
    created_at: '2026-01-02T00:00:00.000Z',
    metrics: { auc: 0.9 },
    params: { lr: '0.05', depth: '3' },
    tags: {
      'mlv.semver': '1.1.0',
      'mlv.sha256': 'bbb',
      'mlv.framework': 'onnx',
      'mlv.dependencies': '{"numpy":"==1.26.4","torch":"==2.4.0"}',
      team: 'a',
    },
    aliases: ['staging', 'challenger'],
  });

  it('shows metrics, changed params, metadata, changed dependencies and user tags', () => {
    const c = compareVersions('churn', a, b);
    expect(c.a).toEqual({
      version: '1',
      semver: '1.0.0',
      aliases: ['production'],
      stage: 'None',
      status: 'READY',
      created_at: '2026-01-01T00:00:00.000Z',
      run_id: 'r1',
    });
    expect(c.metrics).toEqual([{ key: 'auc', a: 0.8, b: 0.9, delta: 0.1, relative: 0.125 }]);
    expect(c.params).toEqual([{ key: 'lr', a: '0.1', b: '0.05' }]);
    expect(c.dependencies).toEqual([{ key: 'torch', a: '==2.3.0', b: '==2.4.0' }]);
    expect(c.tags).toEqual([]);
    expect(c.metadata).toEqual([
      { key: 'semver', a: '1.0.0', b: '1.1.0', changed: true },
      { key: 'aliases', a: 'production', b: 'staging, challenger', changed: true },
      { key: 'stage', a: 'None', b: 'None', changed: false },
      { key: 'status', a: 'READY', b: 'READY', changed: false },
      { key: 'created_at', a: '2026-01-01T00:00:00.000Z', b: '2026-01-02T00:00:00.000Z', changed: true },
      { key: 'run_id', a: 'r1', b: 'r2', changed: true },
      { key: 'sha256', a: 'aaa', b: 'bbb', changed: true },
      { key: 'framework', a: 'onnx', b: 'onnx', changed: false },
    ]);
  });

  it('with all: every param, dependency and user tag', () => {
    const c = compareVersions('churn', a, b, { all: true });
    expect(c.params.map((p) => p.key)).toEqual(['depth', 'lr']);
    expect(c.dependencies.map((p) => p.key)).toEqual(['numpy', 'torch']);
    expect(c.tags).toEqual([{ key: 'team', a: 'a', b: 'a' }]);
    expect(c.metadata.length).toBe(14);
  });
});
