/**
 * Request and response plumbing of the embedded server, following the protocol rules MLflow's
 * Flask handlers show (SUMMARY.md §1): GET reads the query string, POST/PATCH/DELETE read a JSON
 * body, only POST insists on `Content-Type: application/json`, a malformed body counts as `{}`,
 * a field of the wrong JSON type is INVALID_PARAMETER_VALUE, a missing one "Missing value …".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidParameter, missingParameter, type MlflowApiError, wrongType } from './errors.js';
import type { KeyValue } from './sql.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

export type FieldKind =
  /** a JSON string */
  | 'string'
  /** a string, or a number (MLflow stringifies numeric experiment ids) */
  | 'experimentId'
  /** an integer, or a string of digits (protobuf's int64 JSON form) */
  | 'int'
  | 'bool'
  /** a JSON array (items checked by the endpoint); repeated key in a query string */
  | 'array'
  /** an array of strings; repeated key in a query string */
  | 'strings';

export interface Field {
  kind: FieldKind;
  required?: boolean;
}
export type Schema = Record<string, Field>;
export type Params = Record<string, unknown>;

/** Largest JSON request body accepted (log-batch has its own, smaller, MLflow limit). */
export const MAX_JSON_BODY = 16 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw invalidParameter(`Request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** MLflow reads bodies with `get_json(force=True, silent=True)`: anything unparsable is `{}`. */
export function parseJsonObject(body: Buffer): Params {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
    // Old clients double-encode: a JSON string holding the JSON object.
    if (typeof parsed === 'string') parsed = JSON.parse(parsed);
  } catch {
    return {};
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Params) : {};
}

/** The POST Content-Type rule (PATCH and DELETE are not checked by MLflow, nor here). */
export function checkJsonContentType(req: IncomingMessage): void {
  const header = req.headers['content-type'];
  if (header === undefined || header === '') {
    throw invalidParameter('Bad Request. Content-Type header is missing.');
  }
  if (header.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
    throw invalidParameter("Bad Request. Content-Type must be one of ['application/json'].");
  }
}

/** Query parameters for a GET: repeated fields keep every value, the others take the first. */
export function paramsFromQuery(query: URLSearchParams, schema: Schema): Params {
  const out: Params = {};
  for (const [key, field] of Object.entries(schema)) {
    if (!query.has(key)) continue;
    if (field.kind === 'array' || field.kind === 'strings') {
      out[key] = query.getAll(key);
    } else if (field.kind === 'bool') {
      const v = query.get(key)!;
      if (v.toLowerCase() !== 'true' && v.toLowerCase() !== 'false') {
        throw invalidParameter(`Invalid boolean value: ${v}, must be 'true' or 'false'.`);
      }
      out[key] = v.toLowerCase() === 'true';
    } else {
      out[key] = query.get(key);
    }
  }
  return out;
}

/**
 * Checks and converts request fields in schema order: a required field that is absent, null or
 * "" → "Missing value …"; a present field of the wrong type → "Invalid value … Hint: …".
 * Fields not in the schema are ignored, as MLflow ignores unknown fields.
 */
export function validateParams(params: Params, schema: Schema): Params {
  const out: Params = {};
  for (const [key, field] of Object.entries(schema)) {
    const value = params[key];
    const absent = value === undefined || value === null;
    if (field.required && (absent || value === '')) throw missingParameter(key);
    if (absent) continue;
    switch (field.kind) {
      case 'string':
        if (typeof value !== 'string') throw wrongType(key, value);
        out[key] = value;
        break;
      case 'experimentId':
        if (typeof value === 'string') out[key] = value;
        else if (typeof value === 'number' && Number.isInteger(value)) out[key] = String(value);
        else throw wrongType(key, value);
        break;
      case 'int':
        out[key] = toInt(value, key);
        break;
      case 'bool':
        if (typeof value !== 'boolean') throw wrongType(key, value);
        out[key] = value;
        break;
      case 'array':
        if (!Array.isArray(value)) throw wrongType(key, value);
        out[key] = value;
        break;
      case 'strings':
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw wrongType(key, value);
        out[key] = value;
        break;
    }
  }
  return out;
}

/** An int64 field: a JSON integer, or a string of digits; anything else is a type error. */
export function toInt(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) {
    const n = Number(value.trim());
    if (Number.isSafeInteger(n)) return n;
  }
  throw wrongType(path, value);
}

/** `tags`/`params` lists: objects with a string `key` (required) and a string `value` (default ""). */
export function keyValues(value: unknown, path: string): KeyValue[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw wrongType(path, value);
  return value.map((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw wrongType(`${path}[${i}]`, item);
    const { key, value: v } = item as Record<string, unknown>;
    if (key === undefined || key === null || key === '') throw missingParameter(`${path}[${i}].key`);
    if (typeof key !== 'string') throw wrongType(`${path}[${i}].key`, key);
    if (v !== undefined && v !== null && typeof v !== 'string') throw wrongType(`${path}[${i}].value`, v);
    return { key, value: typeof v === 'string' ? v : '' };
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: MlflowApiError): void {
  sendJson(res, err.status, { error_code: err.errorCode, message: err.message });
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// Flask's default pages, byte for byte: clients see an HTML 404/405 without error_code.
const NOT_FOUND_HTML =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';
const METHOD_NOT_ALLOWED_HTML =
  '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n';

export function sendNotFound(res: ServerResponse): void {
  sendText(res, 404, 'text/html; charset=utf-8', NOT_FOUND_HTML);
}

export function sendMethodNotAllowed(res: ServerResponse, allowed: string[]): void {
  res.setHeader('Allow', [...allowed, 'HEAD', 'OPTIONS'].join(', '));
  sendText(res, 405, 'text/html; charset=utf-8', METHOD_NOT_ALLOWED_HTML);
}
