import { ExitCode, MlvError, NotFoundError, RemoteError, type MlvErrorOptions } from '../errors.js';

/**
 * MLflow's error codes as they appear in `{"error_code": …}` bodies. Branch on these (and the
 * HTTP status), never on message text: MLflow's messages differ between versions and embed SQL.
 */
export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'INTERNAL_ERROR'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'BAD_REQUEST'
  | (string & {});

/**
 * MLflow answered a request with a 4xx: the request was wrong (exit 2). Carries MLflow's
 * `error_code` (undefined when the body was not MLflow's JSON, e.g. a 404/405 HTML page),
 * the HTTP status and the server's message (secrets removed).
 */
export class MlflowApiError extends MlvError {
  readonly status: number;
  readonly errorCode: MlflowErrorCode | undefined;
  /** The server's own message, one line, secrets removed. */
  readonly serverMessage: string;
  /** `GET /registered-models/get`: what was asked, relative to the API root. */
  readonly endpoint: string;

  constructor(
    message: string,
    details: { status: number; errorCode: string | undefined; serverMessage: string; endpoint: string },
    options?: MlvErrorOptions,
  ) {
    super(
      message,
      details.errorCode === 'RESOURCE_DOES_NOT_EXIST'
        ? 'MLV_NOT_FOUND'
        : `MLV_MLFLOW_${details.errorCode ?? `HTTP_${details.status}`}`,
      ExitCode.usage,
      options,
    );
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.serverMessage = details.serverMessage;
    this.endpoint = details.endpoint;
  }
}

/**
 * True when `err` came from MLflow (a 4xx `MlflowApiError`, or a `RemoteError` carrying an
 * `error_code` after a 5xx), optionally with the given `error_code`.
 *
 * @example
 *   try { await client.createRegisteredModel({ name }) }
 *   catch (err) { if (!isMlflowError(err, 'RESOURCE_ALREADY_EXISTS')) throw err }
 */
export function isMlflowError(err: unknown, code?: MlflowErrorCode): err is MlflowApiError | RemoteError {
  if (err instanceof MlflowApiError) return code === undefined || err.errorCode === code;
  if (err instanceof RemoteError && err.errorCode !== undefined) return code === undefined || err.errorCode === code;
  return false;
}

/** True for "not there": MLflow's 404 RESOURCE_DOES_NOT_EXIST, or a missing artifact (NotFoundError). */
export function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError || isMlflowError(err, 'RESOURCE_DOES_NOT_EXIST');
}
