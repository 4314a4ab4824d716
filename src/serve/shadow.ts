import { performance } from 'node:perf_hooks';
import { classAgreement } from '../core/smoke/compare.js';
import { elementCount, numberAt, type HostTensor } from '../core/smoke/tensor.js';
import type { Tensors } from './inference.js';
import type { ServeMetrics } from './metrics.js';
import type { LoadedVersion } from './versions.js';

/**
 * Shadow traffic: a copy of a request goes to the shadow version after the primary has answered.
 * Copies wait in a bounded queue (full → dropped and counted) and run on the shadow's own worker
 * thread, so the primary answer and its latency never depend on the shadow. Only the comparison is
 * kept: the largest absolute difference per output, class agreement, and the shadow's latency.
 */
export class Shadow {
  private pending = 0;
  compared = 0;
  dropped = 0;

  constructor(
    private readonly metrics: ServeMetrics,
    private readonly queueMax: number,
  ) {}

  offer(shadow: LoadedVersion, feeds: Tensors, primary: Tensors): void {
    if (this.pending >= this.queueMax || shadow.released) {
      this.dropped++;
      this.metrics.shadowDrop(shadow.version);
      return;
    }
    this.pending++;
    shadow.inFlight++;
    const start = performance.now();
    shadow.batcher.submit(feeds, Number.POSITIVE_INFINITY, (err, out) => {
      this.pending--;
      shadow.inFlight--;
      if (err !== null) {
        this.dropped++;
        this.metrics.shadowDrop(shadow.version);
        return;
      }
      this.compare(shadow.version, out!, primary, (performance.now() - start) / 1000);
    });
  }

  private compare(version: string, out: Tensors, primary: Tensors, seconds: number): void {
    let maxDiff: number | null = null;
    const pairs: { candidate: string; baseline: string }[] = [];
    for (const [name, t] of Object.entries(out)) {
      const p = primary[name];
      if (!p) continue;
      pairs.push({ candidate: name, baseline: name });
      const d = maxAbsDiff(t, p);
      if (d !== null) maxDiff = Math.max(maxDiff ?? 0, d);
    }
    const agreement = classAgreement(out, primary, pairs);
    let agreeRows: number | null = null;
    let rows = 0;
    if (agreement) {
      rows = agreement.rows;
      agreeRows = Math.round(agreement.rate * agreement.rows);
    }
    this.compared++;
    this.metrics.shadow(version, { absDiff: maxDiff, agreeRows, rows, seconds });
  }
}

/**
 * The largest |shadow − primary| over the elements of one output; null when the two are not
 * comparable numbers (other shapes, strings). A NaN on one side only counts as an infinite
 * difference, NaN on both sides as none.
 */
function maxAbsDiff(a: HostTensor, b: HostTensor): number | null {
  if (a.type === 'string' || b.type === 'string' || a.dims.length !== b.dims.length) return null;
  for (let k = 0; k < a.dims.length; k++) if (a.dims[k] !== b.dims[k]) return null;
  const n = elementCount(a.dims);
  let max = 0;
  const plain =
    a.type !== 'float16' && b.type !== 'float16' && typeof a.data[0] === 'number' && typeof b.data[0] === 'number';
  for (let i = 0; i < n; i++) {
    const x = plain ? (a.data[i] as number) : numberAt(a, i);
    const y = plain ? (b.data[i] as number) : numberAt(b, i);
    const d = Math.abs(x - y);
    if (d > max) max = d;
    else if (Number.isNaN(d) && Number.isNaN(x) !== Number.isNaN(y)) max = Number.POSITIVE_INFINITY;
  }
  return max;
}
