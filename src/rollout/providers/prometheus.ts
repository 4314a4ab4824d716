import type { AnalysisMetric } from '../../core/rollout/analysis.js';
import { formatDuration } from '../../core/rollout/duration.js';
import type { Measurement } from '../../core/rollout/measurement.js';
import { errorMessage, httpGet, type MeasureTarget, type Provider } from './types.js';

/**
 * The `prometheus` provider: runs the metric's query through the HTTP API (`GET /api/v1/query`)
 * with `{{model}}`, `{{candidate_version}}`, `{{stable_version}}` and `{{interval}}` substituted.
 * Values are escaped for a PromQL double-quoted string, so a model name cannot change the query.
 *
 * An empty result (no series: typically no traffic yet) is "no data" → inconclusive, not an error
 * and not a failure. A query answering several series is an error (aggregate it with sum()).
 * With `minRequests`, the candidate's requests in the window are counted by a second query:
 *   sum(increase(mlv_requests_total{model="…",version="…"}[interval]))
 * A `stableQuery` (same substitutions) supplies `stable` for comparative conditions.
 */
export class PrometheusProvider implements Provider {
  constructor(
    private readonly address: string,
    private readonly opts: { timeoutMs?: number } = {},
  ) {}

  async baseline(): Promise<void> {}

  async check(target: MeasureTarget): Promise<void> {
    const r = await this.query('vector(1)', target.signal);
    if (r === null) throw new Error(`${this.address}: vector(1) returned nothing`);
  }

  /** One instant query → its single value, null when empty. Throws on transport or API errors. */
  async query(promql: string, signal?: AbortSignal): Promise<number | null> {
    const url = new URL(this.address.replace(/\/+$/, '') + '/api/v1/query');
    url.searchParams.set('query', promql);
    const body = await httpGet(url.toString(), this.opts.timeoutMs ?? 5000, signal);
    let doc: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    try {
      doc = JSON.parse(body) as typeof doc;
    } catch {
      throw new Error(`${url.origin}: the answer is not JSON`);
    }
    if (doc.status !== 'success') throw new Error(`${url.origin}: ${doc.error ?? 'query failed'}`);
    const { resultType, result } = doc.data ?? {};
    if (resultType === 'scalar') return Number((result as [number, string])[1]);
    if (resultType !== 'vector') throw new Error(`query answered a ${resultType ?? 'nothing'}, expected one number`);
    const series = result as { value: [number, string] }[];
    if (series.length === 0) return null;
    if (series.length > 1) throw new Error(`query answered ${series.length} series; aggregate it (e.g. sum(...))`);
    return Number(series[0]!.value[1]);
  }

  async measure(metric: AnalysisMetric, target: MeasureTarget): Promise<Measurement> {
    const vars = substitutions(target, metric.intervalMs);
    try {
      const result = await this.query(substitute(metric.query, vars), target.signal);
      const values: Record<string, number | null> = { result };
      if (metric.stableQuery !== null)
        values.stable = await this.query(substitute(metric.stableQuery, vars), target.signal);
      if (metric.minRequests > 0) {
        const n = await this.query(
          `sum(increase(mlv_requests_total{model="${vars.model}",version="${vars.candidate_version}"}[${vars.interval}]))`,
          target.signal,
        );
        values.requests = n ?? 0;
      }
      return { values };
    } catch (err) {
      return { error: errorMessage(err) };
    }
  }
}

/** Escapes a value for the inside of a PromQL "…" string. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function substitutions(target: MeasureTarget, intervalMs: number): Record<string, string> {
  return {
    model: escapeLabelValue(target.model),
    candidate_version: escapeLabelValue(target.candidateVersion),
    stable_version: escapeLabelValue(target.stableVersion),
    interval: formatDuration(intervalMs),
  };
}

/** `{{name}}` → value; an unknown placeholder is left as written (Prometheus will say what is wrong). */
export function substitute(query: string, vars: Record<string, string>): string {
  return query.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (all, name: string) => vars[name] ?? all);
}
