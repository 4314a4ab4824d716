import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { eachPredictedClass } from '../core/smoke/compare.js';
import { encodePredictions, parseInvocation } from '../core/serve/mlflow.js';
import { encodeOutputs, parseInferRequest, tensorMetadata } from '../core/serve/oip.js';
import { assign, inShadow } from '../core/serve/route.js';
import { ExposureDedupe } from '../core/serve/exposures.js';
import { parseFeedback, unitOf } from '../core/serve/unit.js';
import { FLOAT_TYPES, numberAt, type HostTensor } from '../core/smoke/tensor.js';
import { InputError } from '../errors.js';
import type { EventLog } from './event-log.js';
import { QueueTimeoutError, type Tensors } from './inference.js';
import type { Arm, ServeMetrics } from './metrics.js';
import type { ServeRuntime, Serving } from './runtime.js';
import type { Shadow } from './shadow.js';
import type { LoadedVersion } from './versions.js';

/**
 * The HTTP face of `mlv serve`, on node:http with a flat hot path: read the body (bounded), parse,
 * assign, infer, answer; logging, metrics and shadow copies happen after the answer is written and
 * never wait. Protocols: MLflow scoring (/invocations, /ping, /health, /version) and the Open
 * Inference Protocol v2 (/v2/…), plus /feedback and /metrics.
 */

export interface HttpOptions {
  model: string;
  mlvVersion: string;
  runtime: ServeRuntime;
  metrics: ServeMetrics;
  events: EventLog | undefined;
  /** Prediction records (--log-predictions): a log of their own, so `DIR/*.jsonl` stays what analyze reads. */
  predictions: EventLog | undefined;
  shadow: Shadow;
  bodyLimit: number;
  timeoutMs: number;
  maxInFlight: number;
  authToken: string | undefined;
  now: () => Date;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const JSON_TYPE = 'application/json';
const OIP_INFER = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/(infer|ready)$/;
const HEALTH = new Set(['/ping', '/health', '/v2/health/live', '/v2/health/ready']);
const OIP_MODEL = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?$/;

/**
 * One request and what its answer will say: which variant and version answered (the
 * `X-Mlv-Variant`/`X-Mlv-Version` headers of every answer, stable until assigned) and whether the
 * connection closes after it. The headers are written once, with the answer.
 */
class Exchange {
  close = false;

  constructor(
    readonly res: http.ServerResponse,
    readonly pathname: string,
    readonly start: number,
    public variant: string,
    public version: string,
  ) {}
}

/** A request answered with a prediction: what happens after the answer needs this. */
interface Answered {
  x: Exchange;
  route: Serving['route'];
  serving: Serving;
  unit: string | undefined;
  /** Assigned by unit (not pinned, the assigned version served): an exposure. */
  exposed: boolean;
  pinned: boolean;
  feeds: Tensors;
  outputs: Tensors;
  seconds: number;
}

export class ServeHttp {
  readonly server: http.Server;
  private inFlight = 0;
  private stopping = false;
  private readonly dedupe = new ExposureDedupe();
  private readonly tokenDigest: Buffer | undefined;
  private idle: (() => void) | undefined;

  constructor(private readonly o: HttpOptions) {
    this.tokenDigest = o.authToken === undefined ? undefined : digest(o.authToken);
    this.server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.handle(req, res));
    this.server.headersTimeout = 20_000;
    this.server.requestTimeout = 60_000;
  }

  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address() as AddressInfo;
        const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        resolve(`http://${h}:${a.port}`);
      });
    });
  }

  /** Stops accepting, lets requests in progress finish (up to `deadlineMs`), closes connections. */
  async drain(deadlineMs: number): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => (this.idle = resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref()),
      ]);
    }
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const start = performance.now();
    const serving = this.o.runtime.current!;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const x = new Exchange(res, pathname, start, 'stable', serving.route.stable.version);
    const method = req.method ?? 'GET';
    // Health checks answer without the token (a kubelet or load balancer sends none), with no detail.
    if (this.tokenDigest && (method === 'GET' || method === 'HEAD') && HEALTH.has(pathname) && !this.authorized(req)) {
      req.resume();
      if (pathname === '/v2/health/live') return this.json(x, 200, { live: true });
      if (pathname === '/v2/health/ready') return this.json(x, this.stopping ? 503 : 200, { ready: !this.stopping });
      return this.send(x, this.stopping ? 503 : 200, '\n', 'text/plain');
    }
    if (this.tokenDigest && !this.authorized(req)) {
      this.fail(x, new HttpError(401, 'missing or wrong bearer token', { 'WWW-Authenticate': 'Bearer' }));
      req.resume();
      return;
    }
    if (method === 'POST') {
      if (pathname === '/invocations' || OIP_INFER.test(pathname) || pathname === '/feedback') {
        this.post(req, x, q < 0 ? '' : url.slice(q + 1), serving);
        return;
      }
    } else if (method === 'GET' || method === 'HEAD') {
      this.get(x, serving);
      req.resume();
      return;
    }
    req.resume();
    this.fail(x, new HttpError(pathname === '/invocations' ? 405 : 404, `no route ${method} ${pathname}`));
  }

  private authorized(req: http.IncomingMessage): boolean {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !/^Bearer /i.test(h)) return false;
    // Equal-length digests: the comparison takes the same time whatever was sent.
    return timingSafeEqual(digest(h.slice(7).trim()), this.tokenDigest!);
  }

  private get(x: Exchange, serving: Serving): void {
    const model = this.o.model;
    switch (x.pathname) {
      case '/ping':
      case '/health':
        return this.send(x, this.stopping ? 503 : 200, '\n', 'text/plain');
      case '/version':
        return this.send(x, 200, this.o.mlvVersion, 'text/plain');
      case '/metrics':
        void this.o.metrics.text().then(
          (text) => this.send(x, 200, text, this.o.metrics.contentType),
          (err: Error) => this.send(x, 500, err.message, 'text/plain'),
        );
        return;
      case '/invocations':
        return this.fail(x, new HttpError(405, 'use POST /invocations', { Allow: 'POST' }));
      case '/v2':
        return this.json(x, 200, { name: 'mlv', version: this.o.mlvVersion, extensions: [] });
      case '/v2/health/live':
        return this.json(x, 200, { live: true });
      case '/v2/health/ready':
        return this.json(x, this.stopping ? 503 : 200, this.readiness(serving));
    }
    const m = OIP_INFER.exec(x.pathname) ?? OIP_MODEL.exec(x.pathname);
    if (m && (m[3] === undefined || m[3] === 'ready')) {
      try {
        const lv = this.pinned(serving, decodeURIComponent(m[1]!), m[2] && decodeURIComponent(m[2]));
        if (m[3] === 'ready') return this.json(x, 200, { name: model, version: lv.version, ready: !this.stopping });
        return this.json(x, 200, {
          name: model,
          versions: [...serving.versions.keys()],
          platform: 'onnxruntime_onnx',
          inputs: tensorMetadata(lv.inputs),
          outputs: tensorMetadata(lv.outputs),
        });
      } catch (err) {
        return this.fail(x, err);
      }
    }
    this.fail(x, new HttpError(404, `no route GET ${x.pathname}`));
  }

  private readiness(serving: Serving) {
    const r = serving.route;
    return {
      ready: !this.stopping,
      model: this.o.model,
      route_revision: r.revision,
      variants: r.variants.map((v) => ({
        name: v.name,
        version: v.version,
        weight: v.weight,
        loaded: serving.versions.has(v.version),
      })),
      shadow: r.shadow
        ? { version: r.shadow.version, percent: r.shadow.percent, loaded: serving.shadow !== null }
        : null,
      loaded: this.o.runtime.loadedVersions.map((lv) => ({
        version: lv.version,
        mode: lv.mode,
        batching: lv.batchDim !== null,
        runs: lv.batcher.runs,
        rows_per_run: lv.batcher.runs === 0 ? null : Math.round((lv.batcher.batchedRows / lv.batcher.runs) * 100) / 100,
        retired: lv.retiredAt !== undefined,
      })),
      load_failures: [...this.o.runtime.failures.values()],
    };
  }

  /** The version a /versions/{v} path names (or stable without one), for the model served. */
  private pinned(serving: Serving, name: string, version: string | undefined): LoadedVersion {
    if (name !== this.o.model)
      throw new HttpError(404, `model "${name}" is not served here (this serves "${this.o.model}")`);
    const v = version ?? serving.route.stable.version;
    const lv = serving.versions.get(v) ?? (serving.shadow?.version === v ? serving.shadow : undefined);
    if (!lv) {
      throw new HttpError(
        404,
        `version ${v} of "${name}" is not being served (serving: ${[...serving.versions.keys()].join(', ')})`,
      );
    }
    return lv;
  }

  private post(req: http.IncomingMessage, x: Exchange, query: string, serving: Serving): void {
    if (this.inFlight >= this.o.maxInFlight) {
      req.resume();
      return this.fail(x, new HttpError(503, 'too many requests in progress', { 'Retry-After': '1' }));
    }
    const declared = Number(req.headers['content-length']);
    if (declared > this.o.bodyLimit) {
      x.close = true;
      req.resume();
      return this.fail(x, tooLarge(this.o.bodyLimit));
    }
    this.inFlight++;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) this.idle();
    };
    x.res.once('close', finish);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.o.bodyLimit) {
        if (!x.res.headersSent) {
          x.close = true;
          this.fail(x, tooLarge(this.o.bodyLimit));
        }
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > this.o.bodyLimit) return;
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        return this.fail(x, new HttpError(400, `the request body is not valid JSON: ${(err as Error).message}`));
      }
      try {
        if (x.pathname === '/feedback') return this.feedback(x, body);
        const unitQuery = query === '' ? null : new URLSearchParams(query).get('unit');
        this.infer(req, x, body, unitQuery, serving);
      } catch (err) {
        this.fail(x, err);
      }
    });
    req.on('error', finish);
  }

  /**
   * Assigns, validates and queues the request; the answer is written when its batch has run.
   * Throws (synchronously) what is answered as an error before anything runs.
   */
  private infer(req: http.IncomingMessage, x: Exchange, body: unknown, unitQuery: string | null, serving: Serving) {
    const oip = x.pathname !== '/invocations' ? OIP_INFER.exec(x.pathname) : null;
    const parameters =
      oip &&
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { parameters?: unknown }).parameters === 'object'
        ? ((body as { parameters: Record<string, unknown> }).parameters ?? {})
        : undefined;
    const unit = unitOf(req.headers['x-unit-id'], unitQuery, parameters ?? undefined);
    const route = serving.route;
    let lv: LoadedVersion;
    let variant: string;
    let exposed = false;
    const pinned = oip !== null && oip[2] !== undefined;
    if (pinned) {
      // A pinned version answers as itself: not an assignment, not an exposure.
      lv = this.pinned(serving, decodeURIComponent(oip![1]!), decodeURIComponent(oip![2]!));
      variant = route.variants.find((v) => v.version === lv.version)?.name ?? 'pinned';
    } else {
      if (oip) this.pinned(serving, decodeURIComponent(oip[1]!), undefined);
      const a = assign(route, unit);
      const chosen = serving.versions.get(a.version);
      if (chosen && !serving.unavailable.has(a.version)) {
        lv = chosen;
        variant = a.variant;
        exposed = unit !== undefined;
      } else {
        lv = serving.versions.get(route.stable.version)!;
        variant = 'stable';
      }
    }
    x.variant = variant;
    x.version = lv.version;

    let feeds: Tensors;
    let requested: string[] | undefined;
    let id: string | undefined;
    try {
      if (oip) {
        const r = parseInferRequest(body, lv.inputs, lv.outputs);
        feeds = r.tensors;
        requested = r.outputs;
        id = r.id;
      } else {
        feeds = parseInvocation(body, lv.inputs);
      }
    } catch (err) {
      throw err instanceof InputError ? new HttpError(400, err.message) : err;
    }

    const arm = this.o.metrics.arm(lv.version, variant);
    const timeout = this.o.timeoutMs;
    lv.inFlight++;
    lv.batcher.submit(feeds, timeout > 0 ? x.start + timeout : Number.POSITIVE_INFINITY, (err, outputs) => {
      lv.inFlight--;
      if (err !== null) {
        this.o.metrics.inferenceError(lv.version, variant);
        return this.fail(
          x,
          err instanceof QueueTimeoutError
            ? timedOut(timeout)
            : new HttpError(500, `${this.o.model} version ${lv.version} failed: ${(err as Error).message}`),
        );
      }
      try {
        let payload: unknown;
        if (oip) {
          const params: Record<string, unknown> = { variant };
          if (unit !== undefined) params.unit_id = unit;
          payload = {
            model_name: this.o.model,
            model_version: lv.version,
            ...(id !== undefined ? { id } : {}),
            parameters: params,
            outputs: encodeOutputs(outputs!, requested),
          };
        } else {
          payload = { predictions: encodePredictions(outputs!), variant, version: lv.version };
        }
        this.json(x, 200, payload);
        const seconds = (performance.now() - x.start) / 1000;
        arm.ok.value++;
        arm.duration.observe(seconds);
        observe(arm, outputs!);
        this.after({ x, route, serving, unit, exposed, pinned, feeds, outputs: outputs!, seconds });
      } catch (e) {
        this.fail(x, e);
      }
    });
  }

  /** After the answer: exposure, prediction record, shadow copy. None of them can fail the request. */
  private after({ x, route, serving, unit, exposed, pinned, feeds, outputs, seconds }: Answered): void {
    const events = this.o.events;
    if (events) {
      const ts = this.o.now().toISOString();
      if (exposed && this.dedupe.firstSight(route.revision, unit!)) {
        events.write({
          type: 'exposure',
          experiment: route.experiment,
          unit: unit!,
          variant: x.variant,
          ts,
          version: x.version,
          revision: route.revision,
          model: this.o.model,
        });
      }
      if (this.o.predictions) {
        this.o.predictions.write({
          type: 'prediction',
          experiment: route.experiment,
          ...(unit !== undefined ? { unit } : {}),
          variant: x.variant,
          version: x.version,
          revision: route.revision,
          ts,
          latency_ms: Math.round(seconds * 1e6) / 1e3,
          outputs: Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, preview(t)])),
        });
      }
    }
    // A copy to the shadow: by unit (the same units every time), else a random share.
    if (serving.shadow && route.shadow && !pinned && inShadow(route, unit ?? String(Math.random()))) {
      this.o.shadow.offer(serving.shadow, feeds, outputs);
    }
  }

  private feedback(x: Exchange, body: unknown): void {
    let rows;
    try {
      rows = parseFeedback(body, this.o.now());
    } catch (err) {
      return this.fail(x, err instanceof InputError ? new HttpError(400, err.message) : err);
    }
    if (!this.o.events) {
      return this.fail(
        x,
        new HttpError(409, 'this mlv serve writes no event log: start it with --log-dir DIR or --log -'),
      );
    }
    for (const r of rows)
      this.o.events.write({ type: 'metric', unit: r.unit, metric: r.metric, value: r.value, ts: r.ts });
    this.json(x, 200, { accepted: rows.length });
  }

  private fail(x: Exchange, err: unknown): void {
    const e = err instanceof HttpError ? err : new HttpError(500, (err as Error)?.message ?? String(err));
    if (x.res.headersSent) return;
    const p = x.pathname;
    if (p === '/invocations' || p.startsWith('/v2/models/')) {
      this.o.metrics.request(
        e.status >= 500 || e.status === 400 ? x.version : '',
        x.variant,
        e.status,
        (performance.now() - x.start) / 1000,
      );
    }
    if (p.startsWith('/v2')) return this.json(x, e.status, { error: e.message }, e.headers);
    const code =
      e.status === 400
        ? 'BAD_REQUEST'
        : e.status === 404
          ? 'RESOURCE_DOES_NOT_EXIST'
          : e.status === 413
            ? 'REQUEST_TOO_LARGE'
            : e.status === 401
              ? 'UNAUTHENTICATED'
              : e.status === 503
                ? 'TEMPORARILY_UNAVAILABLE'
                : e.status === 504
                  ? 'DEADLINE_EXCEEDED'
                  : 'INTERNAL_ERROR';
    this.json(x, e.status, { error_code: code, message: e.message }, e.headers);
  }

  private json(x: Exchange, status: number, body: unknown, headers?: Record<string, string>): void {
    this.send(x, status, JSON.stringify(body), JSON_TYPE, headers);
  }

  /** Writes the whole answer, headers in one go (no setHeader: each validates and copies). */
  private send(x: Exchange, status: number, text: string, type: string, headers?: Record<string, string>): void {
    const res = x.res;
    if (res.headersSent) return;
    const h: (string | number)[] = [
      'Content-Type',
      type,
      'Content-Length',
      Buffer.byteLength(text),
      'X-Mlv-Variant',
      x.variant,
      'X-Mlv-Version',
      x.version,
    ];
    if (x.close || this.stopping) h.push('Connection', 'close');
    if (headers) for (const k in headers) h.push(k, headers[k]!);
    res.writeHead(status, h as string[]);
    res.end(text);
  }
}

/** Class counts and value histograms of the answer (drift), first row element per row. */
function observe(arm: Arm, outputs: Tensors): void {
  for (const name in outputs) {
    const t = outputs[name]!;
    if (eachPredictedClass(name, t, (c) => arm.predictedClass(name, c))) continue;
    if (FLOAT_TYPES.has(t.type) && t.dims.length > 0) {
      const rows = t.dims[0]!;
      const per = rows === 0 ? 0 : t.data.length / rows;
      for (let r = 0; r < rows && r < 64; r++) {
        const x = numberAt(t, r * per);
        if (Number.isFinite(x)) arm.predictionValue(name, x);
      }
    }
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

const tooLarge = (limit: number) =>
  new HttpError(413, `the request body is larger than the limit of ${limit} bytes (--body-limit)`);

const timedOut = (ms: number) => new HttpError(504, `inference took longer than ${ms} ms (--timeout)`);

/** A prediction record's view of an output: its values when small, else its shape. */
function preview(t: HostTensor): unknown {
  if (t.data.length > 16) return { shape: t.dims };
  return Array.from({ length: t.data.length }, (_, i) => (t.type === 'string' ? t.data[i] : numberAt(t, i)));
}
