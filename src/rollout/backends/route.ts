import { canaryRoute, type RouteSpec } from '../../core/serve/route.js';
import { fmtValue } from '../../core/rollout/expression.js';
import type { MlflowClient } from '../../mlflow/client.js';
import { readRoute, writeRoute } from '../../serve/route-store.js';
import type { Backend, TrafficTarget } from './types.js';

/**
 * The `route` backend (default): the route `mlv serve` polls, in the registry. Shadow phase: stable
 * takes everything and the candidate gets a copy of every request; progressing: a canary at the
 * weight; rolled back or aborted: the candidate at weight 0; promoted: the candidate alone as the
 * new stable. The route's experiment and salt are kept, so units stay in their buckets across steps.
 * writeRoute reads the route back and fails unless it is what was written.
 */
export class RouteBackend implements Backend {
  readonly kind = 'route';
  constructor(
    private readonly client: MlflowClient,
    private readonly model: string,
    private readonly opts: { by: string; now: () => Date; signal?: AbortSignal },
  ) {}

  async check(): Promise<void> {
    await readRoute(this.client, this.model, this.call());
  }

  private call() {
    return this.opts.signal ? { signal: this.opts.signal } : {};
  }

  /** The route for a target, keeping experiment, salt and a shadow that is not the candidate. */
  static spec(
    model: string,
    t: TrafficTarget,
    current: { experiment?: string; salt?: string; shadow?: RouteSpec['shadow'] } | null,
  ): RouteSpec {
    const keep = current?.shadow && current.shadow.version !== t.candidate.version ? current.shadow : null;
    const base = {
      model,
      ...(current?.experiment !== undefined ? { experiment: current.experiment } : {}),
      ...(current?.salt !== undefined ? { salt: current.salt } : {}),
    };
    if (t.phase === 'promoted') return canaryRoute({ ...base, stable: t.candidate, candidate: null, shadow: keep });
    if (t.phase === 'shadow')
      return canaryRoute({ ...base, stable: t.stable, candidate: null, shadow: { ...t.candidate, percent: 100 } });
    return canaryRoute({ ...base, stable: t.stable, candidate: { ...t.candidate, weight: t.weight }, shadow: keep });
  }

  async apply(t: TrafficTarget): Promise<string> {
    const current = await readRoute(this.client, this.model, this.call());
    const spec = RouteBackend.spec(this.model, t, current);
    const stored = await writeRoute(this.client, this.model, spec, {
      by: this.opts.by,
      now: this.opts.now(),
      expectRevision: current?.revision ?? 0,
      ...this.call(),
    });
    const c = stored.candidate;
    return `route revision ${stored.revision}: stable v${stored.stable.version}${c ? `, candidate v${c.version} at ${fmtValue(c.weight)}%` : ''}${stored.shadow ? `, shadow v${stored.shadow.version} ${fmtValue(stored.shadow.percent)}%` : ''}`;
  }
}
