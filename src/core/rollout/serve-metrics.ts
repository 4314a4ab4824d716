import type { Sample } from './exposition.js';

/**
 * The quantities of the `serve` provider, computed from two scrapes of `mlv serve`'s /metrics
 * (summed over all the URLs given) — the increase of each counter and histogram bucket between them:
 *
 *   requests        Δ mlv_requests_total{model, version}                    (all codes)
 *   errors          the same with code 5xx
 *   error_rate      errors / requests                                       (null without requests)
 *   p50/p95/p99_latency_ms  histogram_quantile over Δ mlv_request_duration_seconds_bucket, × 1000
 *                   (Prometheus's linear interpolation inside the bucket; the top finite bound when
 *                   the quantile falls in +Inf)
 *   mean_latency_ms Δ…_sum / Δ…_count × 1000
 *   drift           total variation distance ½·Σ|p_c − p_s| between the candidate's and stable's
 *                   prediction distributions over the window: class shares of
 *                   mlv_prediction_class_total, or bucket shares of mlv_prediction_value (largest over
 *                   outputs); null unless both sides have predictions
 * A counter lower in the second scrape was reset (serve restarted): its increase is its new value.
 */

export interface ServeQuantities {
  requests: number;
  errors: number;
  error_rate: number | null;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
  p99_latency_ms: number | null;
  mean_latency_ms: number | null;
}

const keyOf = (s: Sample) =>
  s.name +
  '{' +
  Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`)
    .join(',') +
  '}';

/** The per-series increase from `before` to `after` (series absent before count from zero). */
export function increase(before: Sample[], after: Sample[]): Sample[] {
  const prev = new Map(before.map((s) => [keyOf(s), s.value]));
  return after.map((s) => {
    const p = prev.get(keyOf(s));
    const d = p === undefined || s.value < p ? s.value : s.value - p;
    return { ...s, value: d };
  });
}

/**
 * Prometheus's histogram_quantile: q-quantile from cumulative bucket counts (sorted by le).
 * @example histogramQuantile(0.5, [[0.1, 5], [0.2, 10], [Infinity, 10]]) // 0.1
 */
export function histogramQuantile(q: number, buckets: [number, number][]): number | null {
  const b = [...buckets].sort((x, y) => x[0] - y[0]);
  const total = b.at(-1)?.[1] ?? 0;
  if (b.length === 0 || !(total > 0) || b.at(-1)![0] !== Infinity) return null;
  const rank = q * total;
  let i = b.findIndex(([, c]) => c >= rank);
  if (i === -1) i = b.length - 1;
  if (b[i]![0] === Infinity) return b.length >= 2 ? b[b.length - 2]![0] : null;
  const [upper, count] = b[i]!;
  const [lower, prevCount] = i === 0 ? [0, 0] : b[i - 1]!;
  if (i === 0 && upper <= 0) return upper;
  return lower + (upper - lower) * ((rank - prevCount) / (count - prevCount));
}

const matches = (s: Sample, model: string, version: string) => s.labels.model === model && s.labels.version === version;

function bucketsOf(samples: Sample[], name: string, model: string, version: string): [number, number][] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s, model, version)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()];
}

const sum = (samples: Sample[], pred: (s: Sample) => boolean) =>
  samples.reduce((acc, s) => (pred(s) ? acc + s.value : acc), 0);

/** The quantities for one version over a window (`delta` = increase between two scrapes). */
export function serveQuantities(delta: Sample[], model: string, version: string): ServeQuantities {
  const requests = sum(delta, (s) => s.name === 'mlv_requests_total' && matches(s, model, version));
  const errors = sum(
    delta,
    (s) => s.name === 'mlv_requests_total' && matches(s, model, version) && /^5\d\d$/.test(s.labels.code ?? ''),
  );
  const buckets = bucketsOf(delta, 'mlv_request_duration_seconds', model, version);
  const q = (p: number) => {
    const v = histogramQuantile(p, buckets);
    return v === null ? null : v * 1000;
  };
  const count = sum(delta, (s) => s.name === 'mlv_request_duration_seconds_count' && matches(s, model, version));
  const total = sum(delta, (s) => s.name === 'mlv_request_duration_seconds_sum' && matches(s, model, version));
  return {
    requests,
    errors,
    error_rate: requests > 0 ? errors / requests : null,
    p50_latency_ms: q(0.5),
    p95_latency_ms: q(0.95),
    p99_latency_ms: q(0.99),
    mean_latency_ms: count > 0 ? (total / count) * 1000 : null,
  };
}

function distributions(delta: Sample[], model: string, version: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const add = (output: string, key: string, v: number) => {
    const m = out.get(output) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + v);
    out.set(output, m);
  };
  for (const s of delta) {
    if (!matches(s, model, version)) continue;
    if (s.name === 'mlv_prediction_class_total') add(`class:${s.labels.output ?? ''}`, s.labels.class ?? '', s.value);
  }
  // Numeric outputs: cumulative buckets → per-bucket counts.
  const cumulative = new Map<string, [number, number][]>();
  for (const s of delta) {
    if (s.name !== 'mlv_prediction_value_bucket' || !matches(s, model, version)) continue;
    const o = s.labels.output ?? '';
    const list = cumulative.get(o) ?? [];
    list.push([s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value]);
    cumulative.set(o, list);
  }
  for (const [o, list] of cumulative) {
    const byLe = new Map<number, number>();
    for (const [le, c] of list) byLe.set(le, (byLe.get(le) ?? 0) + c);
    const sorted = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
    let prev = 0;
    for (const [le, c] of sorted) {
      add(`value:${o}`, String(le), c - prev);
      prev = c;
    }
  }
  return out;
}

/** Total variation distance between the two versions' prediction distributions; null without both. */
export function predictionDrift(delta: Sample[], model: string, candidate: string, stable: string): number | null {
  const c = distributions(delta, model, candidate);
  const s = distributions(delta, model, stable);
  let worst: number | null = null;
  for (const [output, cd] of c) {
    const sd = s.get(output);
    if (!sd) continue;
    const cn = [...cd.values()].reduce((a, b) => a + b, 0);
    const sn = [...sd.values()].reduce((a, b) => a + b, 0);
    if (!(cn > 0 && sn > 0)) continue;
    let tv = 0;
    for (const k of new Set([...cd.keys(), ...sd.keys()]))
      tv += Math.abs((cd.get(k) ?? 0) / cn - (sd.get(k) ?? 0) / sn);
    worst = Math.max(worst ?? 0, tv / 2);
  }
  return worst;
}
