import { describe, expect, it } from 'vitest';
import {
  dependenciesTagValue,
  manifestKind,
  normalizePackageName,
  parseManifest,
  parsePackageJson,
  parsePyproject,
  parseRequirementLine,
  parseRequirementsTxt,
} from '../../src/core/registry/manifest.js';

describe('parseRequirementLine (PEP 508)', () => {
  it.each([
    ['torch==2.3.0', ['torch', '==2.3.0']],
    ['numpy >= 1.26, <2', ['numpy', '>=1.26,<2']],
    ['Scikit_Learn~=1.5', ['scikit-learn', '~=1.5']],
    ['uvicorn[standard]==0.30.1', ['uvicorn', '==0.30.1']],
    ['pandas; python_version >= "3.9"', ['pandas', '*']],
    ['requests==2.32.3 ; sys_platform != "win32"  # pinned', ['requests', '==2.32.3']],
    ['mypkg @ https://example.invalid/mypkg-1.0.whl', ['mypkg', '@https://example.invalid/mypkg-1.0.whl']],
    ['onnx', ['onnx', '*']],
    ['# a comment', undefined],
    ['-r other.txt', undefined],
    ['--index-url https://pypi.invalid/simple', undefined],
    ['-e .', undefined],
    ['https://example.invalid/x.whl', undefined],
    ['', undefined],
  ])('%j → %j', (line, expected) => {
    expect(parseRequirementLine(line)).toEqual(expected);
  });

  it('normalizes names like PEP 503', () => {
    expect(normalizePackageName('Foo.Bar__baz')).toBe('foo-bar-baz');
  });
});

describe('manifests', () => {
  it('requirements.txt with continuations', () => {
    expect(parseRequirementsTxt('numpy==1.26.4\n# c\nonnxruntime==1.18.0 \\\n  --hash=sha256:abc\n\ntorch\n')).toEqual({
      numpy: '==1.26.4',
      onnxruntime: '==1.18.0',
      torch: '*',
    });
  });

  it('pyproject.toml: PEP 621 and Poetry', () => {
    const text = `
[build-system]
requires = ["setuptools>=61"]

[project]
name = "churn"
dependencies = [
  "numpy>=1.26",   # arrays
  'scikit-learn==1.5.0',
]

[tool.poetry.dependencies]
python = "^3.11"
lightgbm = "^4.3.0"
xgboost = { version = "2.0.3", optional = true }
`;
    expect(parsePyproject(text)).toEqual({
      numpy: '>=1.26',
      'scikit-learn': '==1.5.0',
      lightgbm: '^4.3.0',
      xgboost: '2.0.3',
    });
  });

  it('pyproject.toml with a one-line array', () => {
    expect(parsePyproject('[project]\ndependencies = ["a==1", "b"]\n')).toEqual({ a: '==1', b: '*' });
  });

  it('package.json dependencies only', () => {
    expect(
      parsePackageJson('{"dependencies":{"onnxruntime-node":"~1.23.2"},"devDependencies":{"vitest":"4"}}'),
    ).toEqual({
      'onnxruntime-node': '~1.23.2',
    });
    expect(() => parsePackageJson('{', 'pkg/package.json')).toThrow('pkg/package.json is not valid JSON');
  });

  it.each([
    ['requirements.txt', 'requirements'],
    ['deps/requirements-prod.txt', 'requirements'],
    ['/x/pyproject.toml', 'pyproject'],
    ['C:\\x\\package.json', 'package-json'],
  ])('manifestKind(%j) = %s', (file, kind) => {
    expect(manifestKind(file)).toBe(kind);
    expect(typeof parseManifest(file, kind === 'package-json' ? '{}' : '')).toBe('object');
  });
});

describe('dependenciesTagValue', () => {
  it('is sorted JSON', () => {
    expect(dependenciesTagValue({ torch: '==2', numpy: '==1' }, 5000)).toBe('{"numpy":"==1","torch":"==2"}');
  });
  it('drops entries from the end to fit, and says how many', () => {
    const v = dependenciesTagValue({ a: '1', b: '2', c: '3', d: '4' }, 30);
    expect(v).toBe('{"a":"1","b":"2","…":"2 more"}');
    expect(dependenciesTagValue({ a: '1', b: '2', c: '3', d: '4' }, 29)).toBe('{"a":"1","…":"3 more"}');
    expect(v.length).toBeLessThanOrEqual(30);
  });
});
