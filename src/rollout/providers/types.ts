import type { AnalysisMetric } from '../../core/rollout/analysis.js';
import type { Measurement } from '../../core/rollout/measurement.js';

/** What a provider needs to know about the rollout it measures. */
export interface MeasureTarget {
  model: string;
  candidateVersion: string;
  stableVersion: string;
  signal?: AbortSignal;
}

/**
 * A metrics source. `measure` never throws for a source that is down or answers nonsense: it
 * returns `{error}` (counted toward consecutiveErrorLimit). `baseline` marks the start of a window
 * (a step began, or the controller started); `check` is `rollout start`'s reachability test.
 */
export interface Provider {
  measure(metric: AnalysisMetric, target: MeasureTarget): Promise<Measurement>;
  baseline(target: MeasureTarget): Promise<void>;
  check(target: MeasureTarget): Promise<void>;
}

/** One HTTP GET with a deadline; the error message names the URL (never credentials: none are sent). */
export async function httpGet(url: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, deadline]) : deadline }).catch(
    (err: unknown) => {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = deadline.aborted
        ? `no answer within ${timeoutMs} ms`
        : cause?.code === 'UND_ERR_SOCKET'
          ? 'connection closed'
          : (cause?.code ?? cause?.message ?? String(err));
      throw new Error(`${new URL(url).origin}: ${why}`);
    },
  );
  const body = await res.text();
  if (!res.ok)
    throw new Error(`${new URL(url).origin}${new URL(url).pathname}: HTTP ${res.status} ${body.slice(0, 200).trim()}`);
  return body;
}

export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
