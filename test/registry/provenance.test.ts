import { describe, expect, it } from 'vitest';
import {
  createdBy,
  keyProblem,
  metricsFromFile,
  paramsFromFile,
  parseKeyValueFile,
  parseMetricArg,
  parseParamArg,
  userName,
} from '../../src/core/registry/provenance.js';

describe('createdBy', () => {
  it.each([
    [{}, 'alice'],
    [{ CI: 'true' }, 'ci:alice'],
    [{ CI: 'false' }, 'alice'],
    [
      {
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/churn',
        GITHUB_RUN_ID: '42',
        GITHUB_ACTOR: 'bob',
        GITHUB_JOB: 'train',
      },
      'github-actions:acme/churn run 42 job train (bob)',
    ],
    [
      { GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/churn', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' },
      'github-actions:acme/churn run 42 attempt 2',
    ],
    [
      { GITLAB_CI: 'true', CI_PROJECT_PATH: 'ml/churn', CI_JOB_ID: '7', GITLAB_USER_LOGIN: 'carol' },
      'gitlab-ci:ml/churn job 7 (carol)',
    ],
    [{ JENKINS_URL: 'http://j', JOB_NAME: 'train', BUILD_NUMBER: '9' }, 'jenkins:train build 9'],
    [
      { CIRCLECI: 'true', CIRCLE_PROJECT_USERNAME: 'acme', CIRCLE_PROJECT_REPONAME: 'churn', CIRCLE_BUILD_NUM: '3' },
      'circleci:acme/churn build 3',
    ],
    [
      { BUILDKITE: 'true', BUILDKITE_PIPELINE_SLUG: 'ml', BUILDKITE_BUILD_NUMBER: '5', BUILDKITE_BUILD_CREATOR: 'dan' },
      'buildkite:ml build 5 (dan)',
    ],
    [{ TF_BUILD: 'True', BUILD_REPOSITORY_NAME: 'churn', BUILD_BUILDID: '11' }, 'azure-pipelines:churn build 11'],
  ])('%j → %s', (env, expected) => {
    expect(createdBy(env, 'alice')).toBe(expected);
  });

  it.each([
    [{ GITHUB_ACTOR: 'bob' }, 'os', 'bob'],
    [{}, 'os', 'os'],
    [{ USER: 'u' }, undefined, 'u'],
    [{}, undefined, 'unknown'],
  ])('userName(%j, %j) = %s', (env, os, expected) => {
    expect(userName(env, os)).toBe(expected);
  });
});

describe('keys, metrics and params', () => {
  it.each([
    ['auc', undefined],
    ['eval/f1 score:macro', undefined],
    ['bad key!', 'only letters, digits, _ - . space : / are allowed'],
    ['../escape', 'it must not be an absolute path or contain empty, "." or ".." segments'],
    ['/abs', 'it must not be an absolute path or contain empty, "." or ".." segments'],
    ['a//b', 'it must not be an absolute path or contain empty, "." or ".." segments'],
    ['', 'it is empty'],
    ['k'.repeat(251), 'it is longer than 250 characters'],
  ])('keyProblem(%j) = %j', (key, problem) => {
    expect(keyProblem(key)).toBe(problem);
  });

  it.each([
    ['auc=0.91', ['auc', 0.91]],
    ['loss = 1e-3', ['loss', 0.001]],
    ['n=-4', ['n', -4]],
  ])('parseMetricArg(%j)', (input, expected) => {
    expect(parseMetricArg(input)).toEqual(expected);
  });

  it.each([
    ['auc', '--metric must be KEY=NUMBER, got "auc"'],
    ['auc=high', '--metric auc must be a number, got "high"'],
    ['auc=', '--metric auc must be a number, got ""'],
    ['bad key!=1', '--metric key "bad key!" is not valid for MLflow'],
  ])('parseMetricArg(%j) throws', (input, message) => {
    expect(() => parseMetricArg(input)).toThrow(message);
  });

  it('params keep everything after the first =', () => {
    expect(parseParamArg('query=a=b')).toEqual(['query', 'a=b']);
    expect(() => parseParamArg('=x')).toThrow('--param must be KEY=VALUE, got "=x"');
  });

  it('reads JSON (nested → dotted) and key=value / key: value files', () => {
    expect(parseKeyValueFile('{"auc": 0.9, "eval": {"f1": 0.8, "n": 3}}', 'm.json')).toEqual({
      auc: 0.9,
      'eval.f1': 0.8,
      'eval.n': 3,
    });
    expect(parseKeyValueFile('# metrics\nauc=0.9\nf1: 0.8\nname: "x y"\n', 'm.txt')).toEqual({
      auc: '0.9',
      f1: '0.8',
      name: 'x y',
    });
    expect(() => parseKeyValueFile('auc 0.9', 'm.txt')).toThrow(
      'm.txt:1: expected key=value or key: value, got "auc 0.9"',
    );
    expect(() => parseKeyValueFile('{bad', 'm.json')).toThrow('m.json is not valid JSON');
  });

  it('metrics files must hold numbers; params files stringify', () => {
    expect(metricsFromFile('{"auc": 0.9, "s": "0.5"}', 'm.json')).toEqual({ auc: 0.9, s: 0.5 });
    // issue 11: `true` silently became 1
    expect(() => metricsFromFile('{"auc": 0.9, "ok": true}', 'm.json')).toThrow(
      'metric ok in m.json must be a number, got true',
    );
    expect(() => metricsFromFile('{"auc": "high"}', 'm.json')).toThrow(
      'metric auc in m.json must be a number, got "high"',
    );
    expect(paramsFromFile('{"lr": 0.01, "layers": [64, 32], "name": "x"}', 'p.json')).toEqual({
      lr: '0.01',
      layers: '[64,32]',
      name: 'x',
    });
  });
});
