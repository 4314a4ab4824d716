import { InputError } from '../../errors.js';
import { parseDuration, formatDuration } from './duration.js';
import { ExpressionError, parseCondition, variablesOf, type Node } from './expression.js';

/**
 * The analysis file of `mlv rollout start --analysis FILE`, in the spirit of Argo Rollouts'
 * AnalysisTemplate. JSON or YAML (the io layer parses the text; this validates the object):
 *
 *   {"metrics": [
 *     {"name": "p99-latency",
 *      "provider": {"serve": {"url": "http://127.0.0.1:8080/metrics"}},   // or {"urls": [...]}
 *      "query": "p99_latency_ms",
 *      "successCondition": "result <= 25",      // or "< 25", or "candidate <= stable * 1.1 + 0.001"
 *      "failureCondition": "result > 100",      // optional: failed only when this holds (else inconclusive)
 *      "interval": "2s", "count": 2, "failureLimit": 0, "inconclusiveLimit": 1,
 *      "consecutiveErrorLimit": 4, "minRequests": 10}
 *   ]}
 *
 * Per metric and per step: a measurement every `interval`; the step may advance once it has taken
 * `count` measurements (default 1) of which at least one succeeded — no data never passes. More than
 * `failureLimit` failed measurements (default 0) roll back; more than `inconclusiveLimit` (default 0)
 * inconclusive ones pause; more than `consecutiveErrorLimit` (default 4, Argo's) provider errors in a
 * row pause. A window with fewer than `minRequests` candidate requests is inconclusive.
 *
 * `test: "error-rate-not-worse"` (serve provider) replaces the condition with the always-valid
 * sequential test of src/core/rollout/comparative.ts (`alpha`, default 0.05; `margin`, default 0).
 */

export type ProviderSpec =
  | { kind: 'serve'; urls: string[] }
  | { kind: 'prometheus'; address: string }
  | { kind: 'events'; paths: string[]; experiment: string | null; type: 'proportion' | 'mean'; alpha: number };

export type MetricTest = { kind: 'error-rate-not-worse'; alpha: number; margin: number };

export interface AnalysisMetric {
  name: string;
  provider: ProviderSpec;
  query: string;
  /** prometheus: a second query whose value is `stable` in the conditions. */
  stableQuery: string | null;
  /** The condition's source text (null for a `test` metric). */
  successCondition: string | null;
  failureCondition: string | null;
  test: MetricTest | null;
  intervalMs: number;
  count: number;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  minRequests: number;
}

export interface Analysis {
  metrics: AnalysisMetric[];
}

export const METRIC_DEFAULTS = {
  intervalMs: 10_000,
  count: 1,
  failureLimit: 0,
  inconclusiveLimit: 0,
  consecutiveErrorLimit: 4,
  minRequests: 0,
} as const;

/** The `serve` provider's quantities (each also as `stable_…`). */
export const SERVE_QUERIES = [
  'requests',
  'errors',
  'error_rate',
  'p99_latency_ms',
  'p95_latency_ms',
  'p50_latency_ms',
  'mean_latency_ms',
  'drift',
] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const KNOWN_KEYS = new Set([
  'name',
  'provider',
  'query',
  'stableQuery',
  'successCondition',
  'failureCondition',
  'test',
  'alpha',
  'margin',
  'interval',
  'count',
  'failureLimit',
  'inconclusiveLimit',
  'consecutiveErrorLimit',
  'minRequests',
]);

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function httpUrl(x: unknown, where: string): string {
  if (typeof x !== 'string') throw new InputError(`${where} must be an http(s) URL string`);
  let u: URL;
  try {
    u = new URL(x);
  } catch {
    throw new InputError(`${where} must be an http(s) URL, got "${x}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InputError(`${where} must be http(s), got "${x}"`);
  return x;
}

function integer(x: unknown, where: string, fallback: number, min = 0): number {
  if (x === undefined) return fallback;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min)
    throw new InputError(`${where} must be a whole number ≥ ${min}, got ${JSON.stringify(x)}`);
  return x;
}

function probability(x: unknown, where: string, fallback: number, open: boolean): number {
  if (x === undefined) return fallback;
  if (typeof x !== 'number' || !(open ? x > 0 && x < 1 : x >= 0 && x < 1))
    throw new InputError(`${where} must be a number in ${open ? '(0, 1)' : '[0, 1)'}, got ${JSON.stringify(x)}`);
  return x;
}

function parseProvider(x: unknown, where: string): ProviderSpec {
  if (!isObject(x) || Object.keys(x).length !== 1)
    throw new InputError(`${where} must name one provider: {"serve": {…}}, {"prometheus": {…}} or {"events": {…}}`);
  const [kind, raw] = Object.entries(x)[0]!;
  const cfg = raw ?? {};
  if (!isObject(cfg)) throw new InputError(`${where}.${kind} must be an object`);
  if (kind === 'serve') {
    const urls = cfg.urls ?? (cfg.url === undefined ? undefined : [cfg.url]);
    if (!Array.isArray(urls) || urls.length === 0)
      throw new InputError(
        `${where}.serve needs "url" or "urls": mlv serve's /metrics, e.g. http://127.0.0.1:8080/metrics`,
      );
    return { kind, urls: urls.map((u, i) => httpUrl(u, `${where}.serve.urls[${i}]`)) };
  }
  if (kind === 'prometheus') {
    return { kind, address: httpUrl(cfg.address, `${where}.prometheus.address`) };
  }
  if (kind === 'events') {
    const paths = cfg.paths ?? (cfg.path === undefined ? undefined : [cfg.path]);
    if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => typeof p !== 'string' || p === ''))
      throw new InputError(`${where}.events needs "path" or "paths": mlv serve's event log files or directories`);
    const type = cfg.type ?? 'proportion';
    if (type !== 'proportion' && type !== 'mean')
      throw new InputError(`${where}.events.type must be "proportion" or "mean", got ${JSON.stringify(type)}`);
    if (cfg.experiment !== undefined && typeof cfg.experiment !== 'string')
      throw new InputError(`${where}.events.experiment must be a string`);
    return {
      kind,
      paths: paths as string[],
      experiment: (cfg.experiment as string | undefined) ?? null,
      type,
      alpha: probability(cfg.alpha, `${where}.events.alpha`, 0.05, true),
    };
  }
  throw new InputError(`${where}: unknown provider "${kind}" (known: serve, prometheus, events)`);
}

function condition(x: unknown, where: string): { source: string; node: Node } {
  if (typeof x !== 'string') throw new InputError(`${where} must be a condition string like "result <= 0.01"`);
  try {
    return { source: x, node: parseCondition(x) };
  } catch (err) {
    if (err instanceof ExpressionError) throw new InputError(`${where} "${x}": ${err.message}`);
    throw err;
  }
}

function parseMetric(x: unknown, i: number): AnalysisMetric {
  const where = `metrics[${i}]`;
  if (!isObject(x)) throw new InputError(`${where} must be an object`);
  for (const k of Object.keys(x)) {
    if (!KNOWN_KEYS.has(k)) throw new InputError(`${where}: unknown field "${k}"`);
  }
  if (typeof x.name !== 'string' || !NAME.test(x.name))
    throw new InputError(
      `${where}.name must be letters, digits, "-", "_" or "." (≤ 63), got ${JSON.stringify(x.name)}`,
    );
  const at = `metrics[${i}] (${x.name})`;
  const provider = parseProvider(x.provider, `${at}.provider`);
  if (typeof x.query !== 'string' || x.query.trim() === '')
    throw new InputError(`${at}.query must be a non-empty string`);
  if (provider.kind === 'serve') {
    const base = x.query.replace(/^stable_/, '');
    if (!(SERVE_QUERIES as readonly string[]).includes(base))
      throw new InputError(
        `${at}.query "${x.query}" is not a serve quantity (known: ${SERVE_QUERIES.join(', ')}, each also as stable_…)`,
      );
  }
  let stableQuery: string | null = null;
  if (x.stableQuery !== undefined) {
    if (provider.kind !== 'prometheus') throw new InputError(`${at}.stableQuery goes with the prometheus provider`);
    if (typeof x.stableQuery !== 'string' || x.stableQuery.trim() === '')
      throw new InputError(`${at}.stableQuery must be a non-empty string`);
    stableQuery = x.stableQuery;
  }
  let test: MetricTest | null = null;
  if (x.test !== undefined) {
    if (x.test !== 'error-rate-not-worse')
      throw new InputError(`${at}.test must be "error-rate-not-worse", got ${JSON.stringify(x.test)}`);
    if (provider.kind !== 'serve')
      throw new InputError(`${at}.test needs the serve provider (it counts requests and errors)`);
    if (x.successCondition !== undefined)
      throw new InputError(`${at}: give either "test" or "successCondition", not both`);
    test = {
      kind: x.test,
      alpha: probability(x.alpha, `${at}.alpha`, 0.05, true),
      margin: probability(x.margin, `${at}.margin`, 0, false),
    };
  } else if (x.alpha !== undefined || x.margin !== undefined) {
    if (provider.kind !== 'events') throw new InputError(`${at}: "alpha" and "margin" go with "test"`);
  }
  let success: string | null = null;
  if (test === null) {
    if (x.successCondition === undefined && provider.kind === 'events') success = 'worse == 0';
    else success = condition(x.successCondition, `${at}.successCondition`).source;
  }
  const failure =
    x.failureCondition === undefined ? null : condition(x.failureCondition, `${at}.failureCondition`).source;
  const interval =
    x.interval === undefined ? METRIC_DEFAULTS.intervalMs : parseDuration(String(x.interval), `${at}.interval`);
  return {
    name: x.name,
    provider,
    query: x.query,
    stableQuery,
    successCondition: success,
    failureCondition: failure,
    test,
    intervalMs: interval,
    count: integer(x.count, `${at}.count`, METRIC_DEFAULTS.count, 1),
    failureLimit: integer(x.failureLimit, `${at}.failureLimit`, METRIC_DEFAULTS.failureLimit),
    inconclusiveLimit: integer(x.inconclusiveLimit, `${at}.inconclusiveLimit`, METRIC_DEFAULTS.inconclusiveLimit),
    consecutiveErrorLimit: integer(
      x.consecutiveErrorLimit,
      `${at}.consecutiveErrorLimit`,
      METRIC_DEFAULTS.consecutiveErrorLimit,
    ),
    minRequests: integer(x.minRequests, `${at}.minRequests`, METRIC_DEFAULTS.minRequests),
  };
}

/** Validates an analysis object (parsed JSON or YAML). Every problem names its place: `metrics[1] (error-rate).interval`. */
export function parseAnalysis(x: unknown, source = 'the analysis'): Analysis {
  if (!isObject(x) || !Array.isArray(x.metrics) || x.metrics.length === 0)
    throw new InputError(`${source} must be an object with a non-empty "metrics" list`);
  for (const k of Object.keys(x)) {
    if (k !== 'metrics') throw new InputError(`${source}: unknown field "${k}" (expected only "metrics")`);
  }
  const metrics = x.metrics.map((m, i) => {
    try {
      return parseMetric(m, i);
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`${source}: ${err.message}`);
      throw err;
    }
  });
  const seen = new Set<string>();
  for (const m of metrics) {
    if (seen.has(m.name)) throw new InputError(`${source}: metric name "${m.name}" appears twice`);
    seen.add(m.name);
  }
  return { metrics };
}

/** The analysis back in the file format (what the registry stores, and what `parseAnalysis` reads again). */
export function analysisToJson(a: Analysis): { metrics: Record<string, unknown>[] } {
  return {
    metrics: a.metrics.map((m) => {
      const provider =
        m.provider.kind === 'serve'
          ? { serve: { urls: m.provider.urls } }
          : m.provider.kind === 'prometheus'
            ? { prometheus: { address: m.provider.address } }
            : {
                events: {
                  paths: m.provider.paths,
                  ...(m.provider.experiment !== null ? { experiment: m.provider.experiment } : {}),
                  type: m.provider.type,
                  alpha: m.provider.alpha,
                },
              };
      return {
        name: m.name,
        provider,
        query: m.query,
        ...(m.stableQuery !== null ? { stableQuery: m.stableQuery } : {}),
        ...(m.test ? { test: m.test.kind, alpha: m.test.alpha, margin: m.test.margin } : {}),
        ...(m.successCondition !== null && m.test === null ? { successCondition: m.successCondition } : {}),
        ...(m.failureCondition !== null ? { failureCondition: m.failureCondition } : {}),
        interval: formatDuration(m.intervalMs),
        count: m.count,
        failureLimit: m.failureLimit,
        inconclusiveLimit: m.inconclusiveLimit,
        consecutiveErrorLimit: m.consecutiveErrorLimit,
        minRequests: m.minRequests,
      };
    }),
  };
}

/**
 * A comparative metric needs stable's traffic: a test, a condition naming `stable`, drift, or a
 * `stable_…` quantity. At 100 % there is none, so the last step skips these checks.
 */
export function isComparative(m: AnalysisMetric): boolean {
  return m.test !== null || neededValues(m).has('stable') || m.query === 'drift' || m.query.startsWith('stable_');
}

/** Which names a metric's conditions need from the provider: `stable` makes it comparative. */
export function neededValues(m: AnalysisMetric): Set<string> {
  const out = new Set<string>();
  for (const c of [m.successCondition, m.failureCondition]) if (c !== null) variablesOf(parseCondition(c), out);
  return out;
}

export interface DefaultAnalysisOptions {
  /** mlv serve /metrics URLs the built-in checks read. */
  urls: string[];
  maxErrorRate: number;
  maxP99Ms: number;
  maxDrift: number;
  /** Candidate p99 may be at most this many times stable's (plus 5 ms); null: no latency comparison. */
  maxLatencyRatio: number | null;
  minRequests: number;
  intervalMs: number;
  /** The always-valid "error rate not worse than stable" test; null turns it off. */
  alpha: number | null;
}

/** The built-in checks' defaults (the design's thresholds). */
export const DEFAULT_ANALYSIS: Omit<DefaultAnalysisOptions, 'urls'> = {
  maxErrorRate: 0.01,
  maxP99Ms: 200,
  maxDrift: 0.1,
  maxLatencyRatio: null,
  minRequests: 20,
  intervalMs: 10_000,
  alpha: 0.05,
};

/**
 * The analysis used when no file is given: candidate error rate ≤ 1 %, p99 ≤ 200 ms, prediction drift
 * against stable ≤ 0.1, and the error rate not worse than stable's (always-valid sequential test),
 * all on the serve provider.
 */
export function defaultAnalysis(o: DefaultAnalysisOptions): Analysis {
  const common = {
    provider: { kind: 'serve' as const, urls: o.urls },
    stableQuery: null,
    failureCondition: null,
    intervalMs: o.intervalMs,
    count: 1,
    failureLimit: 0,
    inconclusiveLimit: 2,
    consecutiveErrorLimit: METRIC_DEFAULTS.consecutiveErrorLimit,
    minRequests: o.minRequests,
  };
  const metrics: AnalysisMetric[] = [
    { ...common, name: 'error-rate', query: 'error_rate', successCondition: `result <= ${o.maxErrorRate}`, test: null },
    {
      ...common,
      name: 'p99-latency',
      query: 'p99_latency_ms',
      successCondition: `result <= ${o.maxP99Ms}`,
      test: null,
    },
    { ...common, name: 'drift', query: 'drift', successCondition: `result <= ${o.maxDrift}`, test: null },
  ];
  if (o.alpha !== null)
    metrics.push({
      ...common,
      name: 'error-rate-vs-stable',
      query: 'error_rate',
      successCondition: null,
      test: { kind: 'error-rate-not-worse', alpha: o.alpha, margin: 0 },
    });
  if (o.maxLatencyRatio !== null)
    metrics.push({
      ...common,
      name: 'latency-vs-stable',
      query: 'p99_latency_ms',
      successCondition: `candidate <= stable * ${o.maxLatencyRatio} + 5`,
      test: null,
    });
  return { metrics };
}
