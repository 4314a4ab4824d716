import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';

/**
 * A stand-in for `mlv serve`'s /metrics: prom-client itself, with the metric names and labels
 * pinned by issue 8, so the serve provider is tested against the real exposition format.
 */
export class FakeServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'mlv_requests_total',
    help: 'Requests answered',
    labelNames: ['model', 'version', 'variant', 'code'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'mlv_request_duration_seconds',
    help: 'Request duration',
    labelNames: ['model', 'version', 'variant'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly classes = new Counter({
    name: 'mlv_prediction_class_total',
    help: 'Predicted classes',
    labelNames: ['model', 'version', 'variant', 'output', 'class'],
    registers: [this.registry],
  });
  server: http.Server | undefined;
  url = '';
  /** Answer 500 to scrapes while true. */
  broken = false;

  async listen(): Promise<string> {
    this.server = http.createServer((req, res) => {
      if (this.broken) {
        res.writeHead(500).end('boom');
        return;
      }
      void this.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/metrics`;
    return this.url;
  }

  /** `n` requests of one version: `errors` of them 500, each taking `seconds`, predicting `cls`. */
  record(
    model: string,
    version: string,
    variant: string,
    n: number,
    opts: { errors?: number; seconds?: number; cls?: string } = {},
  ) {
    const errors = opts.errors ?? 0;
    if (n - errors > 0) this.requests.inc({ model, version, variant, code: '200' }, n - errors);
    if (errors > 0) this.requests.inc({ model, version, variant, code: '500' }, errors);
    for (let i = 0; i < n; i++) this.duration.observe({ model, version, variant }, opts.seconds ?? 0.002);
    if (opts.cls !== undefined && n - errors > 0)
      this.classes.inc({ model, version, variant, output: 'label', class: opts.cls }, n - errors);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
    await closed;
  }
}
