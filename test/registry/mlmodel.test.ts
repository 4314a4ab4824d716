import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  condaYaml,
  minOnnxPackage,
  mlflowUtcTime,
  onnxMlmodel,
  onnxRequirements,
  pythonEnvYaml,
  yamlQuote,
} from '../../src/core/registry/mlmodel.js';
import { repoRoot } from '../helpers/cli.js';

const signature = {
  inputs: '[{"name": "features", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]',
  outputs: '[{"name": "probabilities", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]',
};

describe('onnxMlmodel', () => {
  it('writes the onnx and python_function flavors and the signature like MLflow', () => {
    const text = onnxMlmodel({
      dataFile: 'model.onnx',
      runId: '472eb98d6fa343058bd7f5363c4bb67b',
      modelUuid: '1fd3e99c6a1c43569eb981e2a178d50e',
      sizeBytes: 284,
      createdAt: new Date('2026-11-27T00:56:22.909Z'),
      signature,
      opset: 17,
      metadata: { mlv_semver: '1.0.0', mlv_sha256: 'abc' },
    });
    expect(text).toBe(`artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.12.0
    providers:
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: '3.11'
metadata:
  mlv_semver: '1.0.0'
  mlv_sha256: abc
model_size_bytes: 284
model_uuid: 1fd3e99c6a1c43569eb981e2a178d50e
run_id: 472eb98d6fa343058bd7f5363c4bb67b
signature:
  inputs: '${signature.inputs}'
  outputs: '${signature.outputs}'
  params: null
utc_time_created: '2026-11-27 00:56:22.909000'
`);
  });

  it('its signature lines equal what MLflow 2.17 wrote (fixtures/mlflow-reference/onnx-model-layout/MLmodel, folded lines joined)', () => {
    const reference = readFileSync(
      path.join(repoRoot, 'fixtures/mlflow-reference/onnx-model-layout/MLmodel'),
      'utf8',
    ).replace(/([,:])\n {4}(?=["[])/g, '$1 ');
    const ours = onnxMlmodel({
      dataFile: 'model.onnx',
      runId: 'r',
      modelUuid: 'u',
      sizeBytes: 1,
      createdAt: new Date(0),
      signature,
      opset: 17,
      metadata: {},
    });
    const pick = (t: string, key: string) => t.split('\n').find((l) => l.startsWith(`  ${key}: `));
    expect(pick(ours, 'inputs')).toBe(pick(reference, 'inputs'));
    expect(pick(ours, 'outputs')).toBe(pick(reference, 'outputs'));
    for (const line of [
      '  onnx:',
      '    data: model.onnx',
      '    loader_module: mlflow.onnx',
      '      conda: conda.yaml',
      '      virtualenv: python_env.yaml',
      'artifact_path: model',
    ]) {
      expect(reference.split('\n')).toContain(line);
      expect(ours.split('\n')).toContain(line);
    }
  });

  it('omits the signature when inputs are not expressible, and writes outputs: null when only they are not', () => {
    const base = {
      dataFile: 'model.onnx',
      runId: 'r',
      modelUuid: 'u',
      sizeBytes: 1,
      createdAt: new Date(0),
      opset: undefined,
      metadata: {},
    };
    expect(onnxMlmodel({ ...base, signature: { inputs: null, outputs: null } })).not.toContain('signature:');
    expect(onnxMlmodel({ ...base, signature: { inputs: signature.inputs, outputs: null } })).toContain(
      '  outputs: null\n',
    );
    expect(onnxMlmodel({ ...base, modelId: 'm-0123', signature: { inputs: null, outputs: null } })).toContain(
      'model_id: m-0123\n',
    );
  });
});

describe('environment files and helpers', () => {
  it.each([
    [undefined, '1.8.0'],
    [9, '1.8.0'],
    [13, '1.8.0'],
    [17, '1.12.0'],
    [21, '1.16.0'],
    [23, '1.18.0'],
  ])('minOnnxPackage(%s) = %s', (opset, v) => {
    expect(minOnnxPackage(opset)).toBe(v);
  });
  it('requirements, conda and virtualenv files', () => {
    expect(onnxRequirements(17)).toBe('mlflow\nonnx>=1.12.0\nonnxruntime\n');
    expect(condaYaml('mlflow\nonnx\n')).toBe(
      'channels:\n- conda-forge\ndependencies:\n- python=3.11\n- pip\n- pip:\n  - mlflow\n  - onnx\nname: mlflow-env\n',
    );
    expect(pythonEnvYaml()).toBe(
      "python: '3.11'\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n- -r requirements.txt\n",
    );
  });
  it.each([
    ["it's", "'it''s'"],
    ['[1]', "'[1]'"],
  ])('yamlQuote(%j) = %s', (s, q) => {
    expect(yamlQuote(s)).toBe(q);
  });
  it('formats utc_time_created like MLflow', () => {
    expect(mlflowUtcTime(new Date('2026-01-02T03:04:05.006Z'))).toBe('2026-01-02 03:04:05.006000');
  });
});
