/**
 * Writes the ONNX fixture models (fixtures/models/) and their golden inputs (fixtures/inputs/),
 * building the protobufs in code so nobody needs Python. Deterministic: running it twice gives
 * byte-identical files.
 *
 *   npm run fixtures:onnx            # writes into ./fixtures
 *   npm run fixtures:onnx -- OUTDIR  # somewhere else
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeModel, type ModelSpec } from '../src/onnx/builder.js';

/**
 * The classifiers: logits = features·W + b; probabilities = softmax(logits); label = argmax(logits).
 * Tests recompute these formulas in plain TypeScript, so they are exported.
 */
export const CLASSIFIER_V1 = {
  W: [
    [1.0, -1.0],
    [0.5, -0.5],
    [-0.8, 0.8],
    [0.3, -0.3],
  ],
  b: [0.1, -0.1],
};
/** v2: the same shape of model, nudged weights — agrees with v1 on most but not all rows. */
export const CLASSIFIER_V2 = {
  W: [
    [1.1, -0.9],
    [0.4, -0.5],
    [-0.8, 0.9],
    [0.35, -0.3],
  ],
  b: [0.05, -0.1],
};

/** Slow model: x [N,256] → 48 × (MatMul W, Tanh) with one 256×256 weight. */
export const SLOW = { size: 256, layers: 48 };
export function slowWeight(i: number, j: number): number {
  return Math.sin(i * 31 + j * 17) / 10;
}

function classifier(name: string, p: { W: number[][]; b: number[] }): ModelSpec {
  return {
    graphName: name,
    docString: 'logistic-regression-like classifier: label = argmax(features·W + b)',
    inputs: [{ name: 'features', elemType: 'float', shape: ['N', 4] }],
    outputs: [
      { name: 'label', elemType: 'int64', shape: ['N'] },
      { name: 'probabilities', elemType: 'float', shape: ['N', 2] },
    ],
    initializers: [
      { name: 'W', elemType: 'float', dims: [4, 2], data: p.W.flat() },
      { name: 'b', elemType: 'float', dims: [2], data: p.b },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['features', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'b'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: 1 } },
      { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    ],
  };
}

/** y = Cast(ids)·[0.1, 0.2, 0.3]ᵀ + x·[1, -1]ᵀ */
const multiInput: ModelSpec = {
  graphName: 'multi_input',
  inputs: [
    { name: 'ids', elemType: 'int64', shape: ['batch', 3] },
    { name: 'x', elemType: 'float', shape: ['batch', 2] },
  ],
  outputs: [{ name: 'y', elemType: 'float', shape: ['batch', 1] }],
  initializers: [
    { name: 'w_ids', elemType: 'float', dims: [3, 1], data: [0.1, 0.2, 0.3] },
    { name: 'w_x', elemType: 'float', dims: [2, 1], data: [1, -1] },
  ],
  nodes: [
    { op: 'Cast', inputs: ['ids'], outputs: ['ids_f'], attrs: { to: 1 } },
    { op: 'MatMul', inputs: ['ids_f', 'w_ids'], outputs: ['a'] },
    { op: 'MatMul', inputs: ['x', 'w_x'], outputs: ['c'] },
    { op: 'Add', inputs: ['a', 'c'], outputs: ['y'] },
  ],
};

/** Two symbolic dimensions and float64: y[b, k] = mean over s of x[b, s, k]. */
const dynamic: ModelSpec = {
  graphName: 'dynamic_dims',
  inputs: [{ name: 'x', elemType: 'double', shape: ['batch', 'seq', 3] }],
  outputs: [{ name: 'mean', elemType: 'double', shape: ['batch', 3] }],
  nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['mean'], attrs: { axes: [1], keepdims: 0 } }],
};

/** log(x): NaN for negative inputs, -Infinity at 0. */
const nanModel: ModelSpec = {
  graphName: 'log',
  inputs: [{ name: 'x', elemType: 'float', shape: ['N', 2] }],
  outputs: [{ name: 'y', elemType: 'float', shape: ['N', 2] }],
  nodes: [{ op: 'Log', inputs: ['x'], outputs: ['y'] }],
};

function slowModel(): ModelSpec {
  const { size, layers } = SLOW;
  const w: number[] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w.push(slowWeight(i, j));
  const nodes: ModelSpec['nodes'] = [];
  let prev = 'x';
  for (let l = 0; l < layers; l++) {
    const last = l === layers - 1;
    nodes.push({ op: 'MatMul', inputs: [prev, 'W'], outputs: [`h${l}`] });
    nodes.push({ op: 'Tanh', inputs: [`h${l}`], outputs: [last ? 'y' : `t${l}`] });
    prev = `t${l}`;
  }
  return {
    graphName: 'slow',
    inputs: [{ name: 'x', elemType: 'float', shape: ['N', size] }],
    outputs: [{ name: 'y', elemType: 'float', shape: ['N', size] }],
    initializers: [{ name: 'W', elemType: 'float', dims: [size, size], data: w }],
    nodes,
  };
}

/** Declares y as [N, 3] but produces [N, 2] (onnxruntime only warns about this at load). */
const wrongOutputShape: ModelSpec = {
  graphName: 'wrong_output_shape',
  inputs: [{ name: 'x', elemType: 'float', shape: ['N', 2] }],
  outputs: [{ name: 'y', elemType: 'float', shape: ['N', 3] }],
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
};

/** Declares y as int64 but produces float (onnxruntime refuses to load it). */
const wrongOutputType: ModelSpec = {
  graphName: 'wrong_output_type',
  inputs: [{ name: 'x', elemType: 'float', shape: ['N', 2] }],
  outputs: [{ name: 'y', elemType: 'int64', shape: ['N', 2] }],
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
};

/** Reshape [N, 4] → [-1, 8]: fine for an even batch, a run-time error for an odd one. */
const runtimeError: ModelSpec = {
  graphName: 'reshape_pairs',
  inputs: [{ name: 'x', elemType: 'float', shape: ['N', 4] }],
  outputs: [{ name: 'pairs', elemType: 'float', shape: ['M', 8] }],
  initializers: [{ name: 'target_shape', elemType: 'int64', dims: [2], data: [-1, 8] }],
  nodes: [{ op: 'Reshape', inputs: ['x', 'target_shape'], outputs: ['pairs'] }],
};

/** An operator no runtime implements. */
const unsupportedOp: ModelSpec = {
  graphName: 'unsupported_op',
  inputs: [{ name: 'x', elemType: 'float', shape: ['N', 2] }],
  outputs: [{ name: 'y', elemType: 'float', shape: ['N', 2] }],
  nodes: [{ op: 'FrobnicateV2', inputs: ['x'], outputs: ['y'] }],
};

/** A default-domain opset far beyond any released ONNX. */
const unsupportedOpset: ModelSpec = {
  ...nanModel,
  graphName: 'future_opset',
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  opset: 99,
  irVersion: 8,
};

const MLMODEL = `artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.17.0
    providers:
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.2
mlflow_version: 2.17.2
signature:
  inputs: '[{"name": "features", "type": "tensor", "tensor-spec": {"dtype": "float32",
    "shape": [-1, 4]}}]'
  outputs: '[{"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape":
    [-1]}}, {"name": "probabilities", "type": "tensor", "tensor-spec": {"dtype": "float32",
    "shape": [-1, 2]}}]'
  params: null
`;

/** Golden rows for the classifier: 8 hand-picked rows, some near the decision boundary. */
const CLASSIFIER_ROWS = [
  [0.5, 1.0, -0.3, 2.0],
  [-1.2, 0.4, 0.9, -0.5],
  [0.0, 0.0, 0.0, 0.0],
  [2.5, -1.5, 1.0, 0.25],
  [-0.1, 0.2, 0.1, -0.4],
  [1.0, 1.0, 1.0, 1.0],
  [-2.0, -0.5, -1.0, 0.75],
  [0.3, -0.6, 0.8, 1.5],
];
const MULTI_IDS = [
  [1, 2, 3],
  [0, 0, 7],
  [42, 5, 9],
];
const MULTI_X = [
  [0.5, -0.5],
  [1.5, 2.0],
  [-3.25, 0.0],
];

function json(v: unknown): string {
  return JSON.stringify(v) + '\n';
}

export function main(outRoot: string): string[] {
  const models = path.join(outRoot, 'models');
  const inputs = path.join(outRoot, 'inputs');
  mkdirSync(path.join(models, 'classifier-v1-mlflow'), { recursive: true });
  mkdirSync(path.join(inputs, 'invalid'), { recursive: true });
  const written: string[] = [];
  const write = (file: string, data: Uint8Array | string) => {
    writeFileSync(file, data);
    written.push(file);
  };

  const v1 = encodeModel(classifier('classifier_v1', CLASSIFIER_V1));
  write(path.join(models, 'classifier-v1.onnx'), v1);
  write(path.join(models, 'classifier-v2.onnx'), encodeModel(classifier('classifier_v2', CLASSIFIER_V2)));
  write(path.join(models, 'classifier-v1-mlflow', 'model.onnx'), v1);
  write(path.join(models, 'classifier-v1-mlflow', 'MLmodel'), MLMODEL);
  write(path.join(models, 'multi-input.onnx'), encodeModel(multiInput));
  write(path.join(models, 'dynamic-dims.onnx'), encodeModel(dynamic));
  write(path.join(models, 'nan.onnx'), encodeModel(nanModel));
  write(path.join(models, 'slow.onnx'), encodeModel(slowModel()));
  write(path.join(models, 'wrong-output-shape.onnx'), encodeModel(wrongOutputShape));
  write(path.join(models, 'wrong-output-type.onnx'), encodeModel(wrongOutputType));
  write(path.join(models, 'runtime-error.onnx'), encodeModel(runtimeError));
  write(path.join(models, 'unsupported-op.onnx'), encodeModel(unsupportedOp));
  write(path.join(models, 'unsupported-opset.onnx'), encodeModel(unsupportedOpset));
  // The first 60% of a valid model: what an interrupted download leaves behind.
  write(path.join(models, 'corrupt.onnx'), v1.subarray(0, Math.floor(v1.length * 0.6)));
  write(path.join(models, 'not-onnx.onnx'), '{"this": "is JSON, not an ONNX protobuf"}\n');

  // Golden inputs, in every format `--input` reads.
  const rows = CLASSIFIER_ROWS;
  write(path.join(inputs, 'classifier.json'), json({ inputs: { features: rows } }));
  write(path.join(inputs, 'classifier.jsonl'), rows.map((r) => json({ features: r })).join(''));
  write(
    path.join(inputs, 'classifier-batches.jsonl'),
    json({ inputs: { features: rows.slice(0, 5) } }) + json({ inputs: { features: rows.slice(5) } }),
  );
  write(
    path.join(inputs, 'classifier-dataframe-split.json'),
    json({ dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: rows } }),
  );
  write(
    path.join(inputs, 'classifier-dataframe-records.json'),
    json({ dataframe_records: rows.map((r) => ({ f0: r[0], f1: r[1], f2: r[2], f3: r[3] })) }),
  );
  write(path.join(inputs, 'classifier-instances.json'), json({ instances: rows }));
  write(path.join(inputs, 'multi-input.json'), json({ inputs: { ids: MULTI_IDS, x: MULTI_X } }));
  write(path.join(inputs, 'multi-input.jsonl'), MULTI_IDS.map((ids, i) => json({ ids, x: MULTI_X[i] })).join(''));
  write(
    path.join(inputs, 'multi-input-dataframe-split.json'),
    json({ dataframe_split: { columns: ['ids', 'x'], data: MULTI_IDS.map((ids, i) => [ids, MULTI_X[i]]) } }),
  );
  write(
    path.join(inputs, 'dynamic-dims.json'),
    json({
      inputs: {
        x: [
          [
            [1, 2, 3],
            [3, 4, 5],
          ],
          [
            [-1, 0, 1],
            [1, 0, -1],
          ],
        ],
      },
    }),
  );
  write(
    path.join(inputs, 'nan-positive.json'),
    json({
      inputs: {
        x: [
          [1, 2],
          [0.5, 10],
          [3, 4],
        ],
      },
    }),
  );
  write(path.join(inputs, 'invalid', 'wrong-name.json'), json({ inputs: { featurez: rows } }));
  write(path.join(inputs, 'invalid', 'wrong-type.json'), json({ inputs: { features: [[0.5, 1.0, 'high', 2.0]] } }));
  write(
    path.join(inputs, 'invalid', 'wrong-shape.json'),
    json({ inputs: { features: rows.map((r) => r.slice(0, 3)) } }),
  );
  write(path.join(inputs, 'invalid', 'ragged.json'), json({ inputs: { features: [rows[0], rows[1]!.slice(0, 2)] } }));
  write(
    path.join(inputs, 'invalid', 'multi-input-float-ids.json'),
    json({ inputs: { ids: [[1.5, 2, 3]], x: [[0, 0]] } }),
  );
  write(path.join(inputs, 'invalid', 'not-json.json'), '{"inputs": {"features": [[1, 2, 3, 4]]\n');
  return written;
}

const isMain = process.argv[1] !== undefined && /make-onnx-fixtures\.(ts|js|mjs)$/.test(process.argv[1]);
if (isMain) {
  const out = path.resolve(process.argv[2] ?? 'fixtures');
  const files = main(out);
  process.stdout.write(`wrote ${files.length} files under ${out}\n`);
}
