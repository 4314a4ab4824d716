import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { Context } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import { action } from '../run.js';
import { treatInterruptAsNormalStop } from '../signals.js';
import { intArg } from './args.js';

/**
 * `mlv serve NAME`: serves the versions of NAME's route with onnxruntime-node — MLflow's scoring
 * protocol and the Open Inference Protocol v2 — splitting traffic by unit, mirroring a shadow,
 * logging exposures and feedback for `mlv analyze --events`, and exposing Prometheus metrics.
 * Runs until Ctrl-C / SIGTERM (exit 0 after draining); SIGHUP re-reads the route.
 *
 * Output: status lines on stderr; with --json one line {"url", "model", "revision"} on stdout
 * once listening (scripts read the port from it). `--log -` writes the event log to stdout.
 */

export interface ServeInput {
  model: string;
  host: string;
  port: number;
  refreshMs: number;
  route?: string | undefined;
  keepPreviousMs: number;
  authToken?: string | undefined;
  /** 'auto', or 0 (inline) / N worker threads. */
  threads: 'auto' | number;
  maxBatch: number;
  maxBatchWaitMs: number;
  timeoutMs: number;
  maxInFlight: number;
  bodyLimit: number;
  logDir?: string | undefined;
  logMaxBytes: number;
  logPredictions: boolean;
  shadowQueue: number;
  shadowThreads: 'auto' | number;
}

export interface ServeResult {
  url: string;
  model: string;
  revision: number;
  log_files: string[];
  events_written: number;
  events_dropped: number;
}

export const SERVE_DEFAULTS = {
  port: 8080,
  refresh: '2s',
  keepPrevious: '10m',
  maxBatch: 32,
  maxBatchWait: '0ms',
  timeout: '10s',
  maxInFlight: 1024,
  bodyLimit: 1024 * 1024,
  logMaxBytes: 256 * 1024 * 1024,
  shadowQueue: 1000,
} as const;

const { version: mlvVersion } = createRequire(import.meta.url)('../../package.json') as { version: string };

export async function serve(ctx: Context, input: ServeInput): Promise<ServeResult> {
  const { isLoopbackAddress } = await import('../server/security.js');
  const { ServeMetrics } = await import('../serve/metrics.js');
  const { WorkerPool } = await import('../serve/inference.js');
  const { ServeRuntime, describe } = await import('../serve/runtime.js');
  const { Shadow } = await import('../serve/shadow.js');
  const { ServeHttp } = await import('../serve/http.js');
  const { EventLog } = await import('../serve/event-log.js');

  const metrics = new ServeMetrics(input.model);
  // auto: one core stays with the HTTP thread.
  const workers = input.threads === 'auto' ? Math.max(1, Math.min(4, os.availableParallelism() - 1)) : input.threads;
  let pool: InstanceType<typeof WorkerPool> | undefined;
  let shadowPool: InstanceType<typeof WorkerPool> | undefined;
  const runtime = new ServeRuntime(ctx, {
    model: input.model,
    routeFile: input.route === undefined ? undefined : path.resolve(ctx.cwd, input.route),
    keepPreviousMs: input.keepPreviousMs,
    metrics,
    load: {
      threads: input.threads,
      pool: () => (pool ??= new WorkerPool(Math.max(1, workers), (m) => ctx.warn(m))),
      maxBatch: input.maxBatch,
      maxWaitMs: input.maxBatchWaitMs,
    },
    // The shadow has its own sessions, queue and (for models worth a thread) its own worker pool.
    // Its batches stay as small as the primary's: a large inline batch would stall the HTTP thread.
    shadowLoad: {
      threads: input.shadowThreads,
      pool: () =>
        (shadowPool ??= new WorkerPool(input.shadowThreads === 'auto' ? 1 : Math.max(1, input.shadowThreads), (m) =>
          ctx.warn(`shadow: ${m}`),
        )),
      maxBatch: input.maxBatch,
      maxWaitMs: 0,
    },
  });

  let events: InstanceType<typeof EventLog> | undefined;
  let predictions: InstanceType<typeof EventLog> | undefined;
  const closeAll = async () => {
    await events?.close();
    if (predictions !== events) await predictions?.close();
    await runtime.close();
    await pool?.close();
    await shadowPool?.close();
  };
  let server: InstanceType<typeof ServeHttp> | undefined;
  let url: string;
  try {
    const serving = await runtime.start();
    if (input.logDir !== undefined) {
      const dir = input.logDir === '-' ? '-' : path.resolve(ctx.cwd, input.logDir);
      const log = (target: string) =>
        new EventLog({
          target,
          maxBytes: input.logMaxBytes,
          stdout: ctx.stdout,
          onWritten: (type, n) => metrics.eventWritten(type, n),
          onDropped: (n) => metrics.eventDropped(n),
          onError: (err) => ctx.warn(`event log: ${err.message}`),
        });
      events = log(dir);
      await events.open();
      if (input.logPredictions) {
        // DIR/predictions/: `mlv analyze --events DIR/*.jsonl` reads exposures and metrics only.
        predictions = dir === '-' ? events : log(path.join(dir, 'predictions'));
        await predictions.open();
      }
    } else if (input.logPredictions) {
      throw new UsageError('--log-predictions needs an event log: add --log-dir DIR or --log -');
    }
    server = new ServeHttp({
      model: input.model,
      mlvVersion,
      runtime,
      metrics,
      events,
      predictions,
      shadow: new Shadow(metrics, input.shadowQueue),
      bodyLimit: input.bodyLimit,
      timeoutMs: input.timeoutMs,
      maxInFlight: input.maxInFlight,
      authToken: input.authToken,
      now: () => ctx.now(),
    });
    try {
      url = await server.listen(input.host, input.port);
    } catch (err) {
      throw listenError(err, input);
    }
    if (!isLoopbackAddress(input.host) && input.authToken === undefined) {
      ctx.warn(
        `listening on ${input.host} without authentication: anyone who can reach it can call the model (set --auth-token)`,
      );
    }
    ctx.info(
      `mlv serve ${input.model} listening on ${url} — route revision ${serving.route.revision}: ${describe(serving.route)}`,
    );
    if (events && input.logDir !== '-')
      ctx.info(`event log: ${path.resolve(ctx.cwd, input.logDir!)}/${events.prefix}-*.jsonl`);
    if (ctx.json && input.logDir !== '-') {
      ctx.stdout.write(JSON.stringify({ url, model: input.model, revision: serving.route.revision }) + '\n');
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  const poll = setInterval(() => void runtime.refresh(), input.refreshMs);
  const sweep = setInterval(() => runtime.sweep(), Math.min(10_000, Math.max(1000, input.keepPreviousMs / 10)));
  const onHup = () => {
    ctx.info('SIGHUP: re-reading the route');
    void runtime.refresh(true);
  };
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  ctx.info('mlv serve stopping: draining requests and flushing the event log');
  clearInterval(poll);
  clearInterval(sweep);
  process.off('SIGHUP', onHup);
  // signals.ts ends the process 2 s after the signal: drain within that.
  await server.drain(1200);
  await closeAll();
  return {
    url,
    model: input.model,
    revision: runtime.current?.route.revision ?? 0,
    log_files: [...(events?.files ?? []), ...(predictions && predictions !== events ? predictions.files : [])],
    events_written: events?.written ?? 0,
    events_dropped: events?.dropped ?? 0,
  };
}

function listenError(err: unknown, input: ServeInput): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new InputError(`port ${input.port} is in use on ${input.host}`, {
      code: 'MLV_PORT_IN_USE',
      hint: 'pass --port <n> for another port, or --port 0 for any free one',
    });
  }
  if (code === 'EACCES') return new InputError(`no permission to listen on ${input.host}:${input.port}`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new InputError(`--host ${input.host} is not an address of this machine`);
  }
  return err;
}

/** `250ms`, `2s`, `10m`, `1h` → milliseconds (a bare number is seconds). */
export function durationArg(flag: string, allowZero = false) {
  return (value: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m?.[2] ?? 's').toLowerCase() as 'ms'];
    const ms = m ? Number(m[1]) * unit : NaN;
    if (!Number.isFinite(ms) || ms < 0 || (!allowZero && ms === 0)) {
      throw new InvalidArgumentError(
        `${flag} must be a duration like 250ms, 2s or 10m${allowZero ? '' : ' (above 0)'}, got "${value}"`,
      );
    }
    return ms;
  };
}

/** `1048576`, `512k`, `1MiB`, `100MB` → bytes. */
export function bytesArg(flag: string) {
  return (value: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(value);
    const mult = {
      b: 1,
      k: 1024,
      kb: 1024,
      kib: 1024,
      m: 1024 ** 2,
      mb: 1024 ** 2,
      mib: 1024 ** 2,
      g: 1024 ** 3,
      gb: 1024 ** 3,
      gib: 1024 ** 3,
    }[(m?.[2] ?? 'b').toLowerCase() as 'b'];
    const n = m ? Math.floor(Number(m[1]) * mult) : NaN;
    if (!Number.isFinite(n) || n < 1)
      throw new InvalidArgumentError(`${flag} must be a size like 1048576, 512k or 1MiB, got "${value}"`);
    return n;
  };
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535 (0 = any free port), got "${value}"`);
  }
  return Number(value);
}

function threadsArg(value: string): 'auto' | number {
  if (value === 'auto') return 'auto';
  if (!/^\d+$/.test(value) || Number(value) > 64) {
    throw new InvalidArgumentError(
      `--threads must be auto, 0 (inline) or a number of worker threads up to 64, got "${value}"`,
    );
  }
  return Number(value);
}

interface ServeFlags {
  host: string;
  port?: number;
  refresh: number;
  route?: string;
  keepPrevious: number;
  authToken?: string;
  threads: 'auto' | number;
  maxBatch: number;
  maxBatchWait: number;
  timeout: number;
  maxInFlight: number;
  bodyLimit: number;
  logDir?: string;
  log?: string;
  logMaxBytes: number;
  logPredictions?: boolean;
  shadowQueue: number;
  shadowThreads: 'auto' | number;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      "serve a model's route over HTTP: A/B, canary and shadow, exposure logs, Prometheus metrics (until Ctrl-C)",
    )
    .argument('<name>', 'registered model whose route to serve')
    .option('--host <host>', 'address to listen on (non-loopback needs --auth-token to be safe)', '127.0.0.1')
    .option('--port <port>', `TCP port, 0 for any free one (default ${SERVE_DEFAULTS.port})`, parsePort)
    .option(
      '--refresh <duration>',
      'how often to re-read the route',
      durationArg('--refresh'),
      durationArg('--refresh')(SERVE_DEFAULTS.refresh),
    )
    .option('--route <file>', 'serve this route file (JSON of `mlv route show --json`) instead of the registry one')
    .option(
      '--keep-previous <duration>',
      'keep versions that left the route loaded this long, so switching back is instant',
      durationArg('--keep-previous', true),
      durationArg('--keep-previous')(SERVE_DEFAULTS.keepPrevious),
    )
    .option('--auth-token <token>', 'require Authorization: Bearer <token> (also MLV_SERVE_TOKEN)')
    .option(
      '--threads <n>',
      'inference: auto (inline for tiny models, else cores−1 worker threads), 0 = inline, N worker threads',
      threadsArg,
      'auto',
    )
    .option(
      '--max-batch <rows>',
      'join concurrent requests into runs of up to this many rows (1 = off)',
      intArg('--max-batch', 1),
      SERVE_DEFAULTS.maxBatch,
    )
    .option(
      '--max-batch-wait <duration>',
      'how long a request may wait for others to join its batch',
      durationArg('--max-batch-wait', true),
      0,
    )
    .option('--timeout <duration>', 'per-request inference deadline (504 after it)', durationArg('--timeout'), 10_000)
    .option(
      '--max-in-flight <n>',
      'requests in progress at most; more get 503 + Retry-After',
      intArg('--max-in-flight', 1),
      SERVE_DEFAULTS.maxInFlight,
    )
    .option(
      '--body-limit <size>',
      'largest request body (413 beyond it)',
      bytesArg('--body-limit'),
      SERVE_DEFAULTS.bodyLimit,
    )
    .option('--log-dir <dir>', 'write exposures, feedback (and predictions) as JSON Lines into DIR')
    .option('--log <target>', '"-" writes the event log to stdout instead')
    .option(
      '--log-max-bytes <size>',
      'rotate log files at this size',
      bytesArg('--log-max-bytes'),
      SERVE_DEFAULTS.logMaxBytes,
    )
    .option('--log-predictions', 'also log one prediction record per answered request')
    .option(
      '--shadow-queue <n>',
      'shadow copies waiting at most; more are dropped and counted',
      intArg('--shadow-queue', 1),
      SERVE_DEFAULTS.shadowQueue,
    )
    .option(
      '--shadow-threads <n>',
      'shadow inference: auto (inline for tiny models, else its own worker), 0 = inline, N own workers',
      threadsArg,
      'auto',
    )
    .addHelpText(
      'after',
      `
Examples:
  mlv route set churn --stable @production --candidate 7 --weight 5
  mlv serve churn --port 8080 --log-dir logs/
  curl -s localhost:8080/invocations -H 'X-Unit-Id: user-42' -H 'Content-Type: application/json' \\
       -d '{"inputs": [[0.1, 0.2, 0.3, 0.4]]}'
  mlv analyze --events logs/*.jsonl --experiment churn --metric converted

Stops cleanly (exit 0) on Ctrl-C or SIGTERM after draining; SIGHUP re-reads the route.`,
    )
    .action(
      action(async (ctx, name: string, flags: ServeFlags) => {
        treatInterruptAsNormalStop();
        if (flags.log !== undefined && flags.log !== '-') {
          throw new UsageError(`--log only takes "-" (stdout); use --log-dir DIR for files, got "${flags.log}"`);
        }
        if (flags.log !== undefined && flags.logDir !== undefined) {
          throw new UsageError('--log - and --log-dir are alternatives: pass one');
        }
        const token = flags.authToken ?? (ctx.env.MLV_SERVE_TOKEN || undefined);
        await serve(ctx, {
          model: name,
          host: flags.host,
          port: flags.port ?? SERVE_DEFAULTS.port,
          refreshMs: flags.refresh,
          route: flags.route,
          keepPreviousMs: flags.keepPrevious,
          authToken: token,
          threads: flags.threads,
          maxBatch: flags.maxBatch,
          maxBatchWaitMs: flags.maxBatchWait,
          timeoutMs: flags.timeout,
          maxInFlight: flags.maxInFlight,
          bodyLimit: flags.bodyLimit,
          logDir: flags.log === '-' ? '-' : flags.logDir,
          logMaxBytes: flags.logMaxBytes,
          logPredictions: flags.logPredictions === true,
          shadowQueue: flags.shadowQueue,
          shadowThreads: flags.shadowThreads,
        });
      }),
    );
}
