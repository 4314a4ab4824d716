import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { predictedClasses } from '../core/smoke/compare.js';
import { encodePredictions, parseInvocation } from '../core/serve/mlflow.js';
import { encodeOutputs, parseInferRequest, tensorMetadata } from '../core/serve/oip.js';
import { assign, inShadow } from '../core/serve/route.js';
import { ExposureDedupe } from '../core/serve/exposures.js';
import { parseFeedback, unitOf } from '../core/serve/unit.js';
import { FLOAT_TYPES, numberAt, type HostTensor } from '../core/smoke/tensor.js';
import { InputError } from '../errors.js';
import type { EventLog } from './event-log.js';
import { QueueTimeoutError, type Tensors } from './inference.js';
import type { ServeMetrics } from './metrics.js';
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
    const stable = serving.versions.get(serving.route.stable.version)!;
    res.setHeader('X-Mlv-Variant', 'stable');
    res.setHeader('X-Mlv-Version', stable.version);
    if (this.stopping) res.setHeader('Connection', 'close');
    const method = req.method ?? 'GET';
    // Health checks answer without the token (a kubelet or load balancer sends none), with no detail.
    if (this.tokenDigest && (method === 'GET' || method === 'HEAD') && HEALTH.has(pathname) && !this.authorized(req)) {
      req.resume();
      if (pathname === '/v2/health/live') return this.json(res, 200, { live: true });
      if (pathname === '/v2/health/ready') return this.json(res, this.stopping ? 503 : 200, { ready: !this.stopping });
      return this.send(res, this.stopping ? 503 : 200, '\n', 'text/plain');
    }
    if (this.tokenDigest && !this.authorized(req)) {
      this.fail(
        res,
        pathname,
        new HttpError(401, 'missing or wrong bearer token', { 'WWW-Authenticate': 'Bearer' }),
        start,
      );
      req.resume();
      return;
    }
    if (method === 'POST') {
      if (pathname === '/invocations' || OIP_INFER.test(pathname) || pathname === '/feedback') {
        this.post(req, res, pathname, q < 0 ? '' : url.slice(q + 1), serving, start);
        return;
      }
    } else if (method === 'GET' || method === 'HEAD') {
      this.get(res, pathname, serving, start);
      req.resume();
      return;
    }
    req.resume();
    this.fail(
      res,
      pathname,
      new HttpError(pathname === '/invocations' ? 405 : 404, `no route ${method} ${pathname}`),
      start,
    );
  }

  private authorized(req: http.IncomingMessage): boolean {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !/^Bearer /i.test(h)) return false;
    // Equal-length digests: the comparison takes the same time whatever was sent.
    return timingSafeEqual(digest(h.slice(7).trim()), this.tokenDigest!);
  }

  private get(res: http.ServerResponse, pathname: string, serving: Serving, start: number): void {
    const model = this.o.model;
    switch (pathname) {
      case '/ping':
      case '/health':
        return this.send(res, this.stopping ? 503 : 200, '\n', 'text/plain');
      case '/version':
        return this.send(res, 200, this.o.mlvVersion, 'text/plain');
      case '/metrics':
        void this.o.metrics.text().then(
          (text) => this.send(res, 200, text, this.o.metrics.contentType),
          (err: Error) => this.send(res, 500, err.message, 'text/plain'),
        );
        return;
      case '/invocations':
        res.setHeader('Allow', 'POST');
        return this.fail(res, pathname, new HttpError(405, 'use POST /invocations'), start);
      case '/v2':
        return this.json(res, 200, { name: 'mlv', version: this.o.mlvVersion, extensions: [] });
      case '/v2/health/live':
        return this.json(res, 200, { live: true });
      case '/v2/health/ready':
        return this.json(res, this.stopping ? 503 : 200, this.readiness(serving));
    }
    const m = OIP_INFER.exec(pathname) ?? OIP_MODEL.exec(pathname);
    if (m && (m[3] === undefined || m[3] === 'ready')) {
      try {
        const lv = this.pinned(serving, decodeURIComponent(m[1]!), m[2] && decodeURIComponent(m[2]));
        if (m[3] === 'ready') return this.json(res, 200, { name: model, version: lv.version, ready: !this.stopping });
        return this.json(res, 200, {
          name: model,
          versions: [...serving.versions.keys()],
          platform: 'onnxruntime_onnx',
          inputs: tensorMetadata(lv.inputs),
          outputs: tensorMetadata(lv.outputs),
        });
      } catch (err) {
        return this.fail(res, pathname, err, start);
      }
    }
    this.fail(res, pathname, new HttpError(404, `no route GET ${pathname}`), start);
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

  private post(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
    query: string,
    serving: Serving,
    start: number,
  ): void {
    if (this.inFlight >= this.o.maxInFlight) {
      req.resume();
      return this.fail(
        res,
        pathname,
        new HttpError(503, 'too many requests in progress', { 'Retry-After': '1' }),
        start,
      );
    }
    const declared = Number(req.headers['content-length']);
    if (declared > this.o.bodyLimit) {
      res.setHeader('Connection', 'close');
      req.resume();
      return this.fail(res, pathname, tooLarge(this.o.bodyLimit), start);
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
    res.once('close', finish);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.o.bodyLimit) {
        if (!res.headersSent) {
          res.setHeader('Connection', 'close');
          this.fail(res, pathname, tooLarge(this.o.bodyLimit), start);
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
        return this.fail(
          res,
          pathname,
          new HttpError(400, `the request body is not valid JSON: ${(err as Error).message}`),
          start,
        );
      }
      if (pathname === '/feedback') return this.feedback(res, body, start);
      const params = new URLSearchParams(query);
      this.infer(req, res, pathname, body, params.get('unit'), serving, start).catch((err: unknown) =>
        this.fail(res, pathname, err, start),
      );
    });
    req.on('error', () => finish());
  }

  private async infer(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
    body: unknown,
    unitQuery: string | null,
    serving: Serving,
    start: number,
  ): Promise<void> {
    const oip = pathname !== '/invocations' ? OIP_INFER.exec(pathname) : null;
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
    res.setHeader('X-Mlv-Variant', variant);
    res.setHeader('X-Mlv-Version', lv.version);

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

    lv.inFlight++;
    let outputs: Tensors;
    try {
      outputs = await withTimeout(lv.batcher.run(feeds, start + this.o.timeoutMs), this.o.timeoutMs);
    } catch (err) {
      this.o.metrics.inferenceError(lv.version, variant);
      if (err instanceof HttpError) throw err;
      if (err instanceof QueueTimeoutError) throw timedOut(this.o.timeoutMs);
      throw new HttpError(500, `${this.o.model} version ${lv.version} failed: ${(err as Error).message}`);
    } finally {
      lv.inFlight--;
    }

    let payload: unknown;
    if (oip) {
      const params: Record<string, unknown> = { variant };
      if (unit !== undefined) params.unit_id = unit;
      payload = {
        model_name: this.o.model,
        model_version: lv.version,
        ...(id !== undefined ? { id } : {}),
        parameters: params,
        outputs: encodeOutputs(outputs, requested),
      };
    } else {
      payload = { predictions: encodePredictions(outputs), variant, version: lv.version };
    }
    this.json(res, 200, payload);
    const seconds = (performance.now() - start) / 1000;
    this.o.metrics.request(lv.version, variant, 200, seconds);
    this.observe(lv, variant, outputs);

    // After the answer: exposure, prediction record, shadow copy. None of them can fail the request.
    const events = this.o.events;
    if (events) {
      const ts = this.o.now().toISOString();
      if (exposed && this.dedupe.firstSight(route.revision, unit!)) {
        events.write({
          type: 'exposure',
          experiment: route.experiment,
          unit: unit!,
          variant,
          ts,
          version: lv.version,
          revision: route.revision,
          model: this.o.model,
        });
      }
      if (this.o.predictions) {
        this.o.predictions.write({
          type: 'prediction',
          experiment: route.experiment,
          ...(unit !== undefined ? { unit } : {}),
          variant,
          version: lv.version,
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

  /** Class counts and value histograms of the answer (drift), first row element per row. */
  private observe(lv: LoadedVersion, variant: string, outputs: Tensors): void {
    for (const [name, t] of Object.entries(outputs)) {
      const classes = predictedClasses(name, t);
      if (classes) {
        for (const c of classes) this.o.metrics.predictedClass(lv.version, variant, name, String(c));
      } else if (FLOAT_TYPES.has(t.type) && t.dims.length > 0) {
        const rows = t.dims[0]!;
        const per = rows === 0 ? 0 : t.data.length / rows;
        for (let r = 0; r < rows && r < 64; r++) {
          const x = numberAt(t, r * per);
          if (Number.isFinite(x)) this.o.metrics.predictionValue(lv.version, variant, name, x);
        }
      }
    }
  }

  private feedback(res: http.ServerResponse, body: unknown, start: number): void {
    let rows;
    try {
      rows = parseFeedback(body, this.o.now());
    } catch (err) {
      return this.fail(res, '/feedback', err instanceof InputError ? new HttpError(400, err.message) : err, start);
    }
    if (!this.o.events) {
      return this.fail(
        res,
        '/feedback',
        new HttpError(409, 'this mlv serve writes no event log: start it with --log-dir DIR or --log -'),
        start,
      );
    }
    for (const r of rows)
      this.o.events.write({ type: 'metric', unit: r.unit, metric: r.metric, value: r.value, ts: r.ts });
    this.json(res, 200, { accepted: rows.length });
  }

  private fail(res: http.ServerResponse, pathname: string, err: unknown, start: number): void {
    const e = err instanceof HttpError ? err : new HttpError(500, (err as Error)?.message ?? String(err));
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
    const variant = String(res.getHeader('X-Mlv-Variant') ?? '');
    const version = String(res.getHeader('X-Mlv-Version') ?? '');
    if (pathname === '/invocations' || pathname.startsWith('/v2/models/')) {
      this.o.metrics.request(
        e.status >= 500 || e.status === 400 ? version : '',
        variant,
        e.status,
        (performance.now() - start) / 1000,
      );
    }
    if (pathname.startsWith('/v2')) return this.json(res, e.status, { error: e.message });
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
    this.json(res, e.status, { error_code: code, message: e.message });
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    this.send(res, status, JSON.stringify(body), JSON_TYPE);
  }

  private send(res: http.ServerResponse, status: number, text: string, type: string): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

const tooLarge = (limit: number) =>
  new HttpError(413, `the request body is larger than the limit of ${limit} bytes (--body-limit)`);

const timedOut = (ms: number) => new HttpError(504, `inference took longer than ${ms} ms (--timeout)`);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  if (!(ms > 0) || !Number.isFinite(ms)) return p;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timedOut(ms)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** A prediction record's view of an output: its values when small, else its shape. */
function preview(t: HostTensor): unknown {
  if (t.data.length > 16) return { shape: t.dims };
  return Array.from({ length: t.data.length }, (_, i) => (t.type === 'string' ? t.data[i] : numberAt(t, i)));
}
