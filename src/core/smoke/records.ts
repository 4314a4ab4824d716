import { InputError } from '../../errors.js';
import {
  FLOAT_TYPES,
  INT_RANGE,
  INT_TYPES,
  allocate,
  floatToHalf,
  formatShape,
  type HostTensor,
  type TensorSpec,
} from './tensor.js';

/**
 * Turns parsed `--input` documents into tensors and validates them against the model's inputs,
 * so a wrong name, type or shape is an InputError naming the input, never a runtime crash.
 *
 * Accepted documents (MLflow's scoring protocol plus a plain row form for JSON Lines):
 *   {"inputs": {"X": [[…]], …}}              one tensor per input
 *   {"inputs": [[…]]}                          the tensor of a single-input model
 *   {"instances": [row, …]}                   rows; a row is {"X": …} or (single input) a value
 *   {"dataframe_split": {"columns": […], "data": [[…]]}}
 *   {"dataframe_records": [{"col": v, …}, …]}
 *   JSON Lines: one document per line (concatenated along axis 0), or one row {"X": …} per line.
 * Dataframe columns either name the inputs (each cell is that input's row) or, for a single-input
 * model, are the features of that input's rows.
 */

const FORMAT_KEYS = ['inputs', 'instances', 'dataframe_split', 'dataframe_records'] as const;

type Rows = Record<string, unknown[]>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Rows per input name, from one document. */
function rowsOfDocument(doc: unknown, specs: readonly TensorSpec[], label: string): Rows {
  if (!isObject(doc)) throw new InputError(`${label}: expected a JSON object, got ${describe(doc)}`);
  const key = FORMAT_KEYS.find((k) => k in doc);
  if (key === undefined) {
    throw new InputError(
      `${label}: expected {"inputs": …}, {"instances": …}, {"dataframe_split": …} or {"dataframe_records": …}, got keys ${
        Object.keys(doc)
          .map((k) => JSON.stringify(k))
          .join(', ') || '(none)'
      }`,
    );
  }
  const body = doc[key];
  const single = specs.length === 1 ? specs[0]!.name : undefined;
  switch (key) {
    case 'inputs': {
      if (isObject(body)) {
        const rows: Rows = {};
        for (const [name, value] of Object.entries(body)) rows[name] = asRows(value, name, label);
        return rows;
      }
      if (single === undefined) {
        throw new InputError(
          `${label}: "inputs" must map input names to values for a model with ${specs.length} inputs (${names(specs)})`,
        );
      }
      return { [single]: asRows(body, single, label) };
    }
    case 'instances': {
      if (!Array.isArray(body)) throw new InputError(`${label}: "instances" must be a list of rows`);
      if (body.length > 0 && body.every(isObject)) return recordsToRows(body, specs, label);
      if (single === undefined) {
        throw new InputError(`${label}: each of "instances" must be an object naming the inputs (${names(specs)})`);
      }
      return { [single]: body };
    }
    case 'dataframe_split': {
      if (!isObject(body) || !Array.isArray(body.data)) {
        throw new InputError(`${label}: "dataframe_split" must have "columns" and "data" lists`);
      }
      const columns = Array.isArray(body.columns) ? body.columns.map(String) : undefined;
      const data = body.data;
      for (const [i, row] of data.entries()) {
        if (!Array.isArray(row)) throw new InputError(`${label}: dataframe_split.data[${i}] must be a list`);
        if (columns && row.length !== columns.length) {
          throw new InputError(
            `${label}: dataframe_split.data[${i}] has ${row.length} values for ${columns.length} columns`,
          );
        }
      }
      return frameToRows(columns, data as unknown[][], specs, label);
    }
    case 'dataframe_records': {
      if (!Array.isArray(body) || !body.every(isObject)) {
        throw new InputError(`${label}: "dataframe_records" must be a list of objects`);
      }
      const columns = body.length > 0 ? Object.keys(body[0]!) : [];
      const data = body.map((r, i) =>
        columns.map((c) => {
          if (!(c in r)) throw new InputError(`${label}: dataframe_records[${i}] has no "${c}"`);
          return r[c];
        }),
      );
      return frameToRows(columns, data, specs, label);
    }
  }
}

function names(specs: readonly TensorSpec[]): string {
  return specs.map((s) => s.name).join(', ');
}

function asRows(value: unknown, name: string, label: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new InputError(`${label}: input "${name}" must be a list of rows (a nested array), got ${describe(value)}`);
  }
  return value;
}

function recordsToRows(records: Record<string, unknown>[], specs: readonly TensorSpec[], label: string): Rows {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const specNames = specs.map((s) => s.name);
  const unknown = keys.find((k) => !specNames.includes(k));
  if (unknown !== undefined) {
    throw new InputError(`${label}: "${unknown}" is not an input of the model (its inputs: ${names(specs)})`);
  }
  const rows: Rows = Object.fromEntries(keys.map((k) => [k, []]));
  records.forEach((r, i) => {
    for (const k of keys) {
      if (!(k in r)) throw new InputError(`${label}: row ${i + 1} has no value for input "${k}"`);
      rows[k]!.push(r[k]);
    }
  });
  return rows;
}

function frameToRows(
  columns: string[] | undefined,
  data: unknown[][],
  specs: readonly TensorSpec[],
  label: string,
): Rows {
  const specNames = new Set(specs.map((s) => s.name));
  if (columns && columns.length > 0 && columns.every((c) => specNames.has(c))) {
    const rows: Rows = {};
    columns.forEach((c, j) => (rows[c] = data.map((r) => r[j])));
    return rows;
  }
  if (specs.length !== 1) {
    throw new InputError(
      `${label}: the columns (${(columns ?? []).join(', ') || 'none'}) must be the model's inputs (${names(specs)})`,
    );
  }
  const spec = specs[0]!;
  // The columns are the features of the single input: rank 1 takes one column as the value.
  const rank = spec.shape?.length;
  return { [spec.name]: rank === 1 ? data.map((r) => (r.length === 1 ? r[0] : r)) : data };
}

/** Tensors for the model's inputs from one parsed JSON document. */
export function tensorsFromDocument(
  doc: unknown,
  specs: readonly TensorSpec[],
  label: string,
): Record<string, HostTensor> {
  return rowsToTensors(rowsOfDocument(doc, specs, label), specs, label);
}

/**
 * Tensors from JSON Lines: each line a document (its rows appended) or a row object
 * {"X": value-of-one-row, …}.
 */
export function tensorsFromLines(
  lines: readonly unknown[],
  specs: readonly TensorSpec[],
  label: string,
): Record<string, HostTensor> {
  const rows: Rows = {};
  const append = (more: Rows, where: string) => {
    const keys = Object.keys(rows);
    if (keys.length > 0) {
      const got = Object.keys(more);
      const missing = keys.find((k) => !got.includes(k)) ?? got.find((k) => !keys.includes(k));
      if (missing !== undefined) throw new InputError(`${label}: ${where} has no value for input "${missing}"`);
    }
    for (const [k, v] of Object.entries(more)) (rows[k] ??= []).push(...v);
  };
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (isObject(line) && FORMAT_KEYS.some((k) => k in line)) {
      append(rowsOfDocument(line, specs, `${label} ${where}`), where);
    } else if (isObject(line)) {
      append(Object.fromEntries(Object.entries(line).map(([k, v]) => [k, [v]])), where);
    } else {
      throw new InputError(`${label} ${where}: expected a JSON object, got ${describe(line)}`);
    }
  });
  return rowsToTensors(rows, specs, label);
}

function rowsToTensors(rows: Rows, specs: readonly TensorSpec[], label: string): Record<string, HostTensor> {
  const specNames = specs.map((s) => s.name);
  for (const name of Object.keys(rows)) {
    if (!specNames.includes(name)) {
      throw new InputError(`${label}: "${name}" is not an input of the model (its inputs: ${names(specs)})`);
    }
  }
  const out: Record<string, HostTensor> = {};
  for (const spec of specs) {
    const value = rows[spec.name];
    if (value === undefined) {
      throw new InputError(`${label} has no value for input "${spec.name}" (the model's inputs: ${names(specs)})`);
    }
    if (value.length === 0) throw new InputError(`${label}: input "${spec.name}" has no rows`);
    out[spec.name] = toTensor(value, spec, label);
  }
  checkSharedDims(out, specs, label);
  return out;
}

/** Validates one nested value against its spec and packs it. */
export function toTensor(value: unknown, spec: TensorSpec, label: string): HostTensor {
  const where = `${label}: input "${spec.name}"`;
  if (spec.type === null) {
    throw new InputError(`${where} is ${spec.typeText}; mlv smoke feeds tensors only`);
  }
  const dims: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  const declared = spec.shape;
  if (declared !== null) {
    const mismatch = dims.length !== declared.length || declared.some((d, a) => typeof d === 'number' && d !== dims[a]);
    if (mismatch) {
      throw new InputError(`${where} has shape ${formatShape(dims)}, the model expects ${formatShape(declared)}`);
    }
  }
  const type = spec.type;
  const values: unknown[] = [];
  const flatten = (v: unknown, axis: number, path: string) => {
    if (axis === dims.length) {
      if (Array.isArray(v)) throw new InputError(`${where} is ragged: ${path} is a list where a value was expected`);
      values.push(v);
      checkElement(v, type, `${where} at ${path}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[axis]) {
      throw new InputError(
        `${where} is ragged: ${path || 'the value'} has ${Array.isArray(v) ? v.length : 'no'} entries, expected ${dims[axis]}`,
      );
    }
    v.forEach((x, k) => flatten(x, axis + 1, `${path}[${k}]`));
  };
  flatten(value, 0, '');
  const data = allocate(type, values.length);
  values.forEach((v, i) => {
    if (type === 'int64') (data as BigInt64Array)[i] = BigInt(v as number);
    else if (type === 'uint64') (data as BigUint64Array)[i] = BigInt(v as number);
    else if (type === 'bool') (data as Uint8Array)[i] = v === true ? 1 : 0;
    else if (type === 'string') (data as string[])[i] = v as string;
    else if (type === 'float16') (data as Uint16Array)[i] = floatToHalf(v as number);
    else (data as Float32Array)[i] = v as number;
  });
  return { type, dims, data };
}

function checkElement(v: unknown, type: string, where: string): void {
  if (FLOAT_TYPES.has(type as never)) {
    if (typeof v !== 'number') throw new InputError(`${where}: expected a number (${type}), got ${describe(v)}`);
    return;
  }
  if (INT_TYPES.has(type as never)) {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new InputError(`${where}: expected an integer (${type}), got ${describe(v)}`);
    }
    const [lo, hi] = INT_RANGE[type]!;
    if (v < lo || v > hi) throw new InputError(`${where}: ${v} is out of range for ${type} [${lo}, ${hi}]`);
    return;
  }
  if (type === 'bool') {
    if (typeof v !== 'boolean') throw new InputError(`${where}: expected true or false (bool), got ${describe(v)}`);
    return;
  }
  if (type === 'string' && typeof v !== 'string') {
    throw new InputError(`${where}: expected a string, got ${describe(v)}`);
  }
}

/** The same symbolic dimension must have the same size in every input. */
function checkSharedDims(tensors: Record<string, HostTensor>, specs: readonly TensorSpec[], label: string): void {
  const seen = new Map<string, { size: number; input: string }>();
  for (const s of specs) {
    s.shape?.forEach((d, axis) => {
      if (typeof d !== 'string') return;
      const size = tensors[s.name]!.dims[axis]!;
      const prev = seen.get(d);
      if (prev && prev.size !== size) {
        throw new InputError(
          `${label}: inputs disagree on dimension "${d}": "${prev.input}" has ${prev.size}, "${s.name}" has ${size}`,
        );
      }
      if (!prev) seen.set(d, { size, input: s.name });
    });
  }
}

/** Binds each symbolic input dimension to the size the tensors give it. */
export function bindSymbols(tensors: Record<string, HostTensor>, specs: readonly TensorSpec[]): Record<string, number> {
  const bound: Record<string, number> = {};
  for (const s of specs) {
    s.shape?.forEach((d, axis) => {
      const size = tensors[s.name]?.dims[axis];
      if (typeof d === 'string' && size !== undefined && !(d in bound)) bound[d] = size;
    });
  }
  return bound;
}
