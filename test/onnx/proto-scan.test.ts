import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/onnx/builder.js';
import { onnxProto, parseOnnxInfo, readOnnxInfoSync } from '../../src/onnx/model-info.js';
import { WireError, readModelSkeleton } from '../../src/onnx/proto-scan.js';
import { repoRoot, tempDir } from '../helpers/cli.js';

const models = path.join(repoRoot, 'fixtures/models');
const valid = readdirSync(models).filter((f) => f.endsWith('.onnx') && !['corrupt.onnx', 'not-onnx.onnx'].includes(f));

describe('readModelSkeleton', () => {
  it.each(valid)('%s: the file reader describes it exactly as decoding all its bytes does', (f) => {
    const file = path.join(models, f);
    expect(readOnnxInfoSync(file)).toEqual(parseOnnxInfo(readFileSync(file), f));
  });

  it('drops initializer data but keeps names, dims and types', () => {
    const file = path.join(models, 'slow.onnx');
    const { bytes, size } = readModelSkeleton(file);
    expect(size).toBeGreaterThan(256 * 256 * 4);
    expect(bytes.length).toBeLessThan(8 * 1024);
    const onnx = onnxProto();
    const full = onnx.ModelProto.decode(readFileSync(file));
    const slim = onnx.ModelProto.decode(bytes);
    const brief = (m: typeof full) =>
      (m.graph?.initializer ?? []).map((t) => ({
        name: t.name,
        dims: (t.dims ?? []).map(Number),
        dataType: t.dataType,
      }));
    expect(brief(slim)).toEqual(brief(full));
    expect(slim.graph?.initializer?.[0]?.rawData?.length ?? 0).toBe(0);
    expect(full.graph?.initializer?.[0]?.rawData?.length).toBe(256 * 256 * 4);
    expect(slim.graph!.node).toEqual(full.graph!.node);
    expect(slim.irVersion).toEqual(full.irVersion);
  });

  it('keeps sparse initializer names so they are not taken for inputs', () => {
    const onnx = onnxProto();
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'sparse',
        node: [{ opType: 'Add', input: ['x', 'S'], output: ['y'] }],
        input: [
          { name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } },
          { name: 'S', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } },
        ],
        output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
        sparseInitializer: [
          {
            values: { name: 'S', dataType: 1, dims: [1], floatData: [3] },
            indices: { name: 'S_i', dataType: 7, dims: [1], int64Data: [1] },
            dims: [2],
          },
        ],
      },
    });
    const file = path.join(tempDir(), 'sparse.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    const info = readOnnxInfoSync(file);
    expect(info.inputs.map((i) => i.name)).toEqual(['x']);
    expect(info.initializerCount).toBe(1);
  });

  it.each([
    ['cut inside the graph', (b: Uint8Array) => b.subarray(0, b.length - 10), true],
    ['an invalid wire type', () => Uint8Array.from([0x0f, 0x01]), false],
  ])('%s is a WireError', (_name, cut, truncated) => {
    const file = path.join(tempDir(), 'bad.onnx');
    const bytes = encodeModel({
      graphName: 'g',
      inputs: [{ name: 'x', elemType: 'float', shape: [1] }],
      outputs: [{ name: 'y', elemType: 'float', shape: [1] }],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    });
    writeFileSync(file, cut(bytes));
    let err: unknown;
    try {
      readModelSkeleton(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).truncated).toBe(truncated);
  });
});
