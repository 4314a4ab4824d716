import os from 'node:os';
import { routeVersions, type Route } from '../core/serve/route.js';
import type { ServeHost } from './host.js';
import { UsageError } from '../errors.js';
import { redactSecrets } from '../mlflow/redact.js';
import type { ServeMetrics } from './metrics.js';
import { loadVersion, type LoadOptions, type LoadedVersion } from './versions.js';

/**
 * What `mlv serve` is serving, and how it changes: the route and its loaded versions as one
 * immutable snapshot that requests take at their start (so they finish on the session they
 * started on), replaced by one assignment once every version of a new route is loaded and warm.
 * A version that fails to load or warm up never takes traffic: the previous snapshot stays.
 */

export interface Serving {
  route: Route;
  /** Version → loaded version, for every arm. */
  versions: ReadonlyMap<string, LoadedVersion>;
  shadow: LoadedVersion | null;
  /**
   * Versions named by the route that could not be loaded when serving started (there was no
   * previous route to keep): their units are answered by stable and not logged as exposures.
   */
  unavailable: ReadonlySet<string>;
}

export interface LoadFailure {
  version: string;
  error: string;
  at: string;
}

export interface RuntimeOptions {
  model: string;
  routeFile: string | undefined;
  keepPreviousMs: number;
  load: LoadOptions;
  /** The shadow's own capacity: a separate pool. */
  shadowLoad: LoadOptions;
  metrics: ServeMetrics;
}

export class ServeRuntime {
  current: Serving | undefined;
  readonly failures = new Map<string, LoadFailure>();
  private readonly loaded = new Map<string, LoadedVersion>();
  private reloading: Promise<void> | undefined;
  /** The revision whose load failed, so polling does not retry it every time (SIGHUP does). */
  private failedRevision: string | undefined;
  private warnedNoRoute = false;

  constructor(
    private readonly ctx: ServeHost,
    private readonly opts: RuntimeOptions,
  ) {}

  /** Loads the route and its versions. The stable version must load; other versions may fail. */
  async start(): Promise<Serving> {
    const route = await this.readRoute();
    if (!route) {
      throw new UsageError(`${this.opts.model} has no route`, {
        hint: `set one with \`mlv route set ${this.opts.model} --stable REF\`, or serve a file with --route FILE`,
      });
    }
    const stable = await this.load(route.stable.version, false);
    if (!stable) {
      const f = this.failures.get(route.stable.version)!;
      throw new UsageError(
        `the stable version ${route.stable.version} of ${this.opts.model} does not load: ${f.error}`,
      );
    }
    const next = await this.build(route, true);
    this.swap(next!);
    return next!;
  }

  /** Re-reads the route; a new revision is loaded in the background and swapped in when ready. */
  refresh(force = false): Promise<void> {
    this.reloading ??= this.doRefresh(force).finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async doRefresh(force: boolean): Promise<void> {
    let route: Route | null;
    try {
      route = await this.readRoute();
    } catch (err) {
      this.ctx.warn(`could not read the route of ${this.opts.model}: ${(err as Error).message}`);
      return;
    }
    if (!route) {
      if (!this.warnedNoRoute) this.ctx.warn(`the route of ${this.opts.model} was cleared: still serving the last one`);
      this.warnedNoRoute = true;
      return;
    }
    this.warnedNoRoute = false;
    const key = JSON.stringify(route);
    if (!force && this.current && JSON.stringify(this.current.route) === key) return;
    if (!force && this.failedRevision === key) return;
    const next = await this.build(route, false);
    if (!next) {
      this.failedRevision = key;
      this.ctx.warn(
        `route revision ${route.revision} of ${this.opts.model} not applied: still serving revision ${this.current?.route.revision}`,
      );
      return;
    }
    this.failedRevision = undefined;
    this.swap(next);
    this.ctx.info(`serving route revision ${route.revision}: ${describe(route)}`);
  }

  /** Loads what `route` needs; null when a version failed (unless `lenient`, at start-up). */
  private async build(route: Route, lenient: boolean): Promise<Serving | null> {
    const arms = new Set(routeVersions({ ...route, shadow: null }));
    const versions = new Map<string, LoadedVersion>();
    const unavailable = new Set<string>();
    for (const v of arms) {
      const lv = await this.load(v, false);
      if (lv) versions.set(v, lv);
      else if (lenient) unavailable.add(v);
      else return null;
    }
    let shadow: LoadedVersion | null = null;
    if (route.shadow) {
      shadow = await this.load(route.shadow.version, true);
      if (!shadow && !lenient) return null;
    }
    return { route, versions, shadow, unavailable };
  }

  private async load(version: string, asShadow: boolean): Promise<LoadedVersion | null> {
    const key = `${asShadow ? 'shadow:' : ''}${version}`;
    const cached = this.loaded.get(key);
    if (cached && !cached.released) return cached;
    try {
      const lv = await loadVersion(
        this.ctx,
        this.opts.model,
        version,
        asShadow ? this.opts.shadowLoad : this.opts.load,
      );
      this.loaded.set(key, lv);
      this.opts.metrics.loaded(version, true);
      this.ctx.info(
        `loaded ${this.opts.model} version ${version}${asShadow ? ' (shadow)' : ''}: ${lv.mode}, ${lv.runMs.toFixed(3)} ms per run, ` +
          (lv.batchDim ? `batching on "${lv.batchDim}"` : 'no batching'),
      );
      if (this.failures.delete(version)) void this.recordLoadError(version, null);
      return lv;
    } catch (err) {
      const message = redactSecrets((err as Error).message);
      const failure = { version, error: message, at: this.ctx.now().toISOString() };
      this.failures.set(version, failure);
      this.opts.metrics.loadFailure(version);
      this.ctx.warn(`${this.opts.model} version ${version} does not take traffic: ${message}`);
      void this.recordLoadError(version, failure);
      return null;
    }
  }

  /** `mlv route show` reads the model-version tag mlv.serve.load_error. Best effort. */
  private async recordLoadError(version: string, failure: LoadFailure | null): Promise<void> {
    try {
      const { writeLoadError } = await import('./route-store.js');
      const client = await this.ctx.mlflow();
      await writeLoadError(
        client,
        this.opts.model,
        version,
        failure && { error: failure.error, at: failure.at, host: os.hostname() },
        { signal: this.ctx.signal },
      );
    } catch (err) {
      if (failure) this.ctx.debug(`could not record the load error of version ${version}: ${(err as Error).message}`);
    }
  }

  private swap(next: Serving): void {
    const previous = this.current;
    this.current = next;
    const r = next.route;
    this.opts.metrics.route(
      r.revision,
      r.variants.map((v) => ({ name: v.name, version: v.version, weight: v.weight })),
    );
    const now = Date.now();
    const inUse = new Set<LoadedVersion>([...next.versions.values(), ...(next.shadow ? [next.shadow] : [])]);
    for (const lv of this.loaded.values()) {
      if (inUse.has(lv)) lv.retiredAt = undefined;
      else lv.retiredAt ??= now;
    }
    if (previous) this.sweep();
  }

  /** Releases versions retired longer than --keep-previous ago once no request runs on them. */
  sweep(now = Date.now()): void {
    for (const [key, lv] of this.loaded) {
      if (lv.retiredAt === undefined || lv.inFlight > 0 || now - lv.retiredAt < this.opts.keepPreviousMs) continue;
      this.loaded.delete(key);
      if (![...this.loaded.values()].some((x) => x.version === lv.version)) this.opts.metrics.loaded(lv.version, false);
      void lv.release();
      this.ctx.debug(`released ${this.opts.model} version ${lv.version}`);
    }
  }

  get loadedVersions(): LoadedVersion[] {
    return [...this.loaded.values()];
  }

  private async readRoute(): Promise<Route | null> {
    const store = await import('./route-store.js');
    if (this.opts.routeFile !== undefined) return store.readRouteFile(this.opts.routeFile);
    return store.readRoute(await this.ctx.mlflow(), this.opts.model, { signal: this.ctx.signal });
  }

  async close(): Promise<void> {
    await Promise.all([...this.loaded.values()].map((lv) => lv.release()));
    this.loaded.clear();
  }
}

export function describe(route: Route): string {
  const arms = route.variants.map((v) => `${v.name}=v${v.version} ${v.weight}%`).join(', ');
  return route.shadow ? `${arms}; shadow v${route.shadow.version} ${route.shadow.percent}%` : arms;
}
