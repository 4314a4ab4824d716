/**
 * Errors the embedded server sends back, in MLflow's wire form:
 * `{"error_code": "<CODE>", "message": "<text>"}` with the HTTP status MLflow uses for that code.
 */

export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'INTERNAL_ERROR'
  | 'TEMPORARILY_UNAVAILABLE';

const STATUS: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  INTERNAL_ERROR: 500,
  TEMPORARILY_UNAVAILABLE: 503,
};

export class MlflowApiError extends Error {
  readonly errorCode: MlflowErrorCode;
  readonly status: number;
  constructor(errorCode: MlflowErrorCode, message: string) {
    super(message);
    this.name = 'MlflowApiError';
    this.errorCode = errorCode;
    this.status = STATUS[errorCode];
  }
}

const API_DOCS = ' See the API docs for more information about request parameters.';

export const invalidParameter = (message: string) => new MlflowApiError('INVALID_PARAMETER_VALUE', message);
export const notFound = (message: string) => new MlflowApiError('RESOURCE_DOES_NOT_EXIST', message);
export const alreadyExists = (message: string) => new MlflowApiError('RESOURCE_ALREADY_EXISTS', message);

/** MLflow's "Missing value for required parameter 'x'. See the API docs …" (request-schema check). */
export function missingParameter(path: string): MlflowApiError {
  return invalidParameter(`Missing value for required parameter '${path}'.${API_DOCS}`);
}

/** Python's `type(x).__name__` for a JSON value, as MLflow's type hints print it. */
export function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** `json.dumps(value, sort_keys=True, separators=(",", ":"))`, close enough for messages. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'null';
  return JSON.stringify(value) ?? 'null';
}

/** MLflow's request-schema type failure: "Invalid value 123 for parameter 'name' supplied:  Hint: …". */
export function wrongType(path: string, value: unknown): MlflowApiError {
  return invalidParameter(
    `Invalid value ${formatValue(value)} for parameter '${path}' supplied:  Hint: Value was of type '${pythonTypeName(value)}'.${API_DOCS}`,
  );
}

/** MLflow's `invalid_value(path, value, message)`. */
export function invalidValue(path: string, value: unknown, message?: string): MlflowApiError {
  return invalidParameter(
    message === undefined
      ? `Invalid value ${formatValue(value)} for parameter '${path}' supplied.`
      : `Invalid value ${formatValue(value)} for parameter '${path}' supplied: ${message}`,
  );
}

export function registeredModelNotFound(name: string): MlflowApiError {
  return notFound(`Registered Model with name=${name} not found`);
}

export function modelVersionNotFound(name: string, version: string | number): MlflowApiError {
  return notFound(`Model Version (name=${name}, version=${version}) not found`);
}

export function experimentNotFound(id: string): MlflowApiError {
  return notFound(`No Experiment with id=${id} exists`);
}

export function runNotFound(runId: string): MlflowApiError {
  return notFound(`Run with id=${runId} not found`);
}

export function loggedModelNotFound(modelId: string): MlflowApiError {
  return notFound(`Logged model with ID '${modelId}' not found.`);
}
