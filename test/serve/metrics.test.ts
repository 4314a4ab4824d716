import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, ServeMetrics } from '../../src/serve/metrics.js';

/** The lines of one metric family in a /metrics text (HELP and TYPE included). */
function family(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter(
      (l) => l.startsWith(`${name}_`) || l.startsWith(`${name}{`) || l.endsWith(` ${name}`) || l.includes(` ${name} `),
    );
}

describe('ServeMetrics: the hot-path series print exactly as prom-client prints its own', () => {
  const latencies = [0.00001, 0.0002, 0.00031, 0.0009, 0.0009, 0.002, 0.0041, 0.02, 0.7, 3, 12];

  it('mlv_request_duration_seconds and mlv_requests_total', async () => {
    const m = new ServeMetrics('churn');
    const a = m.arm('3', 'candidate');
    for (const s of latencies) {
      a.ok.value++;
      a.duration.observe(s);
    }
    m.request('3', 'candidate', 500, 0.004);
    m.request('', 'stable', 400, 0.001);

    // The same observations through prom-client's own Histogram and Counter.
    const r = new client.Registry();
    const h = new client.Histogram({
      name: 'mlv_request_duration_seconds',
      help: 'Request latency from the first byte read to the answer written',
      labelNames: ['model', 'version', 'variant'],
      buckets: DURATION_BUCKETS,
      registers: [r],
    });
    const c = new client.Counter({
      name: 'mlv_requests_total',
      help: 'Answered requests by model version, variant and HTTP status',
      labelNames: ['model', 'version', 'variant', 'code'],
      registers: [r],
    });
    for (const s of [...latencies, 0.004]) h.labels('churn', '3', 'candidate').observe(s);
    c.labels('churn', '3', 'candidate', '200').inc(latencies.length);
    c.labels('churn', '3', 'candidate', '500').inc();
    c.labels('churn', '', 'stable', '400').inc();
    const expected = await r.metrics();

    const text = await m.text();
    expect(family(expected, 'mlv_request_duration_seconds')).toHaveLength(2 + (DURATION_BUCKETS.length + 1) + 2);
    expect(family(text, 'mlv_request_duration_seconds')).toEqual(family(expected, 'mlv_request_duration_seconds'));
    expect(family(text, 'mlv_requests_total')).toEqual(family(expected, 'mlv_requests_total'));
    expect(text).toContain(
      'mlv_request_duration_seconds_bucket{le="0.0005",model="churn",version="3",variant="candidate"} 3',
    );
    expect(text).toContain('mlv_request_duration_seconds_count{model="churn",version="3",variant="candidate"} 12');
  });

  it('a non-finite latency is not observed (prom-client would throw on the request path)', async () => {
    const m = new ServeMetrics('churn');
    m.arm('1', 'stable').duration.observe(Number.NaN);
    expect(await m.text()).toContain(
      'mlv_request_duration_seconds_count{model="churn",version="1",variant="stable"} 0',
    );
  });

  it('classes: counted by name up to 64 per output, the rest as "other"', async () => {
    const m = new ServeMetrics('churn');
    const a = m.arm('1', 'stable');
    for (let i = 0; i < 70; i++) a.predictedClass('label', i);
    a.predictedClass('label', 3);
    a.predictedClass('label', 'cat');
    a.predictedClass('label', 500);
    const text = await m.text();
    expect(text).toContain(
      'mlv_prediction_class_total{model="churn",version="1",variant="stable",output="label",class="3"} 2',
    );
    expect(text).toContain(
      'mlv_prediction_class_total{model="churn",version="1",variant="stable",output="label",class="63"} 1',
    );
    expect(text).not.toContain('class="64"');
    // 64…69, "cat" and 500: eight classes past the limit.
    expect(text).toContain(
      'mlv_prediction_class_total{model="churn",version="1",variant="stable",output="label",class="other"} 8',
    );
  });

  it('route(): a 5xx series at 0 for every arm, so an error rate is 0 rather than empty', async () => {
    const m = new ServeMetrics('churn');
    m.route(4, [
      { name: 'stable', version: '1', weight: 90 },
      { name: 'candidate', version: '2', weight: 10 },
    ]);
    const text = await m.text();
    expect(text).toContain('mlv_requests_total{model="churn",version="2",variant="candidate",code="500"} 0');
    expect(text).toContain('mlv_route_weight{model="churn",variant="candidate",version="2"} 10');
    expect(text).toContain('mlv_route_revision{model="churn"} 4');
  });

  it('shadow comparisons, drops and events', async () => {
    const m = new ServeMetrics('churn');
    m.shadow('2', { absDiff: 0.003, agreeRows: 3, rows: 4, seconds: 0.001 });
    m.shadowDrop('2');
    m.eventWritten('exposure', 5);
    m.eventDropped(2);
    const text = await m.text();
    expect(text).toContain('mlv_shadow_requests_total{model="churn",version="2"} 1');
    expect(text).toContain('mlv_shadow_agreement_total{model="churn",version="2",agree="true"} 3');
    expect(text).toContain('mlv_shadow_agreement_total{model="churn",version="2",agree="false"} 1');
    expect(text).toContain('mlv_shadow_abs_diff_bucket{le="0.01",model="churn",version="2"} 1');
    expect(text).toContain('mlv_shadow_dropped_total{model="churn",version="2"} 1');
    expect(text).toContain('mlv_events_written_total{type="exposure"} 5');
    expect(text).toContain('mlv_events_dropped_total 2');
  });

  it('mlv_events_dropped_total is there at 0 before anything is dropped', async () => {
    expect(await new ServeMetrics('churn').text()).toContain('\nmlv_events_dropped_total 0\n');
  });
});
