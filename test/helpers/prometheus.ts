import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { availability, ciCacheDir, findTool, freePort, ownProcess, waitUntil } from './tools.js';

/**
 * A real Prometheus (2.42, from Debian's package) for tests: started on a free 127.0.0.1 port
 * with a generated config that scrapes the given targets every second, its TSDB in a temp dir.
 *
 *   const prom = await startPrometheus({ targets: [serveUrl + '/metrics'] });
 *   await prom.waitForSamples(serveUrl + '/metrics', 2);
 *   await prom.query('sum(mlv_requests_total)');   // → [{ metric: {}, value: 123, ts }]
 *   await prom.stop();
 *
 * The binary: MLV_TEST_PROMETHEUS, else what `.ci/run` extracts
 * ($MLV_CI_CACHE or ~/.cache/mlv-ci)/prometheus/usr/bin/prometheus, else /usr/bin/prometheus.
 * Use `describe.skipIf(prometheus.skip)`: missing → skipped locally, a failure in CI.
 *
 * Timing: ready in ~0.3 s, but the first scrape comes ~5–6 s after the start (2.42's service
 * discovery hands over its targets on a fixed 5 s tick, even static ones; no flag changes it).
 * Start it first, in parallel with the rest of the setup, and `waitForSamples` before measuring.
 */

export const prometheus = availability(
  'prometheus',
  findTool('MLV_TEST_PROMETHEUS', [path.join(ciCacheDir(), 'prometheus/usr/bin/prometheus'), '/usr/bin/prometheus']),
  'run .ci/run (or: apt-get update && apt-get download prometheus && dpkg-deb -x prometheus_*.deb ~/.cache/mlv-ci/prometheus)',
);

export interface PrometheusTarget {
  /** `http://127.0.0.1:8080/metrics`, or `127.0.0.1:8080` (path /metrics). */
  url: string;
  /** Extra target labels (e.g. { track: 'canary' }). */
  labels?: Record<string, string>;
}

export interface StartPrometheusOptions {
  targets: (string | PrometheusTarget)[];
  /** Scrape and rule-evaluation interval (default 1s). */
  interval?: string;
  /** The job label (default "mlv"). */
  job?: string;
  /** Extra scrape_configs entries, as objects, appended after the generated one. */
  extraScrapeConfigs?: Record<string, unknown>[];
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
  /** Sample time, seconds since the epoch. */
  ts: number;
}

export interface RunningPrometheus {
  /** `http://127.0.0.1:PORT`: the Prometheus HTTP API address (the `prometheus` provider's `address`). */
  url: string;
  port: number;
  /** The generated prometheus.yml (as text). */
  config: string;
  /** Instant query; a vector gives one sample per series, a scalar one sample with no labels. */
  query(promql: string): Promise<PromSample[]>;
  /** The value of a query that yields one sample, or undefined when it yields none. */
  value(promql: string): Promise<number | undefined>;
  /** Waits until `target` (as given to startPrometheus) has been scraped successfully `n` times. */
  waitForSamples(target: string, n?: number, timeoutMs?: number): Promise<void>;
  /** The `instance` label Prometheus gives `target` (host:port). */
  instance(target: string): string;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

function parseTarget(t: string | PrometheusTarget): {
  address: string;
  path: string;
  scheme: string;
  labels: Record<string, string>;
} {
  const spec = typeof t === 'string' ? { url: t } : t;
  const u = new URL(/^[a-z]+:\/\//i.test(spec.url) ? spec.url : `http://${spec.url}`);
  return {
    address: u.host,
    path: u.pathname === '/' && !/\/$/.test(spec.url) ? '/metrics' : u.pathname + u.search,
    scheme: u.protocol.replace(':', ''),
    labels: spec.labels ?? {},
  };
}

/** The prometheus.yml for `opts` (exported so the k8s templates test can compare shapes). */
export function prometheusConfig(opts: StartPrometheusOptions): string {
  const interval = opts.interval ?? '1s';
  const timeout = /^1s$/.test(interval) ? '900ms' : interval;
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: timeout },
    scrape_configs: [
      {
        job_name: opts.job ?? 'mlv',
        scrape_interval: interval,
        scrape_timeout: timeout,
        // One static_config per target: Prometheus takes __metrics_path__ and __scheme__ from a
        // target's labels when they are set, so targets may differ in path.
        static_configs: opts.targets.map((t) => {
          const p = parseTarget(t);
          return { targets: [p.address], labels: { __metrics_path__: p.path, __scheme__: p.scheme, ...p.labels } };
        }),
      },
      ...(opts.extraScrapeConfigs ?? []),
    ],
  });
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binary = prometheus.binary;
  if (!binary) throw new Error(prometheus.missing);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlv-prometheus-'));
  const config = prometheusConfig(opts);
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);

  let child: ChildProcess | undefined;
  let port = 0;
  let output = '';
  // The port is picked free and then handed over, so another process may take it in between: retry.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    output = '';
    const proc = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-4000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    try {
      await waitUntil(
        async () => {
          if (exited) return true;
          try {
            return (await fetch(`http://127.0.0.1:${port}/-/ready`)).status === 200;
          } catch {
            return false;
          }
        },
        () => `prometheus on 127.0.0.1:${port} to be ready; its output: ${output}`,
        20_000,
      );
    } catch (err) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    if (!exited) break;
    if (attempt < 3 && /address already in use/i.test(output)) continue;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`prometheus exited at start (code ${proc.exitCode}): ${output}`);
  }
  const proc = child;
  const stop = ownProcess(proc, dir);

  const url = `http://127.0.0.1:${port}`;
  const instance = (target: string) => parseTarget(target).address;

  const query = async (promql: string): Promise<PromSample[]> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (body.status !== 'success' || !body.data)
      throw new Error(`prometheus query ${promql}: ${body.error ?? res.status}`);
    const { resultType, result } = body.data;
    if (resultType === 'scalar') {
      const [ts, v] = result as [number, string];
      return [{ metric: {}, value: Number(v), ts }];
    }
    if (resultType !== 'vector') throw new Error(`prometheus query ${promql}: a ${resultType}, expected a vector`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
      metric: s.metric,
      value: Number(s.value[1]),
      ts: s.value[0],
    }));
  };

  return {
    url,
    port,
    config,
    query,
    instance,
    async value(promql) {
      const samples = await query(promql);
      if (samples.length > 1) throw new Error(`prometheus query ${promql}: ${samples.length} series, expected one`);
      return samples[0]?.value;
    },
    async waitForSamples(target, n = 1, timeoutMs = 10_000) {
      const promql = `sum_over_time(up{instance="${instance(target)}"}[1h])`;
      let seen: number | undefined;
      await waitUntil(
        async () => {
          seen = (await query(promql))[0]?.value;
          return seen !== undefined && seen >= n;
        },
        () => `${n} successful scrapes of ${target} (saw ${seen ?? 0}); prometheus output: ${output}`,
        timeoutMs,
        100,
      );
    },
    stop,
  };
}
