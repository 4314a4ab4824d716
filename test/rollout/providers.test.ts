import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAnalysis, type AnalysisMetric } from '../../src/core/rollout/analysis.js';
import { parseExposition } from '../../src/core/rollout/exposition.js';
import { histogramQuantile, increase, predictionDrift, serveQuantities } from '../../src/core/rollout/serve-metrics.js';
import { EventsProvider } from '../../src/rollout/providers/events.js';
import { escapeLabelValue, PrometheusProvider, substitute } from '../../src/rollout/providers/prometheus.js';
import { ServeProvider } from '../../src/rollout/providers/serve.js';
import { FakeServeMetrics } from './fake-serve.js';

const target = { model: 'churn', candidateVersion: '2', stableVersion: '1' };

function metric(provider: Record<string, unknown>, query: string, extra: Record<string, unknown> = {}): AnalysisMetric {
  return parseAnalysis({ metrics: [{ name: 'm', provider, query, successCondition: 'result >= 0', ...extra }] })
    .metrics[0]!;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('exposition format', () => {
  it('reads prom-client output, escapes included', async () => {
    const m = new FakeServeMetrics();
    m.requests.inc({ model: 'a"b\\c\nd', version: '1', variant: 'stable', code: '200' }, 3);
    const samples = parseExposition(await m.registry.metrics());
    expect(samples.find((s) => s.name === 'mlv_requests_total')).toEqual({
      name: 'mlv_requests_total',
      labels: { model: 'a"b\\c\nd', version: '1', variant: 'stable', code: '200' },
      value: 3,
    });
  });
  it.each([
    ['x 1', 1],
    ['x{a="1"} +Inf', Infinity],
    ['x NaN 1700000000', NaN],
    ['x Nan', NaN], // prom-client's spelling
    ['x -inf', -Infinity],
    ['x{} -2.5e-3', -0.0025],
  ])('%s', (line, v) => expect(parseExposition(line)[0]!.value).toBe(v));
  it('refuses garbage', () => expect(() => parseExposition('{oops} 1')).toThrow(/no metric name/));
});

describe('histogram quantile (Prometheus histogram_quantile semantics)', () => {
  // Expected values by hand from Prometheus's bucketQuantile: rank = q·total, linear inside the bucket.
  it.each([
    [
      0.5,
      [
        [0.1, 5],
        [0.2, 10],
        [Infinity, 10],
      ],
      0.1,
    ],
    [
      0.99,
      [
        [0.1, 50],
        [0.2, 100],
        [Infinity, 100],
      ],
      0.198,
    ],
    [
      0.5,
      [
        [0.1, 10],
        [Infinity, 10],
      ],
      0.05,
    ],
    [
      0.99,
      [
        [0.1, 1],
        [0.2, 2],
        [Infinity, 100],
      ],
      0.2,
    ],
    [
      0.5,
      [
        [0.1, 0],
        [Infinity, 0],
      ],
      null,
    ],
  ] as [number, [number, number][], number | null][])('q=%d of %j = %s', (q, b, v) => {
    const r = histogramQuantile(q, b);
    if (v === null) expect(r).toBeNull();
    else expect(r).toBeCloseTo(v, 12);
  });
});

describe('serve quantities', () => {
  it('counter increases, resets and totals over a window', async () => {
    const m = new FakeServeMetrics();
    m.record('churn', '1', 'stable', 900, { seconds: 0.003, cls: 'yes' });
    m.record('churn', '2', 'candidate', 50, { errors: 1, seconds: 0.003, cls: 'yes' });
    const before = parseExposition(await m.registry.metrics());
    m.record('churn', '1', 'stable', 190, { errors: 1, seconds: 0.003, cls: 'yes' });
    m.record('churn', '1', 'stable', 10, { seconds: 0.003, cls: 'no' });
    m.record('churn', '2', 'candidate', 99, { errors: 4, seconds: 0.003, cls: 'yes' });
    m.record('churn', '2', 'candidate', 1, { seconds: 0.4, cls: 'no' });
    m.record('other', '2', 'candidate', 1000, { errors: 1000 });
    const delta = increase(before, parseExposition(await m.registry.metrics()));
    const c = serveQuantities(delta, 'churn', '2');
    expect(c).toMatchObject({ requests: 100, errors: 4, error_rate: 0.04 });
    // 99 in (0.0025, 0.005], 1 in (0.25, 0.5]: rank 99 lands at the top of the 0.005 bucket.
    expect(c.p99_latency_ms).toBeCloseTo(5, 9);
    expect(c.p50_latency_ms).toBeCloseTo(2.5 + 2.5 * (50 / 99), 9);
    expect(c.mean_latency_ms).toBeCloseTo((99 * 3 + 400) / 100, 9);
    expect(serveQuantities(delta, 'churn', '1')).toMatchObject({ requests: 200, errors: 1, error_rate: 0.005 });
    // classes: candidate 95 yes / 1 no, stable 189 yes / 10 no → TVD = |95/96 − 189/199|.
    expect(predictionDrift(delta, 'churn', '2', '1')).toBeCloseTo(Math.abs(95 / 96 - 189 / 199), 12);
  });
  it('a counter that went down was reset: the increase is its new value', () => {
    const s = (v: number) => [
      { name: 'mlv_requests_total', labels: { model: 'm', version: '1', code: '200' }, value: v },
    ];
    expect(increase(s(100), s(7))[0]!.value).toBe(7);
    expect(increase(s(100), s(130))[0]!.value).toBe(30);
    expect(increase([], s(5))[0]!.value).toBe(5);
  });
  it('no traffic: no error rate, no latency', () => {
    expect(serveQuantities([], 'm', '1')).toEqual({
      requests: 0,
      errors: 0,
      error_rate: null,
      p50_latency_ms: null,
      p95_latency_ms: null,
      p99_latency_ms: null,
      mean_latency_ms: null,
    });
  });
});

describe('serve provider', () => {
  async function fake() {
    const m = new FakeServeMetrics();
    await m.listen();
    closers.push(() => m.close());
    return m;
  }
  it('sums two serve processes and measures each metric over its own window', async () => {
    const [a, b] = [await fake(), await fake()];
    let now = 0;
    const p = new ServeProvider([a.url, b.url], { now: () => now });
    a.record('churn', '2', 'candidate', 30, { errors: 3 });
    await p.baseline(target);
    now = 1000;
    a.record('churn', '2', 'candidate', 40, { errors: 2 });
    b.record('churn', '2', 'candidate', 60);
    b.record('churn', '1', 'stable', 500, { errors: 5 });
    const r = await p.measure(metric({ serve: { url: a.url } }, 'error_rate'), target);
    expect(r.values).toMatchObject({ result: 0.02, requests: 100, stable: 0.01, stable_requests: 500 });
    expect(r.counts).toEqual({ candidate: { requests: 100, errors: 2 }, stable: { requests: 500, errors: 5 } });
    now = 2000;
    b.record('churn', '2', 'candidate', 10, { errors: 10 });
    const r2 = await p.measure(metric({ serve: { url: a.url } }, 'error_rate'), target);
    expect(r2.values).toMatchObject({ result: 1, requests: 10, stable: null });
  });
  it('no traffic in the window: no data (inconclusive), not an error', async () => {
    const a = await fake();
    const p = new ServeProvider([a.url]);
    await p.baseline(target);
    const r = await p.measure(metric({ serve: { url: a.url } }, 'p99_latency_ms'), target);
    expect(r.error).toBeUndefined();
    expect(r.values).toMatchObject({ result: null, requests: 0 });
  });
  it('a failing or unreachable /metrics is a provider error naming it', async () => {
    const a = await fake();
    let now = 0;
    const p = new ServeProvider([a.url], { now: () => now });
    await p.baseline(target);
    a.broken = true;
    now = 1000;
    expect((await p.measure(metric({ serve: { url: a.url } }, 'requests'), target)).error).toMatch(/HTTP 500 boom/);
    await a.close();
    const q = new ServeProvider([a.url]);
    expect((await q.measure(metric({ serve: { url: a.url } }, 'requests'), target)).error).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+: (ECONNREFUSED|connection closed)$/,
    );
  });
});

describe('prometheus provider', () => {
  async function fakePrometheus(answer: (query: string) => unknown) {
    const queries: string[] = [];
    const server = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      const q = u.searchParams.get('query')!;
      queries.push(q);
      res.writeHead(u.pathname === '/prom/api/v1/query' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer(q)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    return { address: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prom`, queries };
  }
  const vector = (...values: string[]) => ({
    status: 'success',
    data: { resultType: 'vector', result: values.map((v) => ({ metric: {}, value: [1, v] })) },
  });

  it('substitutes the placeholders with escaped label values', async () => {
    const f = await fakePrometheus(() => vector('0.004'));
    const p = new PrometheusProvider(f.address);
    const m = metric(
      { prometheus: { address: f.address } },
      'sum(rate(x{model="{{model}}",version="{{candidate_version}}"}[{{interval}}])) / {{stable_version}}',
      { interval: '1m30s', minRequests: 5 },
    );
    const r = await p.measure(m, { model: 'a"b\\c', candidateVersion: '2', stableVersion: '1' });
    expect(f.queries).toEqual([
      'sum(rate(x{model="a\\"b\\\\c",version="2"}[1m30s])) / 1',
      'sum(increase(mlv_requests_total{model="a\\"b\\\\c",version="2"}[1m30s]))',
    ]);
    expect(r.values).toEqual({ result: 0.004, requests: 0.004 });
  });
  it.each([
    ['empty result → no data', vector(), { values: { result: null } }],
    ['NaN (0/0) passes through as NaN', vector('NaN'), { values: { result: NaN } }],
    ['two series → error', vector('1', '2'), { error: 'query answered 2 series; aggregate it (e.g. sum(...))' }],
    ['API error → error', { status: 'error', error: 'parse error at char 3' }, { error: /parse error at char 3/ }],
    ['scalar', { status: 'success', data: { resultType: 'scalar', result: [1, '7'] } }, { values: { result: 7 } }],
  ])('%s', async (_, answer, expected) => {
    const f = await fakePrometheus(() => answer);
    const r = await new PrometheusProvider(f.address).measure(
      metric({ prometheus: { address: f.address } }, 'up'),
      target,
    );
    expect(r).toMatchObject(expected as object);
  });
  it('down → error', async () => {
    const f = await fakePrometheus(() => vector());
    await closers.pop()!();
    const r = await new PrometheusProvider(f.address).measure(
      metric({ prometheus: { address: f.address } }, 'up'),
      target,
    );
    expect(r.error).toMatch(/ECONNREFUSED/);
  });
  it.each([
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
  ])('escapes %j', (v, e) => expect(escapeLabelValue(v)).toBe(e));
  it('leaves unknown placeholders as written', () =>
    expect(substitute('{{nope}} {{ model }}', { model: 'm' })).toBe('{{nope}} m'));
});

describe('events provider', () => {
  it('candidate conversion dropping significantly is "worse"; equal is not', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlv-events-'));
    const lines: string[] = [];
    const ts = '2026-01-01T00:00:00Z';
    for (let i = 0; i < 2000; i++) {
      const variant = i % 2 === 0 ? 'stable' : 'candidate';
      lines.push(JSON.stringify({ type: 'exposure', experiment: 'churn', unit: `u${i}`, variant, ts }));
      const converts = variant === 'stable' ? i % 10 < 4 : i % 10 < 2; // 40 % vs 20 %
      if (converts) lines.push(JSON.stringify({ type: 'metric', unit: `u${i}`, metric: 'conversion', value: 1, ts }));
    }
    writeFileSync(path.join(dir, 'serve-host-1.jsonl'), lines.join('\n') + '\n');
    const spec = { paths: [dir], experiment: null, type: 'proportion' as const, alpha: 0.05 };
    const m = parseAnalysis({ metrics: [{ name: 'conv', provider: { events: { path: dir } }, query: 'conversion' }] })
      .metrics[0]!;
    expect(m.successCondition).toBe('worse == 0');
    const r = await new EventsProvider(spec).measure(m, target);
    expect(r.values).toMatchObject({ result: 0.2, stable: 0.4, requests: 1000, worse: 1 });
    const empty = mkdtempSync(path.join(tmpdir(), 'mlv-events-'));
    expect((await new EventsProvider({ ...spec, paths: [empty] }).measure(m, target)).values).toEqual({
      result: null,
      requests: 0,
    });
  });
});
