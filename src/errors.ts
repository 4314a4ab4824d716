/**
 * The one error hierarchy of mlv. Commands throw these; only `main.ts` prints them
 * and turns them into an exit code.
 *
 *   0   success
 *   1   a check or gate said no                      CheckFailedError
 *   2   usage or input error                         UsageError, InputError, NotFoundError
 *   3   remote error (unreachable, 5xx, timeout)     RemoteError
 *   4   authentication refused (401/403)             AuthError
 *   5   rollout paused (inconclusive, provider down) PausedError
 *   130 interrupted                                  InterruptedError
 */

export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  remote: 3,
  auth: 4,
  paused: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface MlvErrorOptions {
  /** A one-line suggestion of what to do next, printed as `hint: …`. */
  hint?: string;
  cause?: unknown;
}

export class MlvError extends Error {
  /** Stable, greppable identifier, e.g. `MLV_USAGE`, `MLV_REMOTE_TIMEOUT`. */
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(message: string, code: string, exitCode: ExitCode, options: MlvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** A bad flag, a missing argument, an unknown sub-command. */
export class UsageError extends MlvError {
  constructor(message: string, options?: MlvErrorOptions) {
    super(message, 'MLV_USAGE', ExitCode.usage, options);
  }
}

/** A file, value or reference that is not what was expected (exit 2). */
export class InputError extends MlvError {
  constructor(message: string, options?: MlvErrorOptions & { code?: string }) {
    super(message, options?.code ?? 'MLV_INPUT', ExitCode.usage, options);
  }
}

/** An unknown model, version, alias or run: the user asked for something that is not there (exit 2). */
export class NotFoundError extends MlvError {
  constructor(message: string, options?: MlvErrorOptions) {
    super(message, 'MLV_NOT_FOUND', ExitCode.usage, options);
  }
}

/** A gate, check or verdict said no (exit 1). The result object is usually printed before this is thrown. */
export class CheckFailedError extends MlvError {
  constructor(message: string, options?: MlvErrorOptions & { code?: string }) {
    super(message, options?.code ?? 'MLV_CHECK_FAILED', ExitCode.checkFailed, options);
  }
}

/** The server could not be reached, timed out, or kept failing (exit 3). */
export class RemoteError extends MlvError {
  readonly status: number | undefined;
  readonly errorCode: string | undefined;
  constructor(message: string, options: MlvErrorOptions & { code?: string; status?: number; errorCode?: string } = {}) {
    super(message, options.code ?? 'MLV_REMOTE', ExitCode.remote, options);
    this.status = options.status;
    this.errorCode = options.errorCode;
  }
}

/** The server refused our credentials (exit 4). */
export class AuthError extends MlvError {
  readonly status: number;
  constructor(message: string, status: number, options?: MlvErrorOptions) {
    super(message, 'MLV_AUTH', ExitCode.auth, options);
    this.status = status;
  }
}

/** A rollout is paused: not enough data, or its metrics provider kept failing (exit 5). */
export class PausedError extends MlvError {
  constructor(message: string, options?: MlvErrorOptions) {
    super(message, 'MLV_PAUSED', ExitCode.paused, options);
  }
}

export class InterruptedError extends MlvError {
  constructor(message = 'interrupted') {
    super(message, 'MLV_INTERRUPTED', ExitCode.interrupted);
  }
}

/**
 * The exit code for anything thrown. Our own errors carry one. Anything else is a bug in mlv;
 * it exits 1 so that a CI gate built on mlv fails closed rather than passing.
 */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof MlvError ? err.exitCode : ExitCode.checkFailed;
}
