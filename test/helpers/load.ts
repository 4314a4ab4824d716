import http from 'node:http';
import { mulberry32 } from '../../src/core/smoke/random.js';

/**
 * HTTP load from the test process, for the serve and rollout end-to-end tests: bounded in count
 * and in time, keep-alive (one node:http Agent, `concurrency` sockets), each request with an
 * X-Unit-Id from a seeded generator, counted by status and by the `X-Mlv-Variant` answer header.
 *
 *   const r = await load({ url: `${base}/invocations`, body: { inputs: [[1, 2, 3, 4]] }, requests: 2000 });
 *   r.byVariant  // { stable: 1503, candidate: 497 }
 *   r.byStatus   // { '200': 2000 }
 *
 *   const bg = startLoad({ url, body, requests: Infinity, durationMs: 20_000, ratePerSecond: 200 });
 *   …; const r = await bg.stop();   // or await bg.done
 */

export interface LoadOptions {
  url: string;
  /** Requests to send at most (Infinity: until durationMs or stop()). */
  requests: number;
  /** Stop starting requests after this long (default 10 s); those in flight still finish. */
  durationMs?: number;
  /** Requests in flight at once, and sockets kept alive (default 8). */
  concurrency?: number;
  /** Start at most this many requests per second overall (default: as fast as answers come). */
  ratePerSecond?: number;
  /** Default POST when there is a body, else GET. */
  method?: string;
  /** A JSON body (objects are stringified), or one per request. */
  body?: unknown | ((req: { unit: string | undefined; i: number }) => unknown);
  headers?: Record<string, string>;
  /**
   * Units for the X-Unit-Id header: drawn uniformly from `pool` ids `${prefix}${k}` (default
   * `unit-`, pool 1e6) with mulberry32(seed) (default seed 1), so two runs with one seed send the
   * same units in the same order. `false` sends no unit header.
   */
  units?: { seed?: number; pool?: number; prefix?: string; header?: string } | false;
  /** Per-request deadline (default 5 s); a request past it counts as an error. */
  timeoutMs?: number;
  /** Called for every answer (status 0 and `error` for a request that got none). */
  onResponse?: (r: LoadResponse) => void;
}

export interface LoadResponse {
  i: number;
  unit: string | undefined;
  status: number;
  variant: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
  latencyMs: number;
  error?: Error;
}

export interface LoadResult {
  /** Requests started (= completed + errors once done). */
  sent: number;
  /** Requests answered, whatever the status. */
  completed: number;
  /** Requests that got no answer (connection refused or reset, timeout). */
  errors: number;
  /** Answers by HTTP status, e.g. { '200': 1990, '503': 10 }. */
  byStatus: Record<string, number>;
  /** Answers by X-Mlv-Variant (`none` when the header is missing), e.g. { stable: 1500, candidate: 500 }. */
  byVariant: Record<string, number>;
  /** byStatus within each variant: { candidate: { '200': 480, '500': 20 } }. */
  byVariantStatus: Record<string, Record<string, number>>;
  /** The first few error messages (to print when an assertion fails). */
  errorMessages: string[];
  durationMs: number;
  latencyMs: { p50: number; p99: number; max: number };
}

export interface RunningLoad {
  /** Resolves when the count or the time bound is reached (or after stop()). */
  done: Promise<LoadResult>;
  /** Stops starting requests, waits for those in flight, and resolves with the result. */
  stop(): Promise<LoadResult>;
  /** The counts so far. */
  snapshot(): LoadResult;
}

/** A seeded unit-id generator: ids `${prefix}${k}`, k uniform in [0, pool), from mulberry32(seed). */
export function unitIds(seed = 1, pool = 1_000_000, prefix = 'unit-'): () => string {
  const rand = mulberry32(seed);
  return () => `${prefix}${Math.floor(rand() * pool)}`;
}

export function load(opts: LoadOptions): Promise<LoadResult> {
  return startLoad(opts).done;
}

export function startLoad(opts: LoadOptions): RunningLoad {
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const durationMs = opts.durationMs ?? 10_000;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const target = new URL(opts.url);
  if (target.protocol !== 'http:') throw new Error(`load: only http:// URLs, got ${opts.url}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const nextUnit =
    opts.units === false ? () => undefined : unitIds(opts.units?.seed, opts.units?.pool, opts.units?.prefix);
  const unitHeader = (opts.units !== false && opts.units?.header) || 'X-Unit-Id';
  const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');

  const start = performance.now();
  const result: LoadResult = {
    sent: 0,
    completed: 0,
    errors: 0,
    byStatus: {},
    byVariant: {},
    byVariantStatus: {},
    errorMessages: [],
    durationMs: 0,
    latencyMs: { p50: 0, p99: 0, max: 0 },
  };
  const latencies: number[] = [];
  let stopped = false;

  const snapshot = (): LoadResult => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const q = (p: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : 0;
    return {
      ...result,
      byStatus: { ...result.byStatus },
      byVariant: { ...result.byVariant },
      byVariantStatus: Object.fromEntries(Object.entries(result.byVariantStatus).map(([k, v]) => [k, { ...v }])),
      errorMessages: [...result.errorMessages],
      durationMs: performance.now() - start,
      latencyMs: { p50: q(0.5), p99: q(0.99), max: sorted.at(-1) ?? 0 },
    };
  };

  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const unit = nextUnit();
      const raw = typeof opts.body === 'function' ? (opts.body as (r: object) => unknown)({ unit, i }) : opts.body;
      const payload = raw === undefined ? undefined : typeof raw === 'string' ? raw : JSON.stringify(raw);
      const headers: Record<string, string | number> = { ...opts.headers };
      if (unit !== undefined) headers[unitHeader] = unit;
      if (payload !== undefined) {
        headers['Content-Type'] ??= 'application/json';
        headers['Content-Length'] = Buffer.byteLength(payload);
      }
      const t0 = performance.now();
      let settled = false;
      const finish = (r: Omit<LoadResponse, 'i' | 'unit' | 'latencyMs'>) => {
        if (settled) return;
        settled = true;
        const latencyMs = performance.now() - t0;
        if (r.error) {
          result.errors++;
          if (result.errorMessages.length < 5) result.errorMessages.push(r.error.message);
        } else {
          result.completed++;
          latencies.push(latencyMs);
          const status = String(r.status);
          const variant = r.variant ?? 'none';
          result.byStatus[status] = (result.byStatus[status] ?? 0) + 1;
          result.byVariant[variant] = (result.byVariant[variant] ?? 0) + 1;
          const vs = (result.byVariantStatus[variant] ??= {});
          vs[status] = (vs[status] ?? 0) + 1;
        }
        opts.onResponse?.({ ...r, i, unit, latencyMs });
        resolve();
      };
      const req = http.request(target, { method, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const v = res.headers['x-mlv-variant'];
          finish({
            status: res.statusCode ?? 0,
            variant: Array.isArray(v) ? v[0] : v,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          });
        });
        res.on('error', (error) => finish({ status: 0, variant: undefined, headers: {}, body: '', error }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error) => finish({ status: 0, variant: undefined, headers: {}, body: '', error }));
      req.end(payload);
    });

  let next = 0;
  const worker = async () => {
    for (;;) {
      if (stopped || next >= opts.requests || performance.now() - start >= durationMs) return;
      const i = next++;
      if (opts.ratePerSecond !== undefined) {
        const due = start + (i * 1000) / opts.ratePerSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (stopped || performance.now() - start >= durationMs) return;
      }
      result.sent++;
      await one(i);
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
    agent.destroy();
    return snapshot();
  });
  return {
    done,
    stop() {
      stopped = true;
      return done;
    },
    snapshot,
  };
}
