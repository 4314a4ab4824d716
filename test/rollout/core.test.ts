import { describe, expect, it } from 'vitest';
import { YAML_EXAMPLE, ISSUE_EXAMPLE } from './fixtures.js';
import { parseAnalysis, analysisToJson, defaultAnalysis, DEFAULT_ANALYSIS } from '../../src/core/rollout/analysis.js';
import { errorRateNotWorse } from '../../src/core/rollout/comparative.js';
import { formatDuration, humanDuration, parseDuration } from '../../src/core/rollout/duration.js';
import {
  evaluateCondition,
  ExpressionError,
  MissingValueError,
  parseCondition,
} from '../../src/core/rollout/expression.js';
import { evaluateMeasurement } from '../../src/core/rollout/measurement.js';
import { parseYaml } from './yaml.js';

describe('durations', () => {
  it.each([
    ['2s', 2000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['1d', 86_400_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text, '--x')).toBe(ms);
    expect(parseDuration(formatDuration(ms), '--x')).toBe(ms);
  });
  it.each(['', '10', 'm', '10 minutes', '-2s', '2s3', '0s'])('refuses %j', (text) => {
    expect(() => parseDuration(text, '--step-duration')).toThrow(/--step-duration must be/);
  });
  it('zero when allowed', () => expect(parseDuration('0s', '--x', { allowZero: true })).toBe(0));
  it.each([
    [850, '850ms'],
    [12_000, '12s'],
    [245_000, '4m 05s'],
    [3_900_000, '1h 05m'],
  ])('humanDuration(%d) = %s', (ms, s) => expect(humanDuration(ms)).toBe(s));
});

describe('conditions', () => {
  it.each([
    ['result <= 25', { result: 51.2 }, false, '51.2 > 25'],
    ['result <= 25', { result: 25 }, true, '25 <= 25'],
    ['< 0.01', { result: 0.004 }, true, '0.004 < 0.01'],
    ['>= 0.99', { result: 0.5 }, false, '0.5 < 0.99'],
    ['candidate <= stable * 1.1 + 0.001', { result: 0.02, stable: 0.01 }, false, '0.02 > 0.012'],
    ['candidate <= stable * 1.1 + 0.001', { result: 0.011, stable: 0.01 }, true, '0.011 <= 0.012'],
    ['result < 10 and requests >= 100', { result: 3, requests: 50 }, false, '50 < 100'],
    ['result < 10 && requests >= 100', { result: 3, requests: 500 }, true, '3 < 10 and 500 >= 100'],
    ['result > 1 || result < -1', { result: 0 }, false, '0 <= 1 and 0 >= -1'],
    ['not (result == 0)', { result: 0 }, false, 'not (0 == 0)'],
    ['abs(result - stable) <= 0.1', { result: 0.3, stable: 0.1 }, false, '0.2 > 0.1'],
    ['max(result, 2) / 2 == 2', { result: 4 }, true, '2 == 2'],
    ['-result > -1e-3', { result: 0.0001 }, true, '-0.0001 > -0.001'],
    ['result <= 25', { result: NaN }, false, 'NaN > 25'],
    ['isNaN(result)', { result: NaN }, true, 'NaN is NaN'],
    ['result != 0', { result: 2 }, true, '2 != 0'],
  ])('%s with %j → %s (%s)', (src, values, holds, detail) => {
    expect(evaluateCondition(parseCondition(src), values)).toEqual({ holds, detail });
  });

  it.each([
    ['', /empty condition/],
    ['result', /must compare/],
    ['result <= ', /expected a value at the end/],
    ['1 < result < 2', /do not chain/],
    ['result <= 25)', /unexpected at position 13/],
    ['process.exit(1) == 1', /unknown function "process.exit"/],
    ['result <= 2 ; x', /unexpected ";" at position 13/],
    ['abs(1, 2) < 3', /takes one argument/],
  ])('refuses %j', (src, message) => {
    expect(() => parseCondition(src)).toThrow(ExpressionError);
    expect(() => parseCondition(src)).toThrow(message);
  });

  it('a missing value is not false: it throws MissingValueError naming it', () => {
    expect(() => evaluateCondition(parseCondition('candidate <= stable'), { result: 1, stable: null })).toThrow(
      MissingValueError,
    );
  });
});

describe('the analysis file', () => {
  it('the issue example parses as written (JSON)', () => {
    const a = parseAnalysis(JSON.parse(ISSUE_EXAMPLE));
    expect(
      a.metrics.map((m) => [
        m.name,
        m.provider.kind,
        m.intervalMs,
        m.count,
        m.failureLimit,
        m.inconclusiveLimit,
        m.minRequests,
      ]),
    ).toEqual([
      ['p99-latency', 'serve', 2000, 2, 0, 1, 10],
      ['error-rate', 'prometheus', 10_000, 3, 1, 0, 0],
    ]);
    expect(a.metrics[0]!.provider).toEqual({ kind: 'serve', urls: ['http://127.0.0.1:8080/metrics'] });
    expect(a.metrics[1]!.query).toContain('code=~"5.."');
    expect(a.metrics[1]!.consecutiveErrorLimit).toBe(4);
  });

  it('the same as YAML parses to the same analysis', async () => {
    expect(parseAnalysis(await parseYaml(YAML_EXAMPLE))).toEqual(parseAnalysis(JSON.parse(ISSUE_EXAMPLE)));
  });

  it('round-trips through the stored form', () => {
    const a = parseAnalysis(JSON.parse(ISSUE_EXAMPLE));
    expect(parseAnalysis(JSON.parse(JSON.stringify(analysisToJson(a))))).toEqual(a);
    const d = defaultAnalysis({ ...DEFAULT_ANALYSIS, urls: ['http://127.0.0.1:1/metrics'], maxLatencyRatio: 1.5 });
    expect(parseAnalysis(analysisToJson(d))).toEqual(d);
  });

  const metric = (extra: Record<string, unknown>) => ({
    metrics: [
      {
        name: 'm',
        provider: { serve: { url: 'http://127.0.0.1:1/metrics' } },
        query: 'error_rate',
        successCondition: '< 1',
        ...extra,
      },
    ],
  });
  it.each([
    [{}, /must be an object with a non-empty "metrics" list/],
    [{ metrics: [] }, /non-empty "metrics" list/],
    [metric({ interval: '10' }), /metrics\[0\] \(m\)\.interval must be a duration/],
    [metric({ successCondition: 'result <=' }), /successCondition "result <=": expected a value at the end/],
    [metric({ query: 'p42' }), /query "p42" is not a serve quantity/],
    [metric({ count: 0 }), /count must be a whole number ≥ 1, got 0/],
    [metric({ failureLimit: -1 }), /failureLimit must be a whole number ≥ 0/],
    [metric({ provider: { serve: {} } }), /serve needs "url" or "urls"/],
    [metric({ provider: { datadog: {} } }), /unknown provider "datadog"/],
    [metric({ provider: { prometheus: { address: 'ftp://x' } } }), /prometheus\.address must be http\(s\)/],
    [metric({ intervall: '2s' }), /unknown field "intervall"/],
    [metric({ test: 'error-rate-not-worse' }), /either "test" or "successCondition"/],
    [{ metrics: [metric({}).metrics[0], metric({}).metrics[0]] }, /"m" appears twice/],
  ])('refuses %j', (obj, message) => {
    expect(() => parseAnalysis(obj, 'x.json')).toThrow(message);
  });

  it('the default analysis carries the design thresholds', () => {
    const d = defaultAnalysis({ ...DEFAULT_ANALYSIS, urls: ['http://127.0.0.1:8080/metrics'] });
    expect(d.metrics.map((m) => [m.name, m.query, m.successCondition, m.test?.kind ?? null])).toEqual([
      ['error-rate', 'error_rate', 'result <= 0.01', null],
      ['p99-latency', 'p99_latency_ms', 'result <= 200', null],
      ['drift', 'drift', 'result <= 0.1', null],
      ['error-rate-vs-stable', 'error_rate', null, 'error-rate-not-worse'],
    ]);
  });
});

describe('measurement evaluation', () => {
  const [p99] = parseAnalysis(JSON.parse(ISSUE_EXAMPLE)).metrics;
  it.each([
    [{ values: { result: 51.2, requests: 40 } }, 'failed', 'p99-latency 51.2 > 25'],
    [{ values: { result: 12, requests: 40 } }, 'successful', '12 <= 25'],
    [{ values: { result: 12, requests: 9 } }, 'inconclusive', 'not enough traffic: 9 < 10 requests'],
    [{ values: { result: 51.2 } }, 'inconclusive', 'not enough traffic: request count unknown (minRequests 10)'],
    [{ values: { result: null, requests: 0 } }, 'inconclusive', 'not enough traffic: 0 < 10 requests'],
    [{ error: 'connect ECONNREFUSED 127.0.0.1:8080' }, 'error', 'provider error: connect ECONNREFUSED 127.0.0.1:8080'],
  ])('%j → %s', (m, phase, detail) => {
    const r = evaluateMeasurement(p99!, m, 1000);
    expect(r.phase).toBe(phase);
    expect(r.detail).toBe(detail.replace(/^p99-latency /, ''));
  });

  const noMin = { ...p99!, minRequests: 0 };
  it('no data is inconclusive, never success or failure', () => {
    expect(evaluateMeasurement(noMin, { values: { result: null } }, 0)).toMatchObject({
      phase: 'inconclusive',
      detail: 'no data',
    });
    expect(evaluateMeasurement(noMin, { values: {} }, 0)).toMatchObject({ phase: 'inconclusive' });
  });
  it('comparative: stable missing is inconclusive; present it is compared and shown', () => {
    const cmp = { ...noMin, successCondition: 'candidate <= stable * 1.1 + 0.001' };
    expect(evaluateMeasurement(cmp, { values: { result: 3, stable: null } }, 0)).toMatchObject({
      phase: 'inconclusive',
      detail: 'no data for stable',
    });
    expect(evaluateMeasurement(cmp, { values: { result: 3, stable: 2 } }, 0)).toMatchObject({
      phase: 'failed',
      value: 3,
      stable: 2,
      detail: '3 > 2.201 (stable 2)',
    });
  });
  it('with a failureCondition, neither holding is inconclusive', () => {
    const m = { ...noMin, failureCondition: 'result > 100' };
    expect(evaluateMeasurement(m, { values: { result: 50 } }, 0).phase).toBe('inconclusive');
    expect(evaluateMeasurement(m, { values: { result: 150 } }, 0)).toMatchObject({
      phase: 'failed',
      detail: '150 > 100',
    });
    expect(evaluateMeasurement(m, { values: { result: 5 } }, 0).phase).toBe('successful');
  });
});

describe('error rate not worse than stable (always-valid one-sided sequential test)', () => {
  // Expected p-values: python3 with math only, the one-sided formula of src/core/stats/sequential.ts
  // (ρ = √((−2 ln 2α + ln(−2 ln 2α + 1))/5000); p = √(nρ²+1) / (2(e^E − 1)), E = nρ²z²/(2(nρ²+1))).
  it.each([
    [1000, 40, 1000, 5, 'worse', 3.774219810328458e-5],
    [2000, 30, 2000, 10, 'worse', 0.018214422266244458],
    [5000, 60, 5000, 40, 'not_worse', 0.33547485339751326],
    [1000, 6, 1000, 5, 'not_worse', 1],
    [1000, 2, 1000, 5, 'not_worse', 1],
    [1000, 0, 1000, 0, 'not_worse', 1],
  ])('candidate %d/%d errors vs stable %d/%d → %s (p = %d)', (nc, ec, ns, es, verdict, p) => {
    const r = errorRateNotWorse({ requests: nc, errors: ec }, { requests: ns, errors: es }, 0.05, 0);
    expect(r.verdict).toBe(verdict);
    expect(r.p_value).toBeCloseTo(p, 12);
    expect(r.difference).toBeCloseTo(ec / nc - es / ns, 15);
  });
  it('no stable traffic is insufficient', () => {
    expect(errorRateNotWorse({ requests: 10, errors: 1 }, { requests: 0, errors: 0 }, 0.05, 0)).toMatchObject({
      verdict: 'insufficient',
      detail: 'no requests on stable yet',
    });
  });
  it('a margin tolerates a small increase', () => {
    const r = errorRateNotWorse({ requests: 2000, errors: 30 }, { requests: 2000, errors: 10 }, 0.05, 0.01);
    expect(r.verdict).toBe('not_worse');
  });
  it('the detail carries the numbers', () => {
    expect(errorRateNotWorse({ requests: 1000, errors: 40 }, { requests: 1000, errors: 5 }, 0.05, 0).detail).toBe(
      '4% vs stable 0.5% (1000 vs 1000 requests): worse, always-valid p = 3.77e-5 < 0.05',
    );
  });
});
