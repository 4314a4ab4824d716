import type { Command } from 'commander';
import type { Context, InStream, OutStream } from './context.js';
import type { MlflowClient } from './mlflow/client.js';
import type { Connection } from './mlflow/connect.js';
import { redactSecrets } from './mlflow/redact.js';
import { interruptController } from './signals.js';
import { nonInteractivePrompter, ttyPrompter, type Prompter } from './terminal/prompt.js';
import { makeSpinnerFactory } from './terminal/spinner.js';
import { decideColor, makeStyle, type Style } from './terminal/style.js';

/** The global flags every command inherits (declared in program.ts). */
export interface GlobalOptions {
  json?: boolean;
  color?: boolean;
  verbose?: boolean;
  yes?: boolean;
  input?: boolean;
  trackingUri?: string;
}

export interface ContextDeps {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal: AbortSignal;
  now?: () => Date;
  random?: () => number;
  prompter?: Prompter;
  /** Replaces the real connection (tests hand in a client for a server they started). */
  connect?: () => Promise<Connection>;
}

/** Builds the Context of one run from the global flags and the process (or test) streams. */
export function createContext(globals: GlobalOptions, deps: ContextDeps): Context {
  const json = globals.json === true;
  const style = makeStyle({
    color: decideColor({ isTTY: deps.stdout.isTTY === true, env: deps.env, flag: globals.color }),
    tty: deps.stdout.isTTY === true,
  });
  const errStyle: Style = makeStyle({
    color: decideColor({ isTTY: deps.stderr.isTTY === true, env: deps.env, flag: globals.color }),
    tty: deps.stderr.isTTY === true,
  });
  const ci = deps.env.CI !== undefined && deps.env.CI !== '' && deps.env.CI !== 'false' && deps.env.CI !== '0';
  const interactive =
    deps.stdin.isTTY === true && deps.stdout.isTTY === true && !json && globals.input !== false && !ci;
  const verbose = globals.verbose === true;
  const line = (s: string) => deps.stderr.write(redactSecrets(s) + '\n');

  let connection: Promise<Connection> | undefined;
  const ctx: Context = {
    stdout: deps.stdout,
    stderr: deps.stderr,
    stdin: deps.stdin,
    env: deps.env,
    cwd: deps.cwd,
    json,
    verbose,
    yes: globals.yes === true,
    interactive,
    style,
    errStyle,
    signal: deps.signal,
    now: deps.now ?? (() => new Date()),
    random: deps.random ?? Math.random,
    prompt: deps.prompter ?? (interactive ? ttyPrompter : nonInteractivePrompter),
    spinner: makeSpinnerFactory(deps.stderr, errStyle, !json),
    info: line,
    warn: (s) => line(`${errStyle.warn} ${s}`),
    debug: (s) => {
      if (verbose) line(errStyle.dim(s));
    },
    async mlflow(): Promise<MlflowClient> {
      connection ??= (async () => {
        const c = deps.connect
          ? await deps.connect()
          : await (
              await import('./mlflow/connect.js')
            ).connect({
              trackingUri: globals.trackingUri,
              env: deps.env,
              cwd: deps.cwd,
              signal: deps.signal,
              ...(verbose ? { log: (l: string) => line(errStyle.dim(l)) } : {}),
            });
        line(errStyle.dim(`using ${c.label}`));
        return c;
      })();
      return (await connection).client;
    },
    output(result, render) {
      if (json) deps.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else {
        const text = render(result, style);
        if (text !== '') deps.stdout.write(text.endsWith('\n') ? text : text + '\n');
      }
    },
    async close() {
      const c = connection;
      connection = undefined;
      if (c) await (await c.catch(() => undefined))?.close();
    },
  };
  return ctx;
}

/**
 * Wraps a command's action: builds the Context from the global flags, runs the command,
 * and always closes what it opened. Errors propagate to main.ts.
 */
export function action<A extends unknown[]>(
  fn: (ctx: Context, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions>();
    const ctx = createContext(globals, {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
      cwd: process.cwd(),
      signal: interruptController.signal,
    });
    try {
      await fn(ctx, ...(args.slice(0, -1) as A));
    } finally {
      await ctx.close();
    }
  };
}
