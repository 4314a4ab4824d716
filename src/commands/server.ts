import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { Context } from '../context.js';
import { InputError } from '../errors.js';
import { action } from '../run.js';
import { treatInterruptAsNormalStop } from '../signals.js';

/**
 * `mlv server`: serves the embedded registry store over HTTP with MLflow's REST API until
 * Ctrl-C / SIGTERM, which is its normal end (exit 0).
 *
 * Output: one status line on stderr once listening; with --json, one JSON line `{url, store}` on
 * stdout at that moment (scripts read it to learn the port) and nothing else on stdout.
 * A port already in use is an input problem (exit 2) with a hint.
 */

export interface ServerInput {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Store directory; default $MLV_HOME, else ./.mlv. */
  store?: string | undefined;
  /** Extra Host-header names accepted while bound to loopback (DNS-rebinding protection). */
  allowedHosts?: string[] | undefined;
}

export interface ServerResult {
  url: string;
  store: string;
}

export const DEFAULT_PORT = 5000;

export async function server(ctx: Context, input: ServerInput): Promise<ServerResult> {
  const { embeddedStoreDir } = await import('../mlflow/connect.js');
  const store =
    input.store !== undefined && input.store !== ''
      ? path.resolve(ctx.cwd, input.store)
      : embeddedStoreDir(ctx.env, ctx.cwd);
  // The native SQLite module loads only here, not at CLI start-up.
  const { isLoopbackAddress, startServer } = await import('../server/index.js');

  let running;
  try {
    running = await startServer({
      storeDir: store,
      host: input.host,
      port: input.port,
      allowedHosts: input.allowedHosts,
      ...(ctx.verbose ? { log: (line: string) => ctx.debug(line) } : {}),
    });
  } catch (err) {
    throw listenError(err, input);
  }

  const result: ServerResult = { url: running.url, store };
  if (!isLoopbackAddress(input.host)) {
    ctx.warn(
      `listening on ${input.host}: the registry has no authentication — anyone who can reach this address can read and change it`,
    );
  }
  ctx.info(`mlv server listening on ${result.url} (store: ${store})`);
  if (ctx.json) ctx.stdout.write(JSON.stringify(result) + '\n');

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  ctx.info('mlv server stopping');
  await running.close();
  return result;
}

function listenError(err: unknown, input: ServerInput): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${input.host}:${input.port}`;
  if (code === 'EADDRINUSE') {
    return new InputError(`port ${input.port} is in use on ${input.host}`, {
      code: 'MLV_PORT_IN_USE',
      hint: 'pass --port <n> for another port, or --port 0 for any free one',
    });
  }
  if (code === 'EACCES') {
    return new InputError(`no permission to listen on ${where}`, { hint: 'use a port above 1023' });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new InputError(`--host ${input.host} is not an address of this machine`, {
      hint: 'use 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)',
    });
  }
  return err;
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535 (0 = any free port), got "${value}"`);
  }
  return Number(value);
}

function parseHosts(value: string): string[] {
  return value
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description("serve the local registry store over HTTP with MLflow's REST API (until Ctrl-C)")
    .option(
      '--host <host>',
      'address to listen on; anything but loopback exposes the registry without authentication',
      '127.0.0.1',
    )
    .option('--port <port>', `TCP port, 0 for any free one (default ${DEFAULT_PORT})`, parsePort)
    .option('--store <dir>', 'store directory (default: $MLV_HOME, else ./.mlv)')
    .option(
      '--allowed-hosts <names>',
      'comma-separated Host names (globs like *.corp.example) accepted besides localhost while bound to loopback',
      parseHosts,
    )
    .addHelpText(
      'after',
      `
Examples:
  mlv server                                  # http://127.0.0.1:5000, store ./.mlv
  MLFLOW_TRACKING_URI=http://127.0.0.1:5000 mlv show
  mlv --json server --port 0 --store /srv/registry   # prints {"url":…,"store":…} once listening

Stops cleanly (exit 0) on Ctrl-C or SIGTERM. A port already in use exits 2.`,
    )
    .action(
      action(async (ctx, flags: { host: string; port?: number; store?: string; allowedHosts?: string[] }) => {
        treatInterruptAsNormalStop();
        // No ctx.output at the end: the one stdout document (--json) is written once listening.
        await server(ctx, {
          host: flags.host,
          port: flags.port ?? DEFAULT_PORT,
          store: flags.store,
          allowedHosts: flags.allowedHosts,
        });
      }),
    );
}
