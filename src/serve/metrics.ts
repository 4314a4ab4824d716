import client from 'prom-client';

/**
 * The Prometheus metrics of `mlv serve`. Names and labels are an interface: `mlv rollout` and the
 * README's PromQL read them.
 *
 * The per-request ones (requests, latency, classes, values, shadow comparisons) are kept here as
 * plain numbers in series objects that the hot path holds on to (one `Arm` per version × variant):
 * prom-client validates and hashes the labels on every `inc`/`observe`, which costs more than the
 * count itself. They are registered in prom-client's registry as collectors, so `/metrics` prints
 * them exactly as prom-client prints its own, next to its gauges and the default process metrics.
 */

/** Request latency buckets: fine below 10 ms, where a p99 of a few milliseconds lives. */
export const DURATION_BUCKETS = [
  0.0002, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5,
  1, 2.5, 5, 10,
];
const DIFF_BUCKETS = [0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 10];
const VALUE_BUCKETS = [-10, -1, -0.5, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 10, 100];

type Labels = Record<string, string>;
type Sample = { labels: Labels; sharedLabels?: Labels; value: number; metricName?: string };

/** One series of a LocalCounter: add to `value`. */
export interface CounterSeries {
  value: number;
}

/**
 * A metric whose series are plain objects held by the request path, registered in prom-client's
 * registry, which calls `get()` when `/metrics` is scraped.
 */
abstract class LocalMetric<S> {
  protected readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: client.Registry,
  ) {
    registry.registerMetric(this as unknown as client.Metric);
  }

  protected abstract make(labels: Labels): S;

  /** The series for `key`, created with `labels()` the first time. */
  at(key: string, labels: () => Labels): S {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = this.make(labels())));
    return s;
  }

  /** prom-client's registry calls this on reset; nothing else does. */
  reset(): void {
    this.series.clear();
  }
}

/** A counter: each series' `value` is added to. */
class LocalCounter extends LocalMetric<{ labels: Labels; value: number }> {
  readonly type = 'counter';

  protected make(labels: Labels) {
    return { labels, value: 0 };
  }

  get() {
    const values: Sample[] = [];
    for (const s of this.series.values()) values.push({ labels: s.labels, value: s.value });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

/** One series of a LocalHistogram. */
export class HistogramSeries {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last one: above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** A histogram printed as prom-client prints its own: `_bucket{le=…}` (cumulative), `_sum`, `_count`. */
class LocalHistogram extends LocalMetric<HistogramSeries> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
    registry: client.Registry,
  ) {
    super(name, help, registry);
  }

  protected make(labels: Labels) {
    return new HistogramSeries(labels, this.bounds);
  }

  get() {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ labels: { le: String(le) }, sharedLabels: s.labels, value: acc, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

/** At most this many distinct classes per output are counted by name; the rest as "other". */
const MAX_CLASSES = 64;

/**
 * The series of one version × variant, held by the request path: counting an answer is a few
 * additions, with no label work.
 */
export class Arm {
  private readonly byCode = new Map<number, CounterSeries>();
  private readonly classes = new Map<string, OutputClasses>();
  private readonly values = new Map<string, HistogramSeries>();
  readonly ok: CounterSeries;
  readonly duration: HistogramSeries;

  constructor(
    private readonly m: ServeMetrics,
    readonly version: string,
    readonly variant: string,
  ) {
    this.ok = this.code(200);
    this.duration = m.durationSeries(version, variant);
  }

  /** The requests series of one status code. */
  code(code: number): CounterSeries {
    let s = this.byCode.get(code);
    if (!s) this.byCode.set(code, (s = this.m.requestSeries(this.version, this.variant, code)));
    return s;
  }

  /** Counts a predicted class of `output`: the first MAX_CLASSES distinct ones by name, the rest as "other". */
  predictedClass(output: string, cls: number | string | boolean): void {
    let c = this.classes.get(output);
    if (!c) this.classes.set(output, (c = { small: [], named: new Map(), other: undefined }));
    // Small class indices (the usual case) skip the string conversion and the map.
    const small = typeof cls === 'number' && Number.isInteger(cls) && cls >= 0 && cls < 256;
    let s = small ? c.small[cls] : undefined;
    if (!s) {
      const name = String(cls);
      s = c.named.get(name);
      if (!s) {
        if (c.named.size < MAX_CLASSES)
          c.named.set(name, (s = this.m.classSeries(this.version, this.variant, output, name)));
        else s = c.other ??= this.m.classSeries(this.version, this.variant, output, 'other');
      }
      if (small && c.named.get(name) === s) c.small[cls] = s;
    }
    s.value++;
  }

  predictionValue(output: string, x: number): void {
    let s = this.values.get(output);
    if (!s) this.values.set(output, (s = this.m.valueSeries(this.version, this.variant, output)));
    s.observe(x);
  }
}

interface OutputClasses {
  small: CounterSeries[];
  named: Map<string, CounterSeries>;
  other: CounterSeries | undefined;
}

export class ServeMetrics {
  readonly registry = new client.Registry();
  private readonly requests: LocalCounter;
  private readonly duration: LocalHistogram;
  private readonly inferenceErrors: LocalCounter;
  private readonly predictionClass: LocalCounter;
  private readonly predictionValues: LocalHistogram;
  private readonly shadowRequests: LocalCounter;
  private readonly shadowDropped: LocalCounter;
  private readonly shadowAgreement: LocalCounter;
  private readonly shadowAbsDiff: LocalHistogram;
  private readonly shadowDuration: LocalHistogram;
  private readonly routeWeight: client.Gauge;
  private readonly routeRevision: client.Gauge;
  private readonly modelLoaded: client.Gauge;
  private readonly loadFailures: client.Counter;
  private readonly eventsWritten: LocalCounter;
  private readonly eventsDropped: LocalCounter;
  private readonly arms = new Map<string, Arm>();

  constructor(readonly model: string) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r });
    const gauge = (name: string, help: string, labelNames: readonly string[]) =>
      new client.Gauge({ name, help, labelNames, registers: [r] });
    this.requests = new LocalCounter(
      'mlv_requests_total',
      'Answered requests by model version, variant and HTTP status',
      r,
    );
    this.duration = new LocalHistogram(
      'mlv_request_duration_seconds',
      'Request latency from the first byte read to the answer written',
      DURATION_BUCKETS,
      r,
    );
    this.inferenceErrors = new LocalCounter('mlv_inference_errors_total', 'Inference runs that failed or timed out', r);
    this.predictionClass = new LocalCounter(
      'mlv_prediction_class_total',
      'Predicted classes of class outputs (label tensors, argmax of probabilities)',
      r,
    );
    this.predictionValues = new LocalHistogram(
      'mlv_prediction_value',
      'Values of numeric outputs (first element of each row), for drift',
      VALUE_BUCKETS,
      r,
    );
    this.shadowRequests = new LocalCounter(
      'mlv_shadow_requests_total',
      'Requests mirrored to the shadow version and compared',
      r,
    );
    this.shadowDropped = new LocalCounter(
      'mlv_shadow_dropped_total',
      'Shadow copies dropped because the shadow queue was full (or the shadow failed)',
      r,
    );
    this.shadowAgreement = new LocalCounter(
      'mlv_shadow_agreement_total',
      'Shadow rows by whether their predicted class agrees with the primary answer',
      r,
    );
    this.shadowAbsDiff = new LocalHistogram(
      'mlv_shadow_abs_diff',
      'Largest absolute difference between shadow and primary outputs per request',
      DIFF_BUCKETS,
      r,
    );
    this.shadowDuration = new LocalHistogram(
      'mlv_shadow_duration_seconds',
      'Time from queueing a shadow copy to its answer',
      DURATION_BUCKETS,
      r,
    );
    this.routeWeight = gauge('mlv_route_weight', 'Traffic weight (percent) of each variant of the route being served', [
      'model',
      'variant',
      'version',
    ]);
    this.routeRevision = gauge('mlv_route_revision', 'Revision of the route being served', ['model']);
    this.modelLoaded = gauge('mlv_model_loaded', '1 while a model version is loaded and warmed up', [
      'model',
      'version',
    ]);
    this.loadFailures = new client.Counter({
      name: 'mlv_model_load_failures_total',
      help: 'Model versions that failed to load or to pass their warm-up',
      labelNames: ['model', 'version'],
      registers: [r],
    });
    this.eventsWritten = new LocalCounter('mlv_events_written_total', 'Event log lines written, by type', r);
    this.eventsDropped = new LocalCounter(
      'mlv_events_dropped_total',
      'Event log lines dropped because the log buffer was full or the file could not be written',
      r,
    );
    this.eventsDropped.at('', () => ({}));
  }

  /** The series of `version` × `variant`, made once and kept. */
  arm(version: string, variant: string): Arm {
    const key = `${version}\0${variant}`;
    let a = this.arms.get(key);
    if (!a) this.arms.set(key, (a = new Arm(this, version, variant)));
    return a;
  }

  /** @internal Arm's series. */
  requestSeries(version: string, variant: string, code: number): CounterSeries {
    return this.requests.at(`${version}\0${variant}\0${code}`, () => ({
      model: this.model,
      version,
      variant,
      code: String(code),
    }));
  }

  durationSeries(version: string, variant: string): HistogramSeries {
    return this.duration.at(`${version}\0${variant}`, () => ({ model: this.model, version, variant }));
  }

  classSeries(version: string, variant: string, output: string, cls: string): CounterSeries {
    return this.predictionClass.at(`${version}\0${variant}\0${output}\0${cls}`, () => ({
      model: this.model,
      version,
      variant,
      output,
      class: cls,
    }));
  }

  valueSeries(version: string, variant: string, output: string): HistogramSeries {
    return this.predictionValues.at(`${version}\0${variant}\0${output}`, () => ({
      model: this.model,
      version,
      variant,
      output,
    }));
  }

  /**
   * An answer that did not come from a version (4xx before assignment): counted under an empty
   * version so error rates see it, with no latency series.
   */
  request(version: string, variant: string, code: number, seconds: number): void {
    if (version === '') {
      this.requestSeries(version, variant, code).value++;
      return;
    }
    const a = this.arm(version, variant);
    a.code(code).value++;
    a.duration.observe(seconds);
  }

  inferenceError(version: string, variant: string): void {
    this.inferenceErrors.at(`${version}\0${variant}`, () => ({ model: this.model, version, variant })).value++;
  }

  /** One compared shadow copy: its largest abs diff, rows agreeing on the class (of `rows`), latency. */
  shadow(
    version: string,
    o: { absDiff: number | null; agreeRows: number | null; rows: number; seconds: number },
  ): void {
    const mv = () => ({ model: this.model, version });
    this.shadowRequests.at(version, mv).value++;
    this.shadowDuration.at(version, mv).observe(o.seconds);
    if (o.absDiff !== null) this.shadowAbsDiff.at(version, mv).observe(o.absDiff);
    if (o.agreeRows !== null) {
      const agree = (a: 'true' | 'false') => () => ({ model: this.model, version, agree: a });
      if (o.agreeRows > 0) this.shadowAgreement.at(`${version}\0true`, agree('true')).value += o.agreeRows;
      const disagree = o.rows - o.agreeRows;
      if (disagree > 0) this.shadowAgreement.at(`${version}\0false`, agree('false')).value += disagree;
    }
  }

  shadowDrop(version: string): void {
    this.shadowDropped.at(version, () => ({ model: this.model, version })).value++;
  }

  /** The route being served: weights and revision (old variants' series removed). */
  route(revision: number, variants: readonly { name: string; version: string; weight: number }[]): void {
    this.routeWeight.reset();
    for (const v of variants) {
      this.routeWeight.labels(this.model, v.name, v.version).set(v.weight);
      // A 5xx series at 0 from the start: an error-rate query (`code=~"5.."` / all) is then 0 for a
      // healthy arm instead of an empty result, which rollout analysis would take as "no data".
      this.arm(v.version, v.name).code(500);
    }
    this.routeRevision.labels(this.model).set(revision);
  }

  loaded(version: string, loaded: boolean): void {
    if (loaded) this.modelLoaded.labels(this.model, version).set(1);
    else this.modelLoaded.remove(this.model, version);
  }

  loadFailure(version: string): void {
    this.loadFailures.labels(this.model, version).inc();
  }

  eventWritten(type: string, n = 1): void {
    this.eventsWritten.at(type, () => ({ type })).value += n;
  }

  eventDropped(n = 1): void {
    this.eventsDropped.at('', () => ({})).value += n;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
