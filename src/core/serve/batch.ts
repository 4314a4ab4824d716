import { allocate, elementCount, type HostTensor, type TensorData, type TensorSpec } from '../smoke/tensor.js';

/**
 * Dynamic micro-batching, the pure part: which models can be batched, which queued requests go
 * into the next run, and how their tensors are joined along axis 0 and the outputs split back.
 */

/**
 * The batch dimension's name when every input and output declares the same symbolic first
 * dimension (e.g. "N"); null otherwise — then rows of different requests cannot be told apart in
 * the outputs, and the model is run one request at a time.
 */
export function batchDimension(inputs: readonly TensorSpec[], outputs: readonly TensorSpec[]): string | null {
  const all = [...inputs, ...outputs];
  if (all.length === 0 || inputs.length === 0) return null;
  const first = all[0]!.shape?.[0];
  if (typeof first !== 'string') return null;
  for (const s of all) {
    if (s.type === null || s.shape === null || s.shape.length === 0 || s.shape[0] !== first) return null;
    // The batch symbol must not reappear in another axis: joined rows would change that axis too.
    if (s.shape.slice(1).includes(first)) return null;
  }
  return first;
}

/** Rows of a request: the first dimension of its first input. */
export function rowsOf(tensors: Readonly<Record<string, HostTensor>>): number {
  const first = Object.values(tensors)[0];
  return first && first.dims.length > 0 ? first.dims[0]! : 1;
}

/**
 * How many of the queued requests (their row counts, oldest first) the next run takes: as many as
 * fit in `maxRows`, always at least one. Requests whose other dimensions differ from the first
 * one's cannot be joined; `compatible(i)` says whether request i can join request 0.
 */
export function planBatch(
  rows: readonly number[],
  maxRows: number,
  compatible: (i: number) => boolean = () => true,
): number {
  if (rows.length === 0) return 0;
  let total = rows[0]!;
  let take = 1;
  while (take < rows.length && total + rows[take]! <= maxRows && compatible(take)) {
    total += rows[take]!;
    take++;
  }
  return take;
}

/** Same type and same dimensions after the first, input by input. */
export function joinable(a: Readonly<Record<string, HostTensor>>, b: Readonly<Record<string, HostTensor>>): boolean {
  for (const [name, t] of Object.entries(a)) {
    const u = b[name];
    if (!u || u.type !== t.type || u.dims.length !== t.dims.length) return false;
    for (let k = 1; k < t.dims.length; k++) if (u.dims[k] !== t.dims[k]) return false;
  }
  return true;
}

/** Joins requests along axis 0, input by input. */
export function concatRequests(requests: readonly Readonly<Record<string, HostTensor>>[]): Record<string, HostTensor> {
  if (requests.length === 1) return { ...requests[0]! };
  const out: Record<string, HostTensor> = {};
  for (const name of Object.keys(requests[0]!)) {
    out[name] = concat(requests.map((r) => r[name]!));
  }
  return out;
}

function concat(parts: readonly HostTensor[]): HostTensor {
  const first = parts[0]!;
  const rows = parts.reduce((n, t) => n + t.dims[0]!, 0);
  const dims = [rows, ...first.dims.slice(1)];
  const data = allocate(first.type, elementCount(dims));
  let offset = 0;
  for (const t of parts) {
    if (Array.isArray(data)) {
      const src = t.data as string[];
      for (let i = 0; i < src.length; i++) data[offset + i] = src[i]!;
    } else {
      (data as unknown as { set(a: unknown, o: number): void }).set(t.data, offset);
    }
    offset += t.data.length;
  }
  return { type: first.type, dims, data };
}

/** Splits a batch's outputs back into per-request outputs with `rows[i]` rows each. */
export function splitOutputs(
  outputs: Readonly<Record<string, HostTensor>>,
  rows: readonly number[],
): Record<string, HostTensor>[] {
  if (rows.length === 1) return [{ ...outputs }];
  const result: Record<string, HostTensor>[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    const rowSize = t.dims[0] === 0 ? 0 : t.data.length / t.dims[0]!;
    let start = 0;
    rows.forEach((r, i) => {
      const end = start + r * rowSize;
      // Typed arrays are split into views of the batch's buffer (no copy); string lists are copied.
      const data = Array.isArray(t.data) ? t.data.slice(start, end) : t.data.subarray(start, end);
      result[i]![name] = { type: t.type, dims: [r, ...t.dims.slice(1)], data: data as TensorData };
      start = end;
    });
  }
  return result;
}
