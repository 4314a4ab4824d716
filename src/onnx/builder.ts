import type { onnx as OnnxNs } from 'onnx-proto';
import { elemTypeCode, onnxProto, type Dim, type OnnxElemType } from './model-info.js';

/**
 * A small builder for ONNX models in code (no Python): the fixtures script and the benchmark
 * use it to write models that onnxruntime loads. Only what those need: tensors, nodes with
 * int/float/ints/floats/string attributes, initializers as raw little-endian data.
 */

export interface ValueSpec {
  name: string;
  elemType: OnnxElemType;
  /** null = unknown rank (no shape in the model). */
  shape: Dim[] | null;
}

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** Integers are INT attributes; use `{ float: 1 }` for a FLOAT that happens to be whole. */
  attrs?: Record<string, AttrValue>;
}

export interface InitializerSpec {
  name: string;
  elemType: 'float' | 'double' | 'int64' | 'int32';
  dims: number[];
  data: ArrayLike<number> | ArrayLike<bigint>;
}

export interface ModelSpec {
  graphName: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  /** Default-domain opset version; 17 unless given. */
  opset?: number;
  extraOpsets?: { domain: string; version: number }[];
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

function valueInfo(v: ValueSpec): OnnxNs.IValueInfoProto {
  const tensor: OnnxNs.TypeProto.ITensor = { elemType: elemTypeCode(v.elemType) };
  if (v.shape !== null) {
    tensor.shape = {
      dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : d === null ? {} : { dimParam: d })),
    };
  }
  return { name: v.name, type: { tensorType: tensor } };
}

function attribute(name: string, v: AttrValue): OnnxNs.IAttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.FLOATS, floats: v.floats };
}

/** Little-endian raw bytes for an initializer (what onnx.numpy_helper writes as raw_data). */
function rawData(t: InitializerSpec): Uint8Array {
  const n = t.data.length;
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (n !== expected) throw new Error(`initializer ${t.name}: ${n} values for dims [${t.dims.join(',')}]`);
  const bytesPer = t.elemType === 'float' || t.elemType === 'int32' ? 4 : 8;
  const buf = Buffer.alloc(n * bytesPer);
  for (let i = 0; i < n; i++) {
    const x = t.data[i]!;
    if (t.elemType === 'float') buf.writeFloatLE(Number(x), i * 4);
    else if (t.elemType === 'double') buf.writeDoubleLE(Number(x), i * 8);
    else if (t.elemType === 'int32') buf.writeInt32LE(Number(x), i * 4);
    else buf.writeBigInt64LE(BigInt(x), i * 8);
  }
  return buf;
}

/** The ModelProto message for `spec` (encode it with `encodeModel`). */
export function buildModel(spec: ModelSpec): OnnxNs.ModelProto {
  const onnx = onnxProto();
  const opset = spec.opset ?? 17;
  return onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 8,
    producerName: spec.producerName ?? 'mlv-fixtures',
    producerVersion: spec.producerVersion ?? '1',
    docString: spec.docString ?? '',
    opsetImport: [{ domain: '', version: opset }, ...(spec.extraOpsets ?? [])],
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.graphName,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map((t) => ({
        name: t.name,
        dataType: elemTypeCode(t.elemType),
        dims: t.dims,
        rawData: rawData(t),
      })),
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.op.toLowerCase()}_${i}`,
        opType: n.op,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  });
}

/** Serialized bytes of a model built by `buildModel`. */
export function encodeModel(model: OnnxNs.ModelProto | ModelSpec): Uint8Array {
  const onnx = onnxProto();
  const message = model instanceof onnx.ModelProto ? model : buildModel(model as ModelSpec);
  return onnx.ModelProto.encode(message).finish();
}
