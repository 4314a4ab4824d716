import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseModelsUri } from '../../src/core/registry/refs.js';
import { onnxFileFromMlmodel, resolveLocalModel } from '../../src/onnx/resolve.js';
import { directorySha256, sha256File } from '../../src/registry/artifact.js';
import { cacheRoot } from '../../src/registry/model-files.js';
import { repoRoot, tempDir } from '../helpers/cli.js';

const reference = readFileSync(path.join(repoRoot, 'fixtures/mlflow-reference/onnx-model-layout/MLmodel'), 'utf8');

describe('onnxFileFromMlmodel', () => {
  it.each([
    ['the MLflow 2.17 reference layout', reference, 'model.onnx'],
    ['onnx_model (older writers)', 'flavors:\n  onnx:\n    onnx_model: net.onnx\n', 'net.onnx'],
    ['quoted value', "flavors:\n  onnx:\n    data: 'my model.onnx'\n", 'my model.onnx'],
    [
      'onnx after another flavor',
      'flavors:\n  python_function:\n    data: other.pkl\n  onnx:\n    data: m.onnx\n',
      'm.onnx',
    ],
    ['no onnx flavor', 'flavors:\n  sklearn:\n    pickled_model: model.pkl\n', undefined],
    ['data of another flavor only', 'flavors:\n  python_function:\n    data: model.onnx\n', undefined],
    ['a nested key named onnx', 'flavors:\n  custom:\n    onnx:\n      data: x.onnx\n', undefined],
  ])('%s', (_name, text, expected) => {
    expect(onnxFileFromMlmodel(text)).toBe(expected);
  });
});

describe('resolveLocalModel', () => {
  it('finds the .onnx file of the committed MLflow layout fixture', async () => {
    const r = await resolveLocalModel('fixtures/models/classifier-v1-mlflow', repoRoot);
    expect(r.file).toBe(path.join(repoRoot, 'fixtures/models/classifier-v1-mlflow/model.onnx'));
    expect(r.label).toBe('fixtures/models/classifier-v1-mlflow/model.onnx');
  });

  it('accepts a directory with exactly one .onnx file and no MLmodel', async () => {
    const dir = tempDir();
    copyFileSync(path.join(repoRoot, 'fixtures/models/nan.onnx'), path.join(dir, 'only.onnx'));
    expect((await resolveLocalModel(dir, '/')).file).toBe(path.join(dir, 'only.onnx'));
  });

  it.each([
    ['missing', (d: string) => path.join(d, 'nope.onnx'), /does not exist/],
    ['empty dir', (d: string) => d, /has no MLmodel file and no \.onnx file/],
    [
      'MLmodel without onnx',
      (d: string) => (writeFileSync(path.join(d, 'MLmodel'), 'flavors:\n  sklearn:\n    pickled_model: m.pkl\n'), d),
      /is an MLflow model without an onnx flavor \(flavors: sklearn\)/,
    ],
    [
      'MLmodel naming a missing file',
      (d: string) => (writeFileSync(path.join(d, 'MLmodel'), 'flavors:\n  onnx:\n    data: gone.onnx\n'), d),
      /: MLmodel names gone\.onnx, which is not in the directory/,
    ],
    [
      'MLmodel pointing outside',
      (d: string) => (writeFileSync(path.join(d, 'MLmodel'), 'flavors:\n  onnx:\n    data: ../../etc/passwd\n'), d),
      /points outside the model directory/,
    ],
  ])('%s is an InputError', async (_name, make, message) => {
    const target = make(tempDir());
    const err = await resolveLocalModel(target, '/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
  });
});

describe('models:/ references', () => {
  it.each([
    ['models:/churn/3', { name: 'churn', ref: { kind: 'version', version: '3' } }],
    ['models:/churn/v1.2.0', { name: 'churn', ref: { kind: 'semver', semver: '1.2.0' } }],
    ['models:/churn/1.2.0', { name: 'churn', ref: { kind: 'semver', semver: '1.2.0' } }],
    ['models:/churn/@production', { name: 'churn', ref: { kind: 'alias', alias: 'production' } }],
    ['models:/churn@production', { name: 'churn', ref: { kind: 'alias', alias: 'production' } }],
    ['models:/team/churn/latest', { name: 'team/churn', ref: { kind: 'latest' } }],
    ['model.onnx', undefined],
  ])('%s', (ref, expected) => {
    expect(parseModelsUri(ref)).toEqual(expected);
  });

  it.each(['models:/churn', 'models:/churn/', 'models:/churn/prod'])('%s is an InputError', (ref) => {
    expect(() => parseModelsUri(ref)).toThrow(InputError);
  });

  it('caches under MLV_HOME, XDG_CACHE_HOME or HOME', () => {
    expect(cacheRoot({ MLV_HOME: '/m', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/m/cache');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/mlv');
    expect(cacheRoot({ HOME: '/h' })).toBe('/h/.cache/mlv');
  });
});

describe('digests', () => {
  it('sha256File is sha256sum', async () => {
    const file = path.join(repoRoot, 'fixtures/models/classifier-v1.onnx');
    expect(await sha256File(file)).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
  });

  it('directorySha256 hashes "<sha256>  <path>" lines in byte order of the path', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'b.txt'), 'bee\n');
    writeFileSync(path.join(dir, 'sub', 'a.txt'), 'ay\n');
    writeFileSync(path.join(dir, 'B.txt'), 'upper\n');
    const h = (s: string) => createHash('sha256').update(s).digest('hex');
    // Equivalent to: find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum
    const lines = `${h('upper\n')}  B.txt\n${h('bee\n')}  b.txt\n${h('ay\n')}  sub/a.txt\n`;
    expect(await directorySha256(dir)).toBe(h(lines));
  });
});
