import client from 'prom-client';

/**
 * The Prometheus metrics of `mlv serve`. Names and labels are an interface: `mlv rollout` and the
 * README's PromQL read them. Label children are cached so the hot path does one Map lookup.
 */

/** Request latency buckets: fine below 10 ms, where a p99 of a few milliseconds lives. */
export const DURATION_BUCKETS = [
  0.0002, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5,
  1, 2.5, 5, 10,
];
const DIFF_BUCKETS = [0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 10];
const VALUE_BUCKETS = [-10, -1, -0.5, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 10, 100];

/**
 * Counts kept as plain numbers on the hot path and handed to prom-client when it is scraped:
 * prom-client hashes and validates the labels on every `inc`, which costs more than the count.
 */
class Tally {
  private readonly pending = new Map<string, { labels: string[]; n: number }>();
  constructor(private readonly counter: () => client.Counter) {}

  add(key: string, labels: () => string[], n = 1): void {
    const p = this.pending.get(key);
    if (p) p.n += n;
    else this.pending.set(key, { labels: labels(), n });
  }

  flush(): void {
    for (const p of this.pending.values()) {
      if (p.n === 0) continue;
      this.counter()
        .labels(...p.labels)
        .inc(p.n);
      p.n = 0;
    }
  }
}

/** At most this many distinct classes per output are counted by name; the rest as "other". */
const MAX_CLASSES = 64;

export class ServeMetrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter;
  private readonly duration: client.Histogram;
  private readonly inferenceErrors: client.Counter;
  private readonly predictionClass: client.Counter;
  private readonly predictionValues: client.Histogram;
  private readonly shadowRequests: client.Counter;
  private readonly shadowDropped: client.Counter;
  private readonly shadowAgreement: client.Counter;
  private readonly shadowAbsDiff: client.Histogram;
  private readonly shadowDuration: client.Histogram;
  private readonly routeWeight: client.Gauge;
  private readonly routeRevision: client.Gauge;
  private readonly modelLoaded: client.Gauge;
  private readonly loadFailures: client.Counter;
  private readonly eventsWritten: client.Counter;
  private readonly eventsDropped: client.Counter;
  private readonly requestTally = new Tally(() => this.requests);
  private readonly classTally = new Tally(() => this.predictionClass);
  private readonly shadowTally = new Tally(() => this.shadowRequests);
  private readonly agreementTally = new Tally(() => this.shadowAgreement);
  private readonly children = new Map<string, { inc(n?: number): void; observe?(v: number): void }>();
  private readonly classes = new Map<string, Set<string>>();

  constructor(readonly model: string) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    type Labels = readonly string[];
    const counter = (name: string, help: string, labelNames: Labels, collect?: () => void) =>
      new client.Counter({ name, help, labelNames, registers, ...(collect ? { collect } : {}) });
    const histogram = (name: string, help: string, labelNames: Labels, buckets: number[]) =>
      new client.Histogram({ name, help, labelNames, buckets, registers });
    const gauge = (name: string, help: string, labelNames: Labels) =>
      new client.Gauge({ name, help, labelNames, registers });
    const MV = ['model', 'version'] as const;
    const MVV = ['model', 'version', 'variant'] as const;
    this.requests = counter(
      'mlv_requests_total',
      'Answered requests by model version, variant and HTTP status',
      ['model', 'version', 'variant', 'code'],
      () => this.requestTally.flush(),
    );
    this.duration = histogram(
      'mlv_request_duration_seconds',
      'Request latency from the first byte read to the answer written',
      MVV,
      DURATION_BUCKETS,
    );
    this.inferenceErrors = counter('mlv_inference_errors_total', 'Inference runs that failed or timed out', MVV);
    this.predictionClass = counter(
      'mlv_prediction_class_total',
      'Predicted classes of class outputs (label tensors, argmax of probabilities)',
      ['model', 'version', 'variant', 'output', 'class'],
      () => this.classTally.flush(),
    );
    this.predictionValues = histogram(
      'mlv_prediction_value',
      'Values of numeric outputs (first element of each row), for drift',
      ['model', 'version', 'variant', 'output'],
      VALUE_BUCKETS,
    );
    this.shadowRequests = counter(
      'mlv_shadow_requests_total',
      'Requests mirrored to the shadow version and compared',
      MV,
      () => this.shadowTally.flush(),
    );
    this.shadowDropped = counter(
      'mlv_shadow_dropped_total',
      'Shadow copies dropped because the shadow queue was full (or the shadow failed)',
      MV,
    );
    this.shadowAgreement = counter(
      'mlv_shadow_agreement_total',
      'Shadow rows by whether their predicted class agrees with the primary answer',
      ['model', 'version', 'agree'],
      () => this.agreementTally.flush(),
    );
    this.shadowAbsDiff = histogram(
      'mlv_shadow_abs_diff',
      'Largest absolute difference between shadow and primary outputs per request',
      MV,
      DIFF_BUCKETS,
    );
    this.shadowDuration = histogram(
      'mlv_shadow_duration_seconds',
      'Time from queueing a shadow copy to its answer',
      MV,
      DURATION_BUCKETS,
    );
    this.routeWeight = gauge('mlv_route_weight', 'Traffic weight (percent) of each variant of the route being served', [
      'model',
      'variant',
      'version',
    ]);
    this.routeRevision = gauge('mlv_route_revision', 'Revision of the route being served', ['model']);
    this.modelLoaded = gauge('mlv_model_loaded', '1 while a model version is loaded and warmed up', MV);
    this.loadFailures = counter(
      'mlv_model_load_failures_total',
      'Model versions that failed to load or to pass their warm-up',
      MV,
    );
    this.eventsWritten = counter('mlv_events_written_total', 'Event log lines written, by type', ['type']);
    this.eventsDropped = counter(
      'mlv_events_dropped_total',
      'Event log lines dropped because the log buffer was full or the file could not be written',
      [],
    );
  }

  private child(metric: client.Counter | client.Histogram, key: string, labels: string[]) {
    let c = this.children.get(key);
    if (!c) {
      c = (metric as client.Counter).labels(...labels) as never;
      this.children.set(key, c!);
    }
    return c!;
  }

  request(version: string, variant: string, code: number, seconds: number): void {
    this.requestTally.add(`${version}\0${variant}\0${code}`, () => [this.model, version, variant, String(code)]);
    if (version !== '') {
      this.child(this.duration, `d\0${version}\0${variant}`, [this.model, version, variant]).observe!(seconds);
    }
  }

  inferenceError(version: string, variant: string): void {
    this.child(this.inferenceErrors, `e\0${version}\0${variant}`, [this.model, version, variant]).inc();
  }

  predictedClass(version: string, variant: string, output: string, cls: string): void {
    const key = `${version}\0${output}`;
    let seen = this.classes.get(key);
    if (!seen) this.classes.set(key, (seen = new Set()));
    if (!seen.has(cls)) {
      if (seen.size >= MAX_CLASSES) cls = 'other';
      else seen.add(cls);
    }
    this.classTally.add(`${version}\0${variant}\0${output}\0${cls}`, () => [this.model, version, variant, output, cls]);
  }

  predictionValue(version: string, variant: string, output: string, value: number): void {
    this.child(this.predictionValues, `v\0${version}\0${variant}\0${output}`, [this.model, version, variant, output])
      .observe!(value);
  }

  /** One compared shadow copy: its largest abs diff, rows agreeing on the class (of `rows`), latency. */
  shadow(
    version: string,
    o: { absDiff: number | null; agreeRows: number | null; rows: number; seconds: number },
  ): void {
    this.shadowTally.add(version, () => [this.model, version]);
    this.child(this.shadowDuration, `st\0${version}`, [this.model, version]).observe!(o.seconds);
    if (o.absDiff !== null) {
      this.child(this.shadowAbsDiff, `sd\0${version}`, [this.model, version]).observe!(o.absDiff);
    }
    if (o.agreeRows !== null) {
      if (o.agreeRows > 0)
        this.agreementTally.add(`${version}\0true`, () => [this.model, version, 'true'], o.agreeRows);
      const disagree = o.rows - o.agreeRows;
      if (disagree > 0) this.agreementTally.add(`${version}\0false`, () => [this.model, version, 'false'], disagree);
    }
  }

  shadowDrop(version: string): void {
    this.child(this.shadowDropped, `sx\0${version}`, [this.model, version]).inc();
  }

  /** The route being served: weights and revision (old variants' series removed). */
  route(revision: number, variants: readonly { name: string; version: string; weight: number }[]): void {
    this.routeWeight.reset();
    for (const v of variants) {
      this.routeWeight.labels(this.model, v.name, v.version).set(v.weight);
      // A 5xx series at 0 from the start: an error-rate query (`code=~"5.."` / all) is then 0 for a
      // healthy arm instead of an empty result, which rollout analysis would take as "no data".
      this.requests.labels(this.model, v.version, v.name, '500').inc(0);
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
    this.child(this.eventsWritten, `ew\0${type}`, [type]).inc(n);
  }

  eventDropped(n = 1): void {
    this.eventsDropped.inc(n);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
