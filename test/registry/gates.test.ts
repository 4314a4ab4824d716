import { describe, expect, it } from 'vitest';
import {
  allPassed,
  evaluateGates,
  parseNoRegression,
  parseRequirement,
  parseTolerance,
  regressionLimit,
  type GateInputs,
  type Gates,
} from '../../src/core/registry/gates.js';
import { fmt } from '../../src/core/format.js';

describe('parseRequirement', () => {
  it.each([
    ['auc>=0.88', { metric: 'auc', op: '>=', threshold: 0.88, text: 'auc>=0.88' }],
    [' latency_p95_ms < 40 ', { metric: 'latency_p95_ms', op: '<', threshold: 40, text: 'latency_p95_ms<40' }],
    ['loss<=1e-3', { metric: 'loss', op: '<=', threshold: 0.001, text: 'loss<=1e-3' }],
    ['eval/f1>0.5', { metric: 'eval/f1', op: '>', threshold: 0.5, text: 'eval/f1>0.5' }],
    ['classes==3', { metric: 'classes', op: '==', threshold: 3, text: 'classes==3' }],
    ['drift!=1', { metric: 'drift', op: '!=', threshold: 1, text: 'drift!=1' }],
    ['delta>=-0.5', { metric: 'delta', op: '>=', threshold: -0.5, text: 'delta>=-0.5' }],
  ])('%j', (input, expected) => {
    expect(parseRequirement(input)).toEqual(expected);
  });

  it.each([['auc'], ['auc=0.8'], ['auc>=high'], ['>=0.8'], ['auc>=0.8 extra'], ['auc=>0.8'], ['auc>=NaN']])(
    'refuses %j',
    (input) => {
      expect(() => parseRequirement(input)).toThrow(
        `--require must look like METRIC OP NUMBER with OP one of >= <= == != > < (e.g. "auc>=0.88"), got "${input}"`,
      );
    },
  );
});

describe('parseNoRegression / parseTolerance', () => {
  it.each([
    ['auc', { metric: 'auc', better: 'higher' }],
    ['auc:higher', { metric: 'auc', better: 'higher' }],
    ['latency_ms:lower', { metric: 'latency_ms', better: 'lower' }],
  ])('%j', (input, expected) => {
    expect(parseNoRegression(input)).toEqual(expected);
  });
  it('refuses an unknown direction', () => {
    expect(() => parseNoRegression('auc:up')).toThrow('--no-regression must be METRIC or METRIC:lower');
  });
  it.each([
    ['0.01', { kind: 'absolute', value: 0.01 }],
    ['0', { kind: 'absolute', value: 0 }],
    ['2%', { kind: 'relative', value: 0.02 }],
    ['0.5 %', { kind: 'relative', value: 0.005 }],
  ])('tolerance %j', (input, expected) => {
    expect(parseTolerance(input)).toEqual(expected);
  });
  it.each([['-1'], ['abc'], ['%']])('refuses tolerance %j', (input) => {
    expect(() => parseTolerance(input)).toThrow('--tolerance must be a non-negative number');
  });
  it.each([
    [0.9, 'higher', { kind: 'absolute', value: 0.01 }, 0.89],
    [0.9, 'lower', { kind: 'absolute', value: 0.01 }, 0.91],
    [200, 'lower', { kind: 'relative', value: 0.05 }, 210],
    [-4, 'higher', { kind: 'relative', value: 0.5 }, -6],
  ] as const)('regressionLimit(%s, %s, %j) = %s', (b, better, tol, limit) => {
    expect(regressionLimit(b, better, tol)).toBeCloseTo(limit, 12);
  });
});

describe('fmt', () => {
  it.each([
    [0.88, '0.88'],
    [1 / 3, '0.333333'],
    [42, '42'],
    [0.00001234, '1.234e-5'],
    [null, '-'],
    [Number.NaN, 'NaN'],
  ])('%s → %s', (n, s) => {
    expect(fmt(n)).toBe(s);
  });
});

describe('evaluateGates', () => {
  const gates: Gates = {
    requirements: [parseRequirement('auc>=0.88'), parseRequirement('latency_ms<50')],
    noRegression: [parseNoRegression('auc'), parseNoRegression('latency_ms:lower')],
    tolerance: { kind: 'absolute', value: 0.005 },
    from: 'staging',
    requireTags: [{ key: 'reviewed', value: 'yes' }],
  };
  const input: GateInputs = {
    candidate: {
      version: '3',
      status: 'READY',
      metrics: { auc: 0.9, latency_ms: 41 },
      tags: { reviewed: 'yes' },
      aliases: ['staging'],
    },
    baseline: { version: '2', metrics: { auc: 0.903, latency_ms: 40 } },
    target: 'production',
  };

  it('passes every gate of a good candidate, in a fixed order', () => {
    const checks = evaluateGates(gates, input);
    expect(checks).toEqual([
      { name: 'status READY', passed: true, detail: 'version 3 is READY' },
      { name: 'from @staging', passed: true, detail: 'version 3 holds @staging' },
      { name: 'auc>=0.88', passed: true, detail: 'auc = 0.9' },
      { name: 'latency_ms<50', passed: true, detail: 'latency_ms = 41' },
      {
        name: 'no regression in auc (higher is better)',
        passed: true,
        detail: '0.9 vs 0.903 (version 2, tolerance 0.005; limit ≥ 0.898)',
      },
      {
        name: 'no regression in latency_ms (lower is better)',
        passed: false,
        detail: '41 vs 40 (version 2, tolerance 0.005; limit ≤ 40.005)',
      },
      { name: 'tag reviewed=yes', passed: true, detail: 'reviewed = yes' },
    ]);
    expect(allPassed(checks)).toBe(false);
  });

  it('fails closed on a missing metric, a missing alias, a wrong tag and a non-READY status', () => {
    const checks = evaluateGates(gates, {
      ...input,
      candidate: {
        version: '4',
        status: 'PENDING_REGISTRATION',
        metrics: {},
        tags: { reviewed: 'no' },
        aliases: ['canary'],
      },
    });
    expect(checks.map((c) => [c.passed, c.detail])).toEqual([
      [false, 'version 4 is PENDING_REGISTRATION'],
      [false, 'version 4 does not hold @staging (it holds @canary)'],
      [false, 'metric auc is not logged for version 4'],
      [false, 'metric latency_ms is not logged for version 4'],
      [false, 'metric auc is not logged for version 4'],
      [false, 'metric latency_ms is not logged for version 4'],
      [false, 'reviewed = no'],
    ]);
  });

  it('passes no-regression when there is nothing to regress against', () => {
    const only: Gates = {
      requirements: [],
      noRegression: [parseNoRegression('auc')],
      tolerance: { kind: 'absolute', value: 0 },
      requireTags: [],
    };
    const c = input.candidate;
    expect(evaluateGates(only, { candidate: c, target: 'production' })[1]).toEqual({
      name: 'no regression in auc (higher is better)',
      passed: true,
      detail: 'nothing holds production yet: no baseline (auc = 0.9)',
    });
    expect(
      evaluateGates(only, { candidate: c, baseline: { version: '3', metrics: {} }, target: 'production' })[1]!.detail,
    ).toBe('version 3 already holds production');
    expect(
      evaluateGates(only, { candidate: c, baseline: { version: '1', metrics: {} }, target: 'production' })[1]!.detail,
    ).toBe('baseline version 1 has no auc: nothing to compare (0.9)');
  });

  it('applies a relative tolerance to the baseline', () => {
    const g: Gates = {
      requirements: [],
      noRegression: [parseNoRegression('latency_ms:lower')],
      tolerance: parseTolerance('5%'),
      requireTags: [],
    };
    const checks = evaluateGates(g, { ...input, baseline: { version: '2', metrics: { latency_ms: 40 } } });
    expect(checks[1]).toEqual({
      name: 'no regression in latency_ms (lower is better)',
      passed: true,
      detail: '41 vs 40 (version 2, tolerance 5%; limit ≤ 42)',
    });
  });

  it('an exact tie passes with zero tolerance', () => {
    const g: Gates = {
      requirements: [],
      noRegression: [parseNoRegression('auc')],
      tolerance: { kind: 'absolute', value: 0 },
      requireTags: [],
    };
    const checks = evaluateGates(g, { ...input, baseline: { version: '2', metrics: { auc: 0.9 } } });
    expect(checks[1]).toEqual({
      name: 'no regression in auc (higher is better)',
      passed: true,
      detail: '0.9 vs 0.9 (version 2; limit ≥ 0.9)',
    });
  });
});
