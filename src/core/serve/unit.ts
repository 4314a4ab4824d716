import { InputError } from '../../errors.js';

/**
 * The unit a request is assigned by: the `X-Unit-Id` header, else the `unit` query parameter, else
 * (Open Inference Protocol) `parameters.unit_id`. Empty values count as absent; a request without
 * a unit is answered by the stable version and is not an exposure.
 */
export function unitOf(
  header: string | string[] | undefined,
  query: string | null | undefined,
  parameters?: Readonly<Record<string, unknown>>,
): string | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (h !== undefined && h !== '') return h;
  if (query !== null && query !== undefined && query !== '') return query;
  const p = parameters?.unit_id;
  if (typeof p === 'string' && p !== '') return p;
  if (typeof p === 'number' && Number.isFinite(p)) return String(p);
  return undefined;
}

/** Feedback rows: `{"unit","metric","value"[, "ts"]}`, one or a list. Returns the event lines' objects. */
export interface FeedbackRow {
  unit: string;
  metric: string;
  value: number;
  ts: string;
}

export function parseFeedback(body: unknown, now: Date): FeedbackRow[] {
  const rows = Array.isArray(body) ? body : [body];
  if (rows.length === 0) throw new InputError('feedback: the list is empty');
  return rows.map((r, i) => {
    const where = Array.isArray(body) ? `feedback[${i}]` : 'feedback';
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      throw new InputError(`${where}: expected an object {"unit", "metric", "value"[, "ts"]}`);
    }
    const o = r as Record<string, unknown>;
    const unit = typeof o.unit === 'number' && Number.isFinite(o.unit) ? String(o.unit) : o.unit;
    if (typeof unit !== 'string' || unit === '') throw new InputError(`${where}: "unit" must be a non-empty string`);
    if (typeof o.metric !== 'string' || o.metric === '') {
      throw new InputError(`${where}: "metric" must be a non-empty string`);
    }
    const value = o.value === undefined || o.value === null ? 1 : o.value;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InputError(`${where}: "value" must be a finite number`);
    }
    let ts: string;
    if (o.ts === undefined || o.ts === null) ts = now.toISOString();
    else if (typeof o.ts === 'string' && !Number.isNaN(Date.parse(o.ts))) ts = o.ts;
    else if (typeof o.ts === 'number' && Number.isFinite(o.ts))
      ts = new Date(o.ts < 1e11 ? o.ts * 1000 : o.ts).toISOString();
    else throw new InputError(`${where}: "ts" must be an ISO 8601 time or epoch seconds/milliseconds`);
    return { unit, metric: o.metric, value, ts };
  });
}
