import { InputError } from '../../errors.js';
import {
  FLOAT_TYPES,
  INT_RANGE,
  INT_TYPES,
  allocate,
  elementCount,
  floatToHalf,
  formatShape,
  jsonAt,
  type HostTensor,
  type TensorSpec,
  type TensorType,
} from '../smoke/tensor.js';

/**
 * The Open Inference Protocol v2 (KServe) request and response bodies: tensors as
 * `{"name", "shape", "datatype", "data"}` with row-major `data` (flat, or nested as KServe accepts).
 * https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
 */

export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

export const OIP_DATATYPE: Readonly<Record<TensorType, OipDatatype>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

export interface OipTensorMetadata {
  name: string;
  datatype: OipDatatype | null;
  /** -1 for a dimension that is not fixed. */
  shape: number[];
}

/** Model metadata's `inputs` / `outputs` entries. */
export function tensorMetadata(specs: readonly TensorSpec[]): OipTensorMetadata[] {
  return specs.map((s) => ({
    name: s.name,
    datatype: s.type === null ? null : OIP_DATATYPE[s.type],
    shape: (s.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)),
  }));
}

export interface OipRequest {
  id: string | undefined;
  parameters: Record<string, unknown>;
  tensors: Record<string, HostTensor>;
  /** Requested output names; undefined = all. */
  outputs: string[] | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates an inference request against the model's inputs and packs its tensors. */
export function parseInferRequest(
  body: unknown,
  specs: readonly TensorSpec[],
  outputSpecs: readonly TensorSpec[],
): OipRequest {
  if (!isObject(body)) throw new InputError('request: expected a JSON object with "inputs"');
  if (!Array.isArray(body.inputs)) throw new InputError('request: "inputs" must be a list of tensors');
  const parameters = isObject(body.parameters) ? body.parameters : {};
  const id = typeof body.id === 'string' ? body.id : undefined;
  const tensors: Record<string, HostTensor> = {};
  const names = specs.map((s) => s.name).join(', ');
  for (const [i, raw] of body.inputs.entries()) {
    if (!isObject(raw) || typeof raw.name !== 'string') {
      throw new InputError(`request: inputs[${i}] must be an object with "name", "shape", "datatype" and "data"`);
    }
    const spec = specs.find((s) => s.name === raw.name);
    if (!spec) throw new InputError(`request: "${raw.name}" is not an input of the model (its inputs: ${names})`);
    if (raw.name in tensors) throw new InputError(`request: input "${raw.name}" is given twice`);
    tensors[raw.name] = parseTensor(raw, spec);
  }
  for (const s of specs) {
    if (!(s.name in tensors)) throw new InputError(`request has no input "${s.name}" (the model's inputs: ${names})`);
  }
  let outputs: string[] | undefined;
  if (Array.isArray(body.outputs)) {
    outputs = body.outputs.map((o, i) => {
      if (!isObject(o) || typeof o.name !== 'string') throw new InputError(`request: outputs[${i}] must have a "name"`);
      if (!outputSpecs.some((s) => s.name === o.name)) {
        throw new InputError(
          `request: "${o.name}" is not an output of the model (its outputs: ${outputSpecs.map((s) => s.name).join(', ')})`,
        );
      }
      return o.name;
    });
  }
  return { id, parameters, tensors, outputs };
}

function parseTensor(raw: Record<string, unknown>, spec: TensorSpec): HostTensor {
  const where = `request: input "${spec.name}"`;
  if (spec.type === null) throw new InputError(`${where} is ${spec.typeText}; only tensors can be served`);
  const expected = OIP_DATATYPE[spec.type];
  if (raw.datatype !== expected) {
    throw new InputError(`${where} has datatype ${JSON.stringify(raw.datatype)}, the model expects ${expected}`);
  }
  const shape = raw.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw new InputError(`${where}: "shape" must be a list of non-negative integers`);
  }
  const dims = shape as number[];
  const declared = spec.shape;
  if (declared !== null) {
    const mismatch = dims.length !== declared.length || declared.some((d, a) => typeof d === 'number' && d !== dims[a]);
    if (mismatch) {
      throw new InputError(`${where} has shape ${formatShape(dims)}, the model expects ${formatShape(declared)}`);
    }
  }
  const data = Array.isArray(raw.data) ? (raw.data as unknown[]).flat(Infinity) : undefined;
  if (data === undefined) throw new InputError(`${where}: "data" must be a list`);
  const n = elementCount(dims);
  if (data.length !== n) {
    throw new InputError(`${where} has ${data.length} values for shape ${formatShape(dims)} (${n} expected)`);
  }
  return { type: spec.type, dims, data: pack(data, spec.type, where) };
}

function pack(values: unknown[], type: TensorType, where: string): HostTensor['data'] {
  const data = allocate(type, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (FLOAT_TYPES.has(type)) {
      if (typeof v !== 'number')
        throw new InputError(`${where} at [${i}]: expected a number (${type}), got ${show(v)}`);
      if (type === 'float16') (data as Uint16Array)[i] = floatToHalf(v);
      else (data as Float32Array)[i] = v;
    } else if (INT_TYPES.has(type)) {
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new InputError(`${where} at [${i}]: expected an integer (${type}), got ${show(v)}`);
      }
      const [lo, hi] = INT_RANGE[type]!;
      if (v < lo || v > hi) throw new InputError(`${where} at [${i}]: ${v} is out of range for ${type}`);
      if (type === 'int64') (data as BigInt64Array)[i] = BigInt(v);
      else if (type === 'uint64') (data as BigUint64Array)[i] = BigInt(v);
      else (data as Int32Array)[i] = v;
    } else if (type === 'bool') {
      if (typeof v !== 'boolean') throw new InputError(`${where} at [${i}]: expected true or false, got ${show(v)}`);
      (data as Uint8Array)[i] = v ? 1 : 0;
    } else {
      if (typeof v !== 'string') throw new InputError(`${where} at [${i}]: expected a string (BYTES), got ${show(v)}`);
      (data as string[])[i] = v;
    }
  }
  return data;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : String(v);
}

export interface OipOutputTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: (number | boolean | string)[];
}

/** Response `outputs`: flat row-major data; non-finite floats as "NaN" / "Infinity" / "-Infinity". */
export function encodeOutputs(
  outputs: Readonly<Record<string, HostTensor>>,
  names?: readonly string[],
): OipOutputTensor[] {
  const selected = names ?? Object.keys(outputs);
  return selected.map((name) => {
    const t = outputs[name]!;
    const n = elementCount(t.dims);
    const data = new Array<number | boolean | string>(n);
    for (let i = 0; i < n; i++) data[i] = jsonAt(t, i);
    return { name, datatype: OIP_DATATYPE[t.type], shape: [...t.dims], data };
  });
}
