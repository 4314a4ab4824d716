import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { onnx as OnnxNs } from 'onnx-proto';
import type { TensorSpec, TensorType } from '../core/smoke/tensor.js';
import { InputError } from '../errors.js';
import { WireError, readModelSkeleton } from './proto-scan.js';

/**
 * Reads an ONNX model's metadata (opsets, inputs, outputs) by decoding its protobuf with
 * onnx-proto — no onnxruntime, so `mlv register` can describe a model cheaply.
 */

/** ONNX TensorProto.DataType names (onnx.proto `DataType`, lower-cased). */
export type OnnxElemType =
  | 'undefined'
  | 'float'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'double'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1';

/** Index = the ONNX enum value (onnx.proto TensorProto.DataType, ONNX 1.17). */
const ELEM_TYPES: readonly OnnxElemType[] = [
  'undefined',
  'float',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'double',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'uint4',
  'int4',
  'float4e2m1',
];

/** The ONNX enum value of an element type name (inverse of the table above). */
export function elemTypeCode(t: OnnxElemType): number {
  return ELEM_TYPES.indexOf(t);
}

export function elemTypeName(code: number): OnnxElemType {
  return ELEM_TYPES[code] ?? 'undefined';
}

/** A dimension: a fixed size, a symbolic name ("N", "batch"), or null when unknown. */
export type Dim = number | string | null;

export interface OnnxValueInfo {
  name: string;
  /** `tensor` for ordinary inputs/outputs; sklearn-onnx's ZipMap gives `sequence` (of `map`). */
  kind: 'tensor' | 'sparse_tensor' | 'sequence' | 'map' | 'optional' | 'unknown';
  /** Element type of a tensor / sparse tensor; 'undefined' for the other kinds. */
  elemType: OnnxElemType;
  /** Dimensions; null when the rank itself is unknown (no shape in the model). */
  shape: Dim[] | null;
  /** ONNX's textual type, e.g. `tensor(float)`, `seq(map(int64,tensor(float)))`. */
  type: string;
  docString?: string;
}

export interface OnnxOpset {
  /** '' (or 'ai.onnx') is the default operator set. */
  domain: string;
  version: number;
}

export interface OnnxInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  modelVersion: number;
  opsets: OnnxOpset[];
  graphName: string;
  docString?: string;
  /** Graph inputs that the caller feeds (initializers excluded). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Distinct operator types used by the main graph, as `domain::Op` for non-default domains. */
  operators: string[];
  nodeCount: number;
  initializerCount: number;
  /** `metadata_props` key/value pairs. */
  metadata: Record<string, string>;
}

type OnnxModule = { onnx: typeof OnnxNs };
let onnxModule: OnnxModule | undefined;

/** onnx-proto (and protobufjs) are loaded on first use, synchronously (it is CommonJS). */
export function onnxProto(): typeof OnnxNs {
  onnxModule ??= createRequire(import.meta.url)('onnx-proto') as OnnxModule;
  return onnxModule.onnx;
}

/** protobufjs gives int64 fields as Long objects when `long` is installed. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/**
 * Reads and describes the ONNX model in `file`. Initializer data is skipped on disk (see
 * proto-scan.ts), so memory stays small whatever the model's size. Throws InputError for
 * anything that is not a valid model.
 */
export async function readOnnxInfo(file: string): Promise<OnnxInfo> {
  return readOnnxInfoSync(file);
}

export function readOnnxInfoSync(file: string): OnnxInfo {
  const label = path.basename(file);
  let skeleton: ReturnType<typeof readModelSkeleton>;
  try {
    if (statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    skeleton = readModelSkeleton(file);
  } catch (err) {
    if (err instanceof WireError) throw invalidModel(label, undecodable(err, skeletonHead(file)));
    throw fileError(file, err);
  }
  if (skeleton.size === 0) throw invalidModel(label, 'the file is empty');
  return describeModel(validateModel(decodeBytes(skeleton.bytes, label, skeleton.head), label), label);
}

/** The first bytes of a file, for telling a text file from a broken protobuf. */
function skeletonHead(file: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(512);
    return head.subarray(0, readSync(fd, head, 0, 512, 0));
  } catch {
    return new Uint8Array(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileError(file: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputError(`${file} does not exist`, { code: 'MLV_ONNX_MISSING' });
  if (code === 'EISDIR') return new InputError(`${file} is a directory, expected an .onnx file`);
  return new InputError(`cannot read ${file}: ${(err as Error).message}`);
}

/**
 * Decodes `bytes` as an ONNX ModelProto and describes it. `label` names the file in errors
 * ("model.onnx is not a valid ONNX model: …").
 */
export function parseOnnxInfo(bytes: Uint8Array, label = 'model.onnx'): OnnxInfo {
  return describeModel(decodeModel(bytes, label), label);
}

function invalidModel(label: string, why: string): InputError {
  return new InputError(`${label} is not a valid ONNX model: ${why}`, { code: 'MLV_ONNX_INVALID' });
}

/** Why bytes that failed to decode are not a model: text, cut short, or not protobuf at all. */
function undecodable(err: Error, head: Uint8Array): string {
  if (looksLikeText(head)) return 'it is a text file, not an ONNX protobuf';
  // protobufjs and proto-scan say "index out of range: 1234 + 10 > 1240" when the bytes stop early.
  return /index out of range/.test(err.message)
    ? `truncated protobuf (${err.message})`
    : `protobuf decode failed (${err.message})`;
}

function decodeBytes(bytes: Uint8Array, label: string, head: Uint8Array = bytes): OnnxNs.ModelProto {
  try {
    return onnxProto().ModelProto.decode(bytes);
  } catch (err) {
    throw invalidModel(label, undecodable(err as Error, head));
  }
}

/** Decodes and structurally validates a ModelProto; InputError when it is not a model. */
export function decodeModel(bytes: Uint8Array, label = 'model.onnx'): OnnxNs.ModelProto {
  if (bytes.length === 0) throw invalidModel(label, 'the file is empty');
  return validateModel(decodeBytes(bytes, label), label);
}

function validateModel(model: OnnxNs.ModelProto, label: string): OnnxNs.ModelProto {
  const invalid = (why: string) => invalidModel(label, why);
  const ir = toNumber(model.irVersion);
  if (ir <= 0) throw invalid('no ir_version (is this an ONNX file?)');
  if (ir > 64) throw invalid(`implausible ir_version ${ir}`);
  const graph = model.graph;
  if (!graph) throw invalid('it has no graph');
  if (model.opsetImport.length === 0 && ir >= 3) throw invalid('it imports no operator set');
  if (!graph.node?.length) throw invalid('the graph has no nodes');
  if (!graph.output?.length) throw invalid('the graph has no outputs');
  for (const n of graph.node) {
    if (!n.opType) throw invalid(`node "${n.name}" has no op_type`);
  }
  return model;
}

/** The first bytes are printable UTF-8/ASCII text (JSON, YAML, an HTML error page…). */
function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 512);
  for (const b of head) {
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  return head.length > 0;
}

function describeModel(model: OnnxNs.ModelProto, label: string): OnnxInfo {
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const s of graph.sparseInitializer ?? []) if (s.values?.name) initializers.add(s.values.name);
  const operators = new Set<string>();
  for (const n of nodes) {
    const op = n.opType ?? '';
    operators.add(n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${op}` : op);
  }
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps) metadata[p.key ?? ''] = p.value ?? '';
  const info: OnnxInfo = {
    irVersion: toNumber(model.irVersion),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    modelVersion: toNumber(model.modelVersion),
    opsets: model.opsetImport.map((o) => ({ domain: o.domain ?? '', version: toNumber(o.version) })),
    graphName: graph.name ?? '',
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map((v) => valueInfo(v, label)),
    outputs: (graph.output ?? []).map((v) => valueInfo(v, label)),
    operators: [...operators].sort(),
    nodeCount: nodes.length,
    initializerCount: initializers.size,
    metadata,
  };
  const doc = model.docString || graph.docString;
  if (doc) info.docString = doc;
  return info;
}

function valueInfo(v: OnnxNs.IValueInfoProto, label: string): OnnxValueInfo {
  const name = v.name ?? '';
  if (!name) throw new InputError(`${label} is not a valid ONNX model: a graph input or output has no name`);
  const t = v.type;
  const base = { name, ...(v.docString ? { docString: v.docString } : {}) };
  if (t?.tensorType) {
    const elemType = elemTypeName(t.tensorType.elemType ?? 0);
    return { ...base, kind: 'tensor', elemType, shape: dims(t.tensorType.shape), type: `tensor(${elemType})` };
  }
  if (t?.sparseTensorType) {
    const elemType = elemTypeName(t.sparseTensorType.elemType ?? 0);
    return {
      ...base,
      kind: 'sparse_tensor',
      elemType,
      shape: dims(t.sparseTensorType.shape),
      type: `sparse_tensor(${elemType})`,
    };
  }
  const kind = t?.sequenceType ? 'sequence' : t?.mapType ? 'map' : t?.optionalType ? 'optional' : 'unknown';
  return { ...base, kind, elemType: 'undefined', shape: null, type: typeString(t) };
}

function dims(shape: OnnxNs.ITensorShapeProto | null | undefined): Dim[] | null {
  if (!shape) return null;
  return (shape.dim ?? []).map((d) => {
    // A oneof: dim_value, dim_param, or neither (unknown).
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== null && d.dimValue !== undefined && (d as { value?: string }).value === 'dimValue') {
      return toNumber(d.dimValue);
    }
    return null;
  });
}

/** ONNX's own notation for a type (as onnxruntime and Netron print it). */
export function typeString(t: OnnxNs.ITypeProto | null | undefined): string {
  if (!t) return 'unknown';
  if (t.tensorType) return `tensor(${elemTypeName(t.tensorType.elemType ?? 0)})`;
  if (t.sparseTensorType) return `sparse_tensor(${elemTypeName(t.sparseTensorType.elemType ?? 0)})`;
  if (t.sequenceType) return `seq(${typeString(t.sequenceType.elemType)})`;
  if (t.optionalType) return `optional(${typeString(t.optionalType.elemType)})`;
  if (t.mapType) return `map(${elemTypeName(t.mapType.keyType ?? 0)},${typeString(t.mapType.valueType)})`;
  return 'unknown';
}

/** ONNX element type → onnxruntime-node's tensor type name; null where onnxruntime-node has none. */
export const ORT_TYPE: Readonly<Record<OnnxElemType, TensorType | null>> = {
  undefined: null,
  float: 'float32',
  double: 'float64',
  float16: 'float16',
  bfloat16: null,
  uint8: 'uint8',
  int8: 'int8',
  uint16: 'uint16',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool',
  string: 'string',
  complex64: null,
  complex128: null,
  float8e4m3fn: null,
  float8e4m3fnuz: null,
  float8e5m2: null,
  float8e5m2fnuz: null,
  uint4: null,
  int4: null,
  float4e2m1: null,
};

/**
 * ONNX element type → the numpy dtype name MLflow writes in a TensorSpec (`tensor-spec.dtype`):
 * onnxruntime's names, which are numpy's, except that strings are numpy `object` arrays in MLflow
 * and numpy (unlike onnxruntime-node) has the complex types. Types numpy has no name for
 * (bfloat16, float8, 4-bit) have no MLflow spelling and map to null.
 */
export const MLFLOW_DTYPE: Readonly<Record<OnnxElemType, string | null>> = {
  ...ORT_TYPE,
  string: 'object',
  complex64: 'complex64',
  complex128: 'complex128',
};

export interface MlflowTensorSpec {
  /** The JSON string for `signature.inputs` in MLmodel; null when an input is not expressible. */
  inputs: string | null;
  /** The JSON string for `signature.outputs`; null when an output is not a plain tensor (e.g. ZipMap). */
  outputs: string | null;
}

/**
 * MLflow's tensor-based signature for the model, in the exact form MLflow writes in MLmodel:
 * `[{"name": "features", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]`
 * (Python json.dumps spacing). Symbolic or unknown dimensions are -1.
 */
export function toMlflowTensorSpec(info: Pick<OnnxInfo, 'inputs' | 'outputs'>): MlflowTensorSpec {
  return { inputs: specJson(info.inputs), outputs: specJson(info.outputs) };
}

function specJson(values: OnnxValueInfo[]): string | null {
  const parts: string[] = [];
  for (const v of values) {
    const dtype = v.kind === 'tensor' ? MLFLOW_DTYPE[v.elemType] : null;
    if (dtype === null || v.shape === null) return null;
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : -1));
    parts.push(
      `{"name": ${JSON.stringify(v.name)}, "type": "tensor", "tensor-spec": {"dtype": "${dtype}", "shape": [${shape.join(', ')}]}}`,
    );
  }
  return `[${parts.join(', ')}]`;
}

/** The model's inputs or outputs as the smoke logic sees them (onnxruntime type names). */
export function toTensorSpecs(values: readonly OnnxValueInfo[]): TensorSpec[] {
  return values.map((v) => ({
    name: v.name,
    type: v.kind === 'tensor' ? ORT_TYPE[v.elemType] : null,
    typeText: v.type,
    shape: v.kind === 'tensor' ? v.shape : null,
  }));
}
