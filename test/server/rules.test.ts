/**
 * The pure rules of the embedded server: filter parsing, LIKE→GLOB, page tokens, MLflow's
 * validation of keys, aliases, versions, stages, sources and artifact paths. Expected values come
 * from the recorded MLflow exchanges (fixtures/mlflow-reference) or from MLflow's validation.py.
 */
import { describe, expect, it } from 'vitest';
import { MlflowApiError } from '../../src/server/errors.js';
import { decodePageToken, encodePageToken, likeToGlob, parseFilter, parseOrderBy } from '../../src/server/search.js';
import { hostnameOf, isLoopbackAddress, RequestGuard } from '../../src/server/security.js';
import {
  canonicalStage,
  normpath,
  parseVersion,
  safeArtifactPath,
  validateAlias,
  validateKey,
  validateVersionSource,
} from '../../src/server/validation.js';

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof MlflowApiError) return { code: err.errorCode, message: err.message };
    throw err;
  }
  throw new Error('expected an MlflowApiError');
}

describe('parseFilter', () => {
  it.each([
    ["name = 'rec-model'", [{ type: 'attribute', key: 'name', comparator: '=', value: 'rec-model' }]],
    ["name='rec-model'", [{ type: 'attribute', key: 'name', comparator: '=', value: 'rec-model' }]],
    ["name LIKE 'rec-%'", [{ type: 'attribute', key: 'name', comparator: 'LIKE', value: 'rec-%' }]],
    ['name ilike "Rec%"', [{ type: 'attribute', key: 'name', comparator: 'ILIKE', value: 'Rec%' }]],
    ["tags.owner = 'team-a'", [{ type: 'tag', key: 'owner', comparator: '=', value: 'team-a' }]],
    ["tags.`my key` != 'x'", [{ type: 'tag', key: 'my key', comparator: '!=', value: 'x' }]],
    [
      'tags."mlflow.prompt.is_prompt" = \'true\'',
      [{ type: 'tag', key: 'mlflow.prompt.is_prompt', comparator: '=', value: 'true' }],
    ],
    ['version_number >= 3', [{ type: 'attribute', key: 'version_number', comparator: '>=', value: 3 }]],
    ["run_id IN ('a', 'b')", [{ type: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] }]],
    ["run_id NOT IN ('a')", [{ type: 'attribute', key: 'run_id', comparator: 'NOT IN', value: ['a'] }]],
    ["attributes.name = 'x'", [{ type: 'attribute', key: 'name', comparator: '=', value: 'x' }]],
    [
      "name='rec-model' and tags.framework='sklearn'",
      [
        { type: 'attribute', key: 'name', comparator: '=', value: 'rec-model' },
        { type: 'tag', key: 'framework', comparator: '=', value: 'sklearn' },
      ],
    ],
    ['', []],
  ])('%s', (filter, clauses) => {
    expect(parseFilter(filter)).toEqual(clauses);
  });

  it.each([
    // recorded: 2.17/16 and 2.17/21
    ['name = ', 'Invalid clause(s) in filter string: name, ='],
    ['name==', 'Invalid clause(s) in filter string: name, =='],
    ["name = 'a' or name = 'b'", "Invalid clause(s) in filter string: name, =, 'a', or, name, =, 'b'"],
    ['name LIKE', 'Invalid clause(s) in filter string: name, LIKE'],
  ])('%s is refused', (filter, message) => {
    expect(errorOf(() => parseFilter(filter))).toEqual({ code: 'INVALID_PARAMETER_VALUE', message });
  });
});

describe('likeToGlob (MLflow LIKE is case-sensitive; SQLite GLOB is)', () => {
  it.each([
    ['rec-%', 'rec-*'],
    ['a_c', 'a?c'],
    ['50*%', '50[*]*'],
    ['what?', 'what[?]'],
    ['[x]', '[[]x]'],
  ])('%s → %s', (like, glob) => expect(likeToGlob(like)).toBe(glob));
});

describe('page tokens', () => {
  it('encodes like MLflow (Python json.dumps) so tokens are interchangeable', () => {
    expect(encodePageToken(1)).toBe('eyJvZmZzZXQiOiAxfQ=='); // recorded next_page_token
    expect(encodePageToken(2)).toBe('eyJvZmZzZXQiOiAyfQ==');
  });
  it.each([
    [undefined, 0],
    ['', 0],
    ['eyJvZmZzZXQiOiAxfQ==', 1],
    [Buffer.from('{"offset": 250}').toString('base64'), 250],
  ])('decodes %s → %d', (token, offset) => expect(decodePageToken(token)).toBe(offset));
  it.each([
    ['garbage', 'Invalid page token, could not base64-decode'],
    [Buffer.from('not json').toString('base64'), 'Invalid page token, decoded value=not json'],
    [Buffer.from('{"x": 1}').toString('base64'), 'Invalid page token, parsed value={"x": 1}'],
    [Buffer.from('{"offset": -3}').toString('base64'), 'Invalid page token, offset value=-3'],
  ])('refuses %s', (token, message) => {
    expect(errorOf(() => decodePageToken(token))).toEqual({ code: 'INVALID_PARAMETER_VALUE', message });
  });
});

describe('parseOrderBy', () => {
  it.each([
    ['name', { key: 'name', ascending: true }],
    ['name DESC', { key: 'name', ascending: false }],
    ['  version_number   asc ', { key: 'version_number', ascending: true }],
    ['attributes.last_updated_timestamp DESC', { key: 'last_updated_timestamp', ascending: false }],
  ])('%s', (clause, parsed) => expect(parseOrderBy(clause)).toEqual(parsed));
  it('refuses a bad direction', () => {
    expect(errorOf(() => parseOrderBy('name SIDEWAYS')).code).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe('validateKey (params, metrics, tags)', () => {
  it.each(['lr', 'a/b', 'x.y-z_1', 'with space', 'colon:ok', 'ünïcode'])('accepts %s', (key) => {
    expect(() => validateKey(key, 'key')).not.toThrow();
  });
  it.each([
    // recorded: 2.17/10 and 2.17/17
    [
      'bad key!',
      'Invalid value "bad key!" for parameter \'params[0].key\' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).',
    ],
    [
      '../escape',
      "Invalid value \"../escape\" for parameter 'params[0].key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '../escape'",
    ],
    [
      '/abs',
      "Invalid value \"/abs\" for parameter 'params[0].key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '/abs'",
    ],
    [
      'a//b',
      "Invalid value \"a//b\" for parameter 'params[0].key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to 'a/b'",
    ],
  ])('refuses %s', (key, message) => {
    expect(errorOf(() => validateKey(key, 'params[0].key'))).toEqual({ code: 'INVALID_PARAMETER_VALUE', message });
  });
  it.each([
    ['', '.'],
    ['a/./b', 'a/b'],
    ['a/../b', 'b'],
    ['../x', '../x'],
    ['/../x', '/x'],
    ['//x', '//x'],
  ])('normpath(%j) = %j (posixpath.normpath)', (p, n) => expect(normpath(p)).toBe(n));
});

describe('validateAlias', () => {
  it.each(['champion', 'Champion', 'canary_2', 'blue-green', 'latest2', 'v1a', 'V'])('accepts %s', (alias) => {
    expect(() => validateAlias(alias)).not.toThrow();
  });
  it.each([
    ['latest', "'latest' alias name (case insensitive) is reserved."],
    ['LaTeSt', "'latest' alias name (case insensitive) is reserved."],
    ['v3', "Version alias name 'v3' is reserved."],
    ['V12', "Version alias name 'V12' is reserved."],
    [
      'bad alias!',
      "Invalid alias name: 'bad alias!'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
    ],
    ['a.b', "Invalid alias name: 'a.b'. Names may only contain alphanumerics, underscores (_), and dashes (-)."],
  ])('refuses %s', (alias, message) => {
    expect(errorOf(() => validateAlias(alias))).toEqual({ code: 'INVALID_PARAMETER_VALUE', message });
  });
});

describe('versions and stages', () => {
  it.each([
    ['1', 1],
    ['42', 42],
    [' 7 ', 7],
  ])('parseVersion(%j) = %d', (s, n) => expect(parseVersion(s)).toBe(n));
  it("refuses a non-integer version with MLflow 3.6's message", () => {
    expect(errorOf(() => parseVersion('abc'))).toEqual({
      code: 'INVALID_PARAMETER_VALUE',
      message: "Parameter 'version' must be an integer, got 'abc'.",
    });
  });
  it.each([
    ['production', 'Production'],
    ['STAGING', 'Staging'],
    ['none', 'None'],
    ['Archived', 'Archived'],
  ])('canonicalStage(%s) = %s', (s, c) => expect(canonicalStage(s)).toBe(c));
  it('refuses an unknown stage (recorded message)', () => {
    expect(errorOf(() => canonicalStage('Prod')).message).toBe(
      'Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.',
    );
  });
});

describe('validateVersionSource (SUMMARY §6)', () => {
  it.each([
    'runs:/645686d9d16b4383b28a129b6764cc6b/model',
    'mlflow-artifacts:/2/645686d9d16b4383b28a129b6764cc6b/artifacts/model',
    'mlflow-artifacts://host:5000/2/r/artifacts/model',
    'models:/rec-model/1',
    'models:/m-68ff2cd1c334414497c7441545eb0983',
    'models:/rec-model@champion',
    's3://bucket/path/model',
    'https://example.com/model.tar.gz',
  ])('accepts %s', (source) => expect(() => validateVersionSource(source, 'run_id')).not.toThrow());

  it.each([
    ['/srv/some/local/model', 'To use a local path as a model version source'],
    ['relative/path', 'To use a local path as a model version source'],
    ['file:///srv/model', 'To use a local path as a model version source'],
    ['mlflow-artifacts:/2/r/artifacts/../../x', 'an absolute path must be provided without relative path references'],
    ['s3://bucket/a/%2E%2E/b', 'an absolute path must be provided without relative path references'],
    ['s3://bucket/a/%252E%252E/b', 'an absolute path must be provided without relative path references'],
    ['runs:/r/./model', 'an absolute path must be provided without relative path references'],
    ['https://host/a%00b', 'an absolute path must be provided without relative path references'],
  ])('refuses %s', (source, fragment) => {
    const e = errorOf(() => validateVersionSource(source, 'run_id'));
    expect(e.code).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message).toContain(`Invalid model version source: '${source}'.`);
    expect(e.message).toContain(fragment);
  });
});

describe('safeArtifactPath', () => {
  it.each([
    ['2/r/artifacts/model/MLmodel', '2/r/artifacts/model/MLmodel'],
    ['a//b/./c', 'a/b/c'],
    ['', ''],
    ['with%20space/x', 'with space/x'],
  ])('%j → %j', (raw, rel) => expect(safeArtifactPath(raw)).toBe(rel));
  it.each([
    '..',
    'a/../../x',
    'a/%2E%2E/x',
    'a/%252e%252e/x',
    '/etc/passwd',
    '%2Fetc/passwd',
    'C:/x',
    'a\\..\\b',
    'a%00b',
    'a#b',
  ])('refuses %s', (raw) =>
    expect(errorOf(() => safeArtifactPath(raw))).toEqual({ code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' }),
  );
});

describe('request guard (DNS rebinding, cross-site writes)', () => {
  const loopback = new RequestGuard(true, ['registry.corp.example', '*.lab.example']);
  const everywhere = new RequestGuard(false);
  it.each([
    ['GET', '/api/2.0/mlflow/experiments/search', { host: '127.0.0.1:5000' }, undefined],
    ['GET', '/api/2.0/mlflow/experiments/search', { host: 'localhost:5000' }, undefined],
    ['GET', '/api/2.0/mlflow/experiments/search', { host: '[::1]:5000' }, undefined],
    ['GET', '/api/2.0/mlflow/experiments/search', { host: 'registry.corp.example:5000' }, undefined],
    ['GET', '/api/2.0/mlflow/experiments/search', { host: 'gpu1.lab.example' }, undefined],
    [
      'GET',
      '/api/2.0/mlflow/experiments/search',
      { host: 'evil.example.com' },
      'Invalid Host header - possible DNS rebinding attack detected',
    ],
    ['GET', '/health', { host: 'evil.example.com' }, undefined],
    ['GET', '/version', { host: 'evil.example.com' }, undefined],
    [
      'POST',
      '/api/2.0/mlflow/experiments/create',
      { host: 'localhost', origin: 'http://evil.example.com' },
      'Cross-origin request blocked',
    ],
    [
      'POST',
      '/api/2.0/mlflow/experiments/create',
      { host: 'localhost', origin: 'null' },
      'Cross-origin request blocked',
    ],
    ['POST', '/api/2.0/mlflow/experiments/create', { host: 'localhost', origin: 'http://localhost:3000' }, undefined],
    ['GET', '/api/2.0/mlflow/experiments/search', { host: 'localhost', origin: 'http://evil.example.com' }, undefined],
  ] as const)('loopback: %s %s %j → %s', (method, p, headers, refusal) => {
    expect(loopback.check(method, p, headers)).toBe(refusal);
  });
  it('does not check Host when bound to all interfaces, but still blocks cross-site writes', () => {
    expect(
      everywhere.check('GET', '/api/2.0/mlflow/experiments/search', { host: 'registry-host:5000' }),
    ).toBeUndefined();
    expect(
      everywhere.check('DELETE', '/api/2.0/mlflow/registered-models/delete', {
        host: 'h',
        origin: 'https://evil.example',
      }),
    ).toBe('Cross-origin request blocked');
  });
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['example.com', false],
  ])('isLoopbackAddress(%s) = %s', (h, yes) => expect(isLoopbackAddress(h)).toBe(yes));
  it.each([
    ['localhost:5000', 'localhost'],
    ['[::1]:5000', '::1'],
    ['Example.COM', 'example.com'],
  ])('hostnameOf(%s) = %s', (h, n) => expect(hostnameOf(h)).toBe(n));
});
