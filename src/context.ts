import type { MlflowClient } from './mlflow/client.js';
import type { Style } from './terminal/style.js';
import type { Prompter } from './terminal/prompt.js';
import type { Spinner } from './terminal/spinner.js';
import type { InStream, OutStream } from './terminal/streams.js';

export type { InStream, OutStream };

/**
 * Everything a command needs that differs between a test and a real run. Commands receive
 * it as their first argument and never reach for `process` themselves.
 */
export interface Context {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly stdin: InStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;

  /** `--json`: stdout carries exactly one JSON document. */
  readonly json: boolean;
  /** `--verbose`: stack traces on errors, request logs on stderr. */
  readonly verbose: boolean;
  /** `--yes`: assume "yes" to confirmations. */
  readonly yes: boolean;
  /** Prompts are allowed: stdin and stdout are TTYs, not --json, not --no-input, CI unset. */
  readonly interactive: boolean;

  /** Style for what goes to stdout / stderr (each decided from its own stream). */
  readonly style: Style;
  readonly errStyle: Style;

  /** Aborted on Ctrl-C. Long operations pass it down. */
  readonly signal: AbortSignal;

  now(): Date;
  random(): number;

  /**
   * The MLflow client for this run: the tracking server named by --tracking-uri or
   * MLFLOW_TRACKING_URI, or else the embedded registry in MLV_HOME / ./.mlv (started in-process
   * on a loopback port). Connected lazily on first call; says once on stderr which one.
   */
  mlflow(): Promise<MlflowClient>;

  /** A spinner on stderr; a no-op unless stderr is a TTY and --json is off. */
  spinner(text: string): Spinner;
  /** A status line on stderr ("✓ promoted …"). Suppressed by nothing: stderr is for people. */
  info(message: string): void;
  warn(message: string): void;
  /** Verbose-only diagnostics on stderr. */
  debug(message: string): void;

  readonly prompt: Prompter;

  /** Writes the result: JSON when --json, else the human rendering. */
  output<T>(result: T, render: (result: T, style: Style) => string): void;

  /** Releases what the run acquired (the embedded server, HTTP pools). Idempotent. */
  close(): Promise<void>;
}
