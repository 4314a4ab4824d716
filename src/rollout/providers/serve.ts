import type { AnalysisMetric } from '../../core/rollout/analysis.js';
import { parseExposition, type Sample } from '../../core/rollout/exposition.js';
import type { Measurement } from '../../core/rollout/measurement.js';
import { increase, predictionDrift, serveQuantities, type ServeQuantities } from '../../core/rollout/serve-metrics.js';
import { errorMessage, httpGet, type MeasureTarget, type Provider } from './types.js';

/**
 * The `serve` provider: scrapes `mlv serve`'s /metrics from one or more URLs and computes each
 * metric's quantity over its window — from the scrape taken at the window's start (the previous
 * measurement of that metric, or the baseline) to now. Scrapes of the same URLs within `shareMs`
 * are shared between metrics measured together.
 */
export class ServeProvider implements Provider {
  private readonly windows = new Map<string, Sample[]>();
  private baselineScrape: Sample[] | null = null;
  private last: { at: number; samples: Sample[] } | null = null;

  constructor(
    private readonly urls: string[],
    private readonly opts: { timeoutMs?: number; now?: () => number; shareMs?: number } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** All URLs' samples (any URL failing fails the scrape: a partial sum would understate traffic). */
  async scrape(signal?: AbortSignal): Promise<Sample[]> {
    const at = this.now();
    if (this.last && at - this.last.at <= (this.opts.shareMs ?? 200)) return this.last.samples;
    const texts = await Promise.all(this.urls.map((u) => httpGet(u, this.opts.timeoutMs ?? 5000, signal)));
    const samples = texts.flatMap((t, i) => {
      try {
        // A label naming the source keeps two processes' identical series apart until they are summed.
        return parseExposition(t).map((s) => ({ ...s, labels: { ...s.labels, __source: String(i) } }));
      } catch (err) {
        throw new Error(`${this.urls[i]}: not Prometheus text: ${errorMessage(err)}`, { cause: err });
      }
    });
    this.last = { at, samples };
    return samples;
  }

  async baseline(target: MeasureTarget): Promise<void> {
    this.windows.clear();
    try {
      this.baselineScrape = await this.scrape(target.signal);
    } catch {
      this.baselineScrape = null; // measured as an error when the window closes
    }
  }

  async check(target: MeasureTarget): Promise<void> {
    await this.scrape(target.signal);
  }

  async measure(metric: AnalysisMetric, target: MeasureTarget): Promise<Measurement> {
    let now: Sample[];
    try {
      now = await this.scrape(target.signal);
    } catch (err) {
      return { error: errorMessage(err) };
    }
    const before = this.windows.get(metric.name) ?? this.baselineScrape;
    this.windows.set(metric.name, now);
    if (before === null || before === undefined) {
      // Nothing to take the increase from yet (the baseline scrape failed): the next window will.
      return { values: { result: null, requests: 0 } };
    }
    const delta = increase(before, now);
    const c = serveQuantities(delta, target.model, target.candidateVersion);
    const s = serveQuantities(delta, target.model, target.stableVersion);
    const drift = predictionDrift(delta, target.model, target.candidateVersion, target.stableVersion);
    const pick = (q: ServeQuantities, name: string): number | null =>
      name === 'drift' ? drift : ((q as unknown as Record<string, number | null>)[name] ?? null);
    const stableQuery = metric.query.startsWith('stable_');
    const base = metric.query.replace(/^stable_/, '');
    const values: Record<string, number | null> = {
      result: pick(stableQuery ? s : c, base),
      stable: pick(s, base),
      requests: stableQuery ? s.requests : c.requests,
    };
    for (const [k, v] of Object.entries(c)) values[k] ??= v;
    for (const [k, v] of Object.entries(s)) values[`stable_${k}`] = v;
    values.drift = drift;
    return {
      values,
      counts: {
        candidate: { requests: c.requests, errors: c.errors },
        stable: { requests: s.requests, errors: s.errors },
      },
    };
  }
}
