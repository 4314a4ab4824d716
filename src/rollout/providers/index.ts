import type { ProviderSpec } from '../../core/rollout/analysis.js';
import { EventsProvider } from './events.js';
import { PrometheusProvider } from './prometheus.js';
import { ServeProvider } from './serve.js';
import type { Provider } from './types.js';

/** One provider instance per distinct spec, so metrics reading the same source share its scrapes. */
export function providerFor(
  spec: ProviderSpec,
  cache: Map<string, Provider>,
  opts: { now?: () => number } = {},
): Provider {
  const key = JSON.stringify(spec);
  let p = cache.get(key);
  if (!p) {
    p =
      spec.kind === 'serve'
        ? new ServeProvider(spec.urls, opts.now ? { now: opts.now } : {})
        : spec.kind === 'prometheus'
          ? new PrometheusProvider(spec.address)
          : new EventsProvider(spec);
    cache.set(key, p);
  }
  return p;
}

export type { Provider, MeasureTarget } from './types.js';
