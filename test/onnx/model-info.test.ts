import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { encodeModel } from '../../src/onnx/builder.js';
import {
  MLFLOW_DTYPE,
  onnxProto,
  parseOnnxInfo,
  readOnnxInfo,
  readOnnxInfoSync,
  toMlflowTensorSpec,
  type OnnxInfo,
} from '../../src/onnx/model-info.js';
import { repoRoot } from '../helpers/cli.js';

const models = path.join(repoRoot, 'fixtures/models');
const model = (f: string) => path.join(models, f);

/** The single-quoted YAML scalar `key: '…'` of the MLmodel file, unfolded as YAML does. */
function yamlSignature(text: string, key: 'inputs' | 'outputs'): string {
  const m = new RegExp(`\\n  ${key}: '((?:[^']|'')*)'`).exec(text);
  if (!m) throw new Error(`no signature.${key}`);
  return m[1]!.replace(/\n\s+/g, ' ').replace(/''/g, "'");
}

describe('readOnnxInfo on the fixtures', () => {
  it('describes the v1 classifier', async () => {
    const info = await readOnnxInfo(model('classifier-v1.onnx'));
    expect(info).toMatchObject<Partial<OnnxInfo>>({
      irVersion: 8,
      producerName: 'mlv-fixtures',
      producerVersion: '1',
      opsets: [{ domain: '', version: 17 }],
      graphName: 'classifier_v1',
      docString: 'logistic-regression-like classifier: label = argmax(features·W + b)',
      operators: ['Add', 'ArgMax', 'MatMul', 'Softmax'],
      nodeCount: 4,
      initializerCount: 2,
    });
    expect(info.inputs).toEqual([
      { name: 'features', kind: 'tensor', elemType: 'float', shape: ['N', 4], type: 'tensor(float)' },
    ]);
    expect(info.outputs).toEqual([
      { name: 'label', kind: 'tensor', elemType: 'int64', shape: ['N'], type: 'tensor(int64)' },
      { name: 'probabilities', kind: 'tensor', elemType: 'float', shape: ['N', 2], type: 'tensor(float)' },
    ]);
  });

  it.each([
    [
      'multi-input.onnx',
      [
        ['ids', 'int64', ['batch', 3]],
        ['x', 'float', ['batch', 2]],
      ],
      [['y', 'float', ['batch', 1]]],
    ],
    ['dynamic-dims.onnx', [['x', 'double', ['batch', 'seq', 3]]], [['mean', 'double', ['batch', 3]]]],
    ['nan.onnx', [['x', 'float', ['N', 2]]], [['y', 'float', ['N', 2]]]],
    ['slow.onnx', [['x', 'float', ['N', 256]]], [['y', 'float', ['N', 256]]]],
    ['wrong-output-shape.onnx', [['x', 'float', ['N', 2]]], [['y', 'float', ['N', 3]]]],
    ['wrong-output-type.onnx', [['x', 'float', ['N', 2]]], [['y', 'int64', ['N', 2]]]],
    ['runtime-error.onnx', [['x', 'float', ['N', 4]]], [['pairs', 'float', ['M', 8]]]],
    ['unsupported-op.onnx', [['x', 'float', ['N', 2]]], [['y', 'float', ['N', 2]]]],
  ])('%s: inputs and outputs', (file, ins, outs) => {
    const info = readOnnxInfoSync(model(file));
    const brief = (vs: OnnxInfo['inputs']) => vs.map((v) => [v.name, v.elemType, v.shape]);
    expect(brief(info.inputs)).toEqual(ins);
    expect(brief(info.outputs)).toEqual(outs);
  });

  it('reads the opset even when no runtime supports it', () => {
    expect(readOnnxInfoSync(model('unsupported-opset.onnx')).opsets).toEqual([{ domain: '', version: 99 }]);
  });
});

describe('invalid models are InputErrors', () => {
  it.each([
    ['corrupt.onnx', /^corrupt\.onnx is not a valid ONNX model: truncated protobuf/],
    ['not-onnx.onnx', /^not-onnx\.onnx is not a valid ONNX model: /],
  ])('%s', async (file, message) => {
    const err = await readOnnxInfo(model(file)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as InputError).message).toMatch(message);
  });

  it.each<[string, Uint8Array, string]>([
    ['empty bytes', new Uint8Array(0), 'model.onnx is not a valid ONNX model: the file is empty'],
    // 0x08 0x07 = field 1 (ir_version) = 7, then nothing: a model without a graph.
    ['no graph', Uint8Array.from([0x08, 0x07]), 'model.onnx is not a valid ONNX model: it has no graph'],
    // ir_version 7, an empty graph (field 7), opset_import { version: 13 } (field 8)
    [
      'empty graph',
      Uint8Array.from([0x08, 0x07, 0x3a, 0x00, 0x42, 0x02, 0x10, 0x0d]),
      'model.onnx is not a valid ONNX model: the graph has no nodes',
    ],
    [
      'random bytes',
      Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff),
      'model.onnx is not a valid ONNX model:',
    ],
  ])('%s', (_name, bytes, message) => {
    expect(() => parseOnnxInfo(bytes)).toThrow(InputError);
    expect(() => parseOnnxInfo(bytes)).toThrow(message);
  });

  it('a missing file says so', async () => {
    await expect(readOnnxInfo(model('nope.onnx'))).rejects.toThrow(/nope\.onnx does not exist/);
  });
});

describe('initializers listed as graph inputs', () => {
  it('are not inputs the caller feeds', () => {
    // IR < 4 exporters list every initializer among the graph inputs too.
    const bytes = encodeModel({
      graphName: 'old_style',
      irVersion: 3,
      opset: 9,
      inputs: [
        { name: 'x', elemType: 'float', shape: [null, 2] },
        { name: 'W', elemType: 'float', shape: [2, 1] },
      ],
      outputs: [{ name: 'y', elemType: 'float', shape: null }],
      initializers: [{ name: 'W', elemType: 'float', dims: [2, 1], data: [1, 2] }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
    });
    const info = parseOnnxInfo(bytes);
    expect(info.inputs).toEqual([
      { name: 'x', kind: 'tensor', elemType: 'float', shape: [null, 2], type: 'tensor(float)' },
    ]);
    expect(info.outputs[0]!.shape).toBeNull();
    expect(info.irVersion).toBe(3);
  });
});

describe('non-tensor outputs (sklearn-onnx ZipMap)', () => {
  it('are described by kind and ONNX type string', () => {
    const onnx = onnxProto();
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 8,
        opsetImport: [
          { domain: '', version: 17 },
          { domain: 'ai.onnx.ml', version: 1 },
        ],
        graph: {
          name: 'zipmap',
          node: [{ opType: 'ZipMap', domain: 'ai.onnx.ml', input: ['p'], output: ['probs'] }],
          input: [
            { name: 'p', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 2 }] } } } },
          ],
          output: [
            {
              name: 'probs',
              type: {
                sequenceType: { elemType: { mapType: { keyType: 7, valueType: { tensorType: { elemType: 1 } } } } },
              },
            },
          ],
        },
      }),
    ).finish();
    const info = parseOnnxInfo(bytes);
    expect(info.outputs).toEqual([
      { name: 'probs', kind: 'sequence', elemType: 'undefined', shape: null, type: 'seq(map(int64,tensor(float)))' },
    ]);
    expect(info.operators).toEqual(['ai.onnx.ml::ZipMap']);
    expect(toMlflowTensorSpec(info)).toEqual({
      inputs: '[{"name": "p", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]',
      outputs: null,
    });
  });
});

describe('toMlflowTensorSpec', () => {
  it('writes the inputs exactly as MLflow wrote them in the reference MLmodel', () => {
    const reference = readFileSync(path.join(repoRoot, 'fixtures/mlflow-reference/onnx-model-layout/MLmodel'), 'utf8');
    const spec = toMlflowTensorSpec(readOnnxInfoSync(model('classifier-v1.onnx')));
    expect(spec.inputs).toBe(yamlSignature(reference, 'inputs'));
    // The reference model had only the probabilities output; ours has the label first.
    expect(spec.outputs).toBe(
      '[{"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}, ' +
        yamlSignature(reference, 'outputs').slice(1),
    );
  });

  it.each([
    ['float', 'float32'],
    ['double', 'float64'],
    ['int32', 'int32'],
    ['int64', 'int64'],
    ['bool', 'bool'],
    ['uint8', 'uint8'],
    ['string', 'object'],
    ['float16', 'float16'],
    ['bfloat16', null],
  ] as const)('%s → %s', (onnxType, mlflow) => {
    expect(MLFLOW_DTYPE[onnxType]).toBe(mlflow);
  });

  it('gives -1 for symbolic and unknown dimensions', () => {
    const spec = toMlflowTensorSpec(readOnnxInfoSync(model('dynamic-dims.onnx')));
    expect(spec.inputs).toBe(
      '[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, -1, 3]}}]',
    );
  });
});
