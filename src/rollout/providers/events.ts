import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalysisMetric } from '../../core/rollout/analysis.js';
import { analyzeExperiment, DEFAULT_ANALYSIS_OPTIONS } from '../../core/experiment/analyze.js';
import type { Measurement } from '../../core/rollout/measurement.js';
import { errorMessage, type MeasureTarget, type Provider } from './types.js';

/**
 * The `events` provider (business metrics): runs mlv analyze's engine over `mlv serve`'s exposure
 * and feedback logs (JSON Lines; a directory means its *.jsonl files), the arms being serve's
 * variants `stable` (control) and `candidate`. The query names the metric (`conversion`); it is a
 * primary metric, tested two-sided with the always-valid sequential p-value (so looking every interval is fine).
 * Values for the conditions: `result` (candidate rate or mean), `stable`, `requests` (candidate
 * units), `p_value`, and `worse` = 1 when the candidate is significantly worse — the default
 * condition is `worse == 0`. Both arms need units, else the measurement is "no data".
 */
export class EventsProvider implements Provider {
  constructor(
    private readonly spec: { paths: string[]; experiment: string | null; type: 'proportion' | 'mean'; alpha: number },
  ) {}

  async baseline(): Promise<void> {}

  async check(): Promise<void> {
    for (const p of this.spec.paths)
      await stat(p).catch(() => Promise.reject(new Error(`${p}: no such file or directory`)));
  }

  private async files(): Promise<string[]> {
    const out: string[] = [];
    for (const p of this.spec.paths) {
      const st = await stat(p);
      if (st.isDirectory()) {
        const names = (await readdir(p)).filter((n) => n.endsWith('.jsonl') || n.endsWith('.jsonl.gz')).sort();
        out.push(...names.map((n) => join(p, n)));
      } else out.push(p);
    }
    return out;
  }

  async measure(metric: AnalysisMetric, target: MeasureTarget): Promise<Measurement> {
    const { eventSource, readEvents } = await import('../../io/events.js');
    let data;
    try {
      const files = await this.files();
      if (files.length === 0) return { values: { result: null, requests: 0 } };
      data = await readEvents(
        files.map((f) => eventSource(f, { cwd: process.cwd(), stdin: process.stdin })),
        { experiment: this.spec.experiment ?? target.model, metrics: [{ name: metric.query, type: this.spec.type }] },
      );
    } catch (err) {
      return { error: errorMessage(err) };
    }
    const n = (v: string) => data.variants.find((x) => x.variant === v)?.n ?? 0;
    if (n('candidate') === 0 || n('stable') === 0) return { values: { result: null, requests: n('candidate') } };
    const data2 = {
      ...data,
      variants: data.variants.filter((v) => v.variant === 'stable' || v.variant === 'candidate'),
    };
    data2.metrics = data.metrics.map((m) => ({
      ...m,
      arms: m.arms.filter((a) => a.variant === 'stable' || a.variant === 'candidate'),
    }));
    const r = analyzeExperiment(data2, {
      ...DEFAULT_ANALYSIS_OPTIONS,
      alpha: this.spec.alpha,
      controlVariant: 'stable',
      sequential: true,
      roles: [{ name: metric.query, guardrail: false, lowerIsBetter: false }],
    });
    const m = r.metrics[0]!;
    const arm = (v: string) => m.arms.find((a) => a.variant === v);
    const value = (v: string) => arm(v)?.rate ?? arm(v)?.mean ?? null;
    const cmp = m.comparisons[0]!;
    return {
      values: {
        result: value('candidate'),
        stable: value('stable'),
        requests: n('candidate'),
        p_value: cmp.p_value, // sequential: true makes it the always-valid p-value
        worse: cmp.verdict === 'treatment_worse' ? 1 : 0,
      },
    };
  }
}
