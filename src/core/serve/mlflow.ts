import { InputError } from '../../errors.js';
import { tensorsFromDocument } from '../smoke/records.js';
import { toNested, type HostTensor, type TensorSpec } from '../smoke/tensor.js';

/**
 * MLflow's scoring protocol (`POST /invocations`), as `mlflow models serve` speaks it:
 * `{"dataframe_split": …}`, `{"dataframe_records": …}`, `{"instances": …}` or `{"inputs": …}` in,
 * `{"predictions": …}` out. Validation (names, types, shapes) is the smoke records' one, so a bad
 * request is an InputError naming the input and what it expects.
 */

export function parseInvocation(body: unknown, specs: readonly TensorSpec[]): Record<string, HostTensor> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError(
      'request: expected a JSON object with "dataframe_split", "dataframe_records", "instances" or "inputs"',
    );
  }
  return fastInvocation(body, specs) ?? tensorsFromDocument(body, specs, 'request');
}

/**
 * `predictions`: the nested lists of the only output, or an object of them by output name when the
 * model has several (MLflow answers a dict-valued prediction the same way).
 */
export function encodePredictions(outputs: Readonly<Record<string, HostTensor>>): unknown {
  const names = Object.keys(outputs);
  if (names.length === 1) return toNested(outputs[names[0]!]!);
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = toNested(outputs[name]!);
  return out;
}

/**
 * The common request shapes — one tensor input given as `inputs`/`instances` rows, or
 * `dataframe_split` data — packed without the general path's per-element bookkeeping. Returns
 * undefined for anything else or anything invalid; the general path then answers (and words the
 * error).
 */
export function fastInvocation(body: unknown, specs: readonly TensorSpec[]): Record<string, HostTensor> | undefined {
  if (specs.length !== 1 || typeof body !== 'object' || body === null) return undefined;
  const spec = specs[0]!;
  const shape = spec.shape;
  if (shape === null || shape.length !== 2 || typeof shape[1] !== 'number') return undefined;
  if (spec.type !== 'float32' && spec.type !== 'float64') return undefined;
  const doc = body as Record<string, unknown>;
  let rows: unknown;
  const keys = Object.keys(doc);
  if (keys.length !== 1) return undefined;
  if (keys[0] === 'inputs' || keys[0] === 'instances') rows = doc[keys[0]];
  else if (keys[0] === 'dataframe_split') {
    const split = doc.dataframe_split as { data?: unknown; columns?: unknown } | null;
    if (typeof split !== 'object' || split === null) return undefined;
    // Columns named after the input mean a different layout: leave those to the general path.
    if (Array.isArray(split.columns) && split.columns.includes(spec.name)) return undefined;
    rows = split.data;
  } else return undefined;
  if (!Array.isArray(rows) || rows.length === 0) return undefined;
  if (typeof shape[0] === 'number' && shape[0] !== rows.length) return undefined;
  const width = shape[1];
  const data = spec.type === 'float32' ? new Float32Array(rows.length * width) : new Float64Array(rows.length * width);
  let k = 0;
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== width) return undefined;
    for (let j = 0; j < width; j++) {
      const v = row[j];
      if (typeof v !== 'number') return undefined;
      data[k++] = v;
    }
  }
  return { [spec.name]: { type: spec.type, dims: [rows.length, width], data } };
}
