import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { OnnxSession, cleanOrtMessage, ortVersion } from '../../src/onnx/runtime.js';
import { repoRoot } from '../helpers/cli.js';

const model = (f: string) => path.join(repoRoot, 'fixtures/models', f);
const v = ortVersion();

describe('cleanOrtMessage', () => {
  // Messages as onnxruntime-node 1.23.2 throws them for the fixtures.
  it.each([
    [
      "Non-zero status code returned while running Reshape node. Name:'reshape_0' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:39 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, onnxruntime::TensorShapeVector&, bool) size != 0 && (input_shape_size % size) == 0 was false. The input tensor cannot be reshaped to the requested shape. Input shape:{3,4}, requested shape:{-1,8}\n",
      "Non-zero status code returned while running Reshape node. Name:'reshape_0': The input tensor cannot be reshaped to the requested shape. Input shape:{3,4}, requested shape:{-1,8}",
    ],
    [
      'Load model from fixtures/models/unsupported-opset.onnx failed:/onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46 void onnxruntime::model_load_utils::ValidateOpsetForDomain(const std::unordered_map<std::__cxx11::basic_string<char>, int>&, const onnxruntime::logging::Logger&, bool, const std::string&, int) ONNX Runtime only *guarantees* support for models stamped with official released onnx opset versions. Current official support for domain ai.onnx is till opset 23.\n',
      'ONNX Runtime only *guarantees* support for models stamped with official released onnx opset versions. Current official support for domain ai.onnx is till opset 23.',
    ],
    ['Load model from x.onnx failed:Protobuf parsing failed.', 'Protobuf parsing failed.'],
  ])('%#', (raw, clean) => {
    expect(cleanOrtMessage(raw)).toBe(clean);
  });
});

describe('OnnxSession on the fixtures', () => {
  const open: OnnxSession[] = [];
  afterAll(async () => {
    for (const s of open) await s.release();
  });

  it('runs the classifier and returns plain tensors', async () => {
    const s = await OnnxSession.open(model('classifier-v1.onnx'), 'classifier-v1.onnx', { threads: 1 });
    open.push(s);
    expect(s.inputNames).toEqual(['features']);
    expect(s.outputNames).toEqual(['label', 'probabilities']);
    // features·W + b with W, b from scripts/make-onnx-fixtures.ts: row [1,0,0,0] → logits [1.1, -1.1]
    const out = await s.run(
      s.feeds({ features: { type: 'float32', dims: [1, 4], data: Float32Array.from([1, 0, 0, 0]) } }),
    );
    expect(out.label).toEqual({ type: 'int64', dims: [1], data: BigInt64Array.from([0n]) });
    const p0 = 1 / (1 + Math.exp(-2.2));
    expect(out.probabilities!.dims).toEqual([1, 2]);
    expect(out.probabilities!.data[0]).toBeCloseTo(p0, 6);
    expect(out.probabilities!.data[1]).toBeCloseTo(1 - p0, 6);
    expect(
      await s.time(s.feeds({ features: { type: 'float32', dims: [1, 4], data: new Float32Array(4) } })),
    ).toBeGreaterThan(0);
  });

  it.each([
    [
      'unsupported-op.onnx',
      `unsupported-op.onnx uses operator FrobnicateV2 (opset 17), which onnxruntime ${v} does not implement`,
    ],
    [
      'unsupported-opset.onnx',
      `unsupported-opset.onnx imports opset 99 of ai.onnx, but onnxruntime ${v} supports up to opset 23`,
    ],
    [
      'wrong-output-type.onnx',
      'wrong-output-type.onnx declares y as tensor(int64) but its node produces tensor(float)',
    ],
    ['corrupt.onnx', 'corrupt.onnx is not a valid ONNX model: onnxruntime could not parse it'],
  ])('loading %s is an InputError', async (file, message) => {
    const err = await OnnxSession.open(model(file), file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(message);
  });

  it('a run-time failure is an InputError naming the batch', async () => {
    const s = await OnnxSession.open(model('runtime-error.onnx'), 'runtime-error.onnx');
    open.push(s);
    const feeds = (rows: number) =>
      s.feeds({ x: { type: 'float32', dims: [rows, 4], data: new Float32Array(rows * 4) } });
    expect((await s.run(feeds(2))).pairs!.dims).toEqual([1, 8]);
    await expect(s.run(feeds(3))).rejects.toThrow(
      "runtime-error.onnx failed at run time on a batch of 3: Non-zero status code returned while running Reshape node. Name:'reshape_0': The input tensor cannot be reshaped to the requested shape. Input shape:{3,4}, requested shape:{-1,8}",
    );
  });
});
