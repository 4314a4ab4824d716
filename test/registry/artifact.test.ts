import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactSha256, inspectArtifact, uploadPlan } from '../../src/registry/artifact.js';
import { readOnnxInfo, toMlflowTensorSpec } from '../../src/onnx/model-info.js';
import { readDependencies } from '../../src/registry/provenance.js';
import { repoRoot, tempDir } from '../helpers/cli.js';

function tree(files: Record<string, string>): string {
  const root = tempDir('mlv-artifact-');
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}

describe('artifact digests', () => {
  // Expected values from coreutils, in the directory holding these files:
  //   sha256sum a.txt
  //   find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum
  it('a file: sha256 of its bytes', async () => {
    const root = tree({ 'a.txt': 'hello\n' });
    const a = await inspectArtifact('a.txt', root);
    expect(a).toMatchObject({ kind: 'file', sizeBytes: 6, files: [{ rel: 'a.txt', size: 6 }] });
    expect(await artifactSha256(a)).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  });

  it('a directory: sha256 of the sorted `sha256sum` listing', async () => {
    const root = tree({ 'm/a.txt': 'hello\n', 'm/sub/b.txt': '' });
    const a = await inspectArtifact('m', root);
    expect(a.kind).toBe('directory');
    expect(a.files.map((f) => f.rel)).toEqual(['a.txt', 'sub/b.txt']);
    expect(await artifactSha256(a)).toBe('a07d05b273b212101e027b45cb56c9b5bf5bf43fd0fc0db8b349fa27e7128dbe');
  });

  it('is independent of creation order and changes with a name or a byte', async () => {
    const one = tree({ 'm/z.bin': 'z', 'm/a.bin': 'a' });
    const two = tree({ 'm/a.bin': 'a', 'm/z.bin': 'z' });
    const renamed = tree({ 'm/a.bin': 'a', 'm/y.bin': 'z' });
    const edited = tree({ 'm/a.bin': 'a', 'm/z.bin': 'Z' });
    const digest = async (root: string) => artifactSha256(await inspectArtifact('m', root));
    expect(await digest(one)).toBe(await digest(two));
    expect(await digest(renamed)).not.toBe(await digest(one));
    expect(await digest(edited)).not.toBe(await digest(one));
  });

  it('follows file symlinks, skips directory symlinks', async () => {
    const root = tree({ 'm/a.txt': 'hello\n', 'm/sub/b.txt': '' });
    symlinkSync(path.join(root, 'm/a.txt'), path.join(root, 'm/link.txt'));
    symlinkSync(path.join(root, 'm/sub'), path.join(root, 'm/loop'));
    const a = await inspectArtifact('m', root);
    expect(a.files.map((f) => f.rel)).toEqual(['a.txt', 'link.txt', 'sub/b.txt']);
  });

  it.each([
    ['missing', {}, 'model path missing does not exist'],
    ['empty', { 'empty/.keep-dir/': '' }, 'model directory empty is empty'],
  ])('refuses %s', async (input, files, message) => {
    const root = tree({});
    if (input === 'empty') mkdirSync(path.join(root, 'empty'));
    void files;
    await expect(inspectArtifact(input, root)).rejects.toThrow(message);
  });

  it('recognises .onnx files and MLflow model directories', async () => {
    expect((await inspectArtifact('fixtures/models/classifier-v1.onnx', repoRoot)).kind).toBe('onnx');
    expect((await inspectArtifact('fixtures/models/classifier-v1-mlflow', repoRoot)).kind).toBe('mlflow-model');
  });
});

describe('uploadPlan', () => {
  it("an .onnx file becomes MLflow's ONNX layout under model/", async () => {
    const file = path.join(repoRoot, 'fixtures/models/classifier-v1.onnx');
    const a = await inspectArtifact(file, repoRoot);
    const info = await readOnnxInfo(file);
    const plan = uploadPlan(a, {
      runId: 'r1',
      now: new Date('2026-01-02T03:04:05.678Z'),
      onnx: { info, signature: toMlflowTensorSpec(info) },
      metadata: {},
    });
    expect(plan.map((p) => [p.path, p.file ?? null])).toEqual([
      ['model/model.onnx', file],
      ['model/MLmodel', null],
      ['model/requirements.txt', null],
      ['model/conda.yaml', null],
      ['model/python_env.yaml', null],
    ]);
    const mlmodel = plan[1]!.content!;
    expect(mlmodel).toContain('  onnx:\n    code: null\n    data: model.onnx\n');
    expect(mlmodel).toContain('    loader_module: mlflow.onnx\n');
    expect(mlmodel).toContain('run_id: r1\n');
    expect(mlmodel).toContain(`model_size_bytes: ${a.sizeBytes}\n`);
    expect(mlmodel).toContain(
      `  inputs: '[{"name": "features", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'\n`,
    );
  });

  it('other files and directories are uploaded as they are', async () => {
    const root = tree({ 'm/weights.bin': 'w', 'm/cfg/a.json': '{}' });
    const plan = uploadPlan(await inspectArtifact('m', root), { runId: 'r', now: new Date(0), metadata: {} });
    expect(plan.map((p) => [p.path, p.size])).toEqual([
      ['model/cfg/a.json', 2],
      ['model/weights.bin', 1],
    ]);
  });
});

describe('readDependencies', () => {
  it('reads --requirements, else the first manifest in the model directory, else in cwd', async () => {
    const root = tree({
      'reqs.txt': 'numpy==1.26.4\n',
      'm/weights.bin': 'w',
      'm/pyproject.toml': '[project]\ndependencies = ["torch==2.3.0"]\n',
      'package.json': '{"dependencies":{"onnxruntime-node":"1.23.2"}}',
    });
    const dir = await inspectArtifact('m', root);
    expect(await readDependencies({ requirements: 'reqs.txt', artifact: dir, cwd: root })).toEqual({
      deps: { numpy: '==1.26.4' },
      source: 'reqs.txt',
    });
    expect(await readDependencies({ requirements: undefined, artifact: dir, cwd: root })).toEqual({
      deps: { torch: '==2.3.0' },
      source: path.join('m', 'pyproject.toml'),
    });
    const file = await inspectArtifact('m/weights.bin', root);
    expect(await readDependencies({ requirements: undefined, artifact: file, cwd: root })).toEqual({
      deps: { 'onnxruntime-node': '1.23.2' },
      source: 'package.json',
    });
    expect(await readDependencies({ requirements: undefined, artifact: file, cwd: path.join(root, 'm') })).toEqual({
      deps: { torch: '==2.3.0' },
      source: 'pyproject.toml',
    });
    await expect(readDependencies({ requirements: 'nope.txt', artifact: file, cwd: root })).rejects.toThrow(
      '--requirements nope.txt: no such file',
    );
  });
});
