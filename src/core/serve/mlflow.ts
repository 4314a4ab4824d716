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
  return tensorsFromDocument(body, specs, 'request');
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
