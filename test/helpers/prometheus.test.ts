import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheus, prometheusConfig, startPrometheus, type RunningPrometheus } from './prometheus.js';

// The helper itself, against a real Prometheus: a prom-client counter on a node:http /metrics is
// scraped every second and read back through the HTTP API.
describe.skipIf(prometheus.skip)('test/helpers/prometheus (real Prometheus)', () => {
  const registry = new Registry();
  const requests = new Counter({
    name: 'mlv_requests_total',
    help: 'requests',
    labelNames: ['model', 'variant', 'code'] as const,
    registers: [registry],
  });
  let server: http.Server;
  let target: string;
  let prom: RunningPrometheus;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      void registry.metrics().then((text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    requests.inc({ model: 'churn', variant: 'candidate', code: '200' }, 7);
    requests.inc({ model: 'churn', variant: 'stable', code: '500' }, 2);
    prom = await startPrometheus({ targets: [{ url: target, labels: { track: 'canary' } }] });
  });

  afterAll(async () => {
    await prom?.stop();
    await new Promise((r) => server?.close(r));
  });

  it('scrapes the target every second and answers PromQL with what the counter holds', async () => {
    await prom.waitForSamples(target, 2);
    expect(await prom.value('sum(mlv_requests_total{model="churn",variant="candidate"})')).toBe(7);
    const byVariant = await prom.query('sum by (variant, code) (mlv_requests_total)');
    expect(byVariant.map((s) => [s.metric.variant, s.metric.code, s.value]).sort()).toEqual([
      ['candidate', '200', 7],
      ['stable', '500', 2],
    ]);
    // Target labels and the instance label come from the generated config.
    const [series] = await prom.query('mlv_requests_total{variant="stable"}');
    expect(series!.metric).toMatchObject({ job: 'mlv', track: 'canary', instance: prom.instance(target) });

    // A later increment shows up within a couple of scrapes.
    requests.inc({ model: 'churn', variant: 'candidate', code: '200' }, 5);
    const deadline = Date.now() + 5000;
    let seen: number | undefined;
    while (Date.now() < deadline && (seen = await prom.value('sum(mlv_requests_total{variant="candidate"})')) !== 12)
      await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBe(12);
    expect(await prom.value('vector(1) > 2')).toBeUndefined();
  });

  it('rejects a bad query with its error, and is unreachable once stopped', async () => {
    await expect(prom.query('sum(')).rejects.toThrow(/prometheus query sum\(: .*parse error/);
    await prom.stop();
    await expect(fetch(`${prom.url}/-/ready`)).rejects.toThrow();
    await prom.stop(); // idempotent
  });
});

describe('prometheusConfig', () => {
  it('scrapes each target on its own path every second', () => {
    const cfg = prometheusConfig({ targets: ['127.0.0.1:9', 'http://127.0.0.1:8/x/metrics'] });
    expect(cfg).toContain('scrape_interval: 1s');
    expect(cfg).toContain('__metrics_path__: /metrics');
    expect(cfg).toContain('__metrics_path__: /x/metrics');
    expect(cfg).toMatch(/targets:\s+- 127\.0\.0\.1:8\b/);
  });
});
