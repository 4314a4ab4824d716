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

/**
 * A classifier with the fixture classifier's signature (features [N, 4] → label, probabilities)
 * that spends milliseconds per row in a chain of 512×512 MatMul/Tanh layers: the "slow
 * candidate" of the rollout demo and tests, whose latency degrades.
 */
export function slowClassifierSpec(layers = 64): ModelSpec {
  const size = 512;
  const w = (n: number, m: number, seed: number) =>
    Array.from({ length: n * m }, (_, k) => Math.sin(k * 0.37 + seed) / Math.sqrt(n));
  const nodes: NodeSpec[] = [{ op: 'MatMul', inputs: ['features', 'Win'], outputs: ['h'] }];
  let prev = 'h';
  for (let l = 0; l < layers; l++) {
    nodes.push({ op: 'MatMul', inputs: [prev, 'W'], outputs: [`m${l}`] });
    nodes.push({ op: 'Tanh', inputs: [`m${l}`], outputs: [`t${l}`] });
    prev = `t${l}`;
  }
  nodes.push({ op: 'MatMul', inputs: [prev, 'Wout'], outputs: ['logits'] });
  nodes.push({ op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: 1 } });
  nodes.push({ op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } });
  return {
    graphName: 'slow_classifier',
    inputs: [{ name: 'features', elemType: 'float', shape: ['N', 4] }],
    outputs: [
      { name: 'label', elemType: 'int64', shape: ['N'] },
      { name: 'probabilities', elemType: 'float', shape: ['N', 2] },
    ],
    initializers: [
      { name: 'Win', elemType: 'float', dims: [4, size], data: w(4, size, 1) },
      { name: 'W', elemType: 'float', dims: [size, size], data: w(size, size, 2) },
      { name: 'Wout', elemType: 'float', dims: [size, 2], data: w(size, 2, 3) },
    ],
    nodes,
  };
}
