import { describe, expect, it } from 'vitest';
import {
  aliasProblem,
  describeRef,
  isProductionLike,
  normalizeStage,
  parseVersionRef,
  validateAliasName,
} from '../../src/core/registry/refs.js';
import { InputError } from '../../src/errors.js';

describe('parseVersionRef', () => {
  it.each([
    ['3', { kind: 'version', version: '3' }, 'version 3'],
    ['007', { kind: 'version', version: '7' }, 'version 7'],
    ['v1.2.0', { kind: 'semver', semver: '1.2.0' }, 'v1.2.0'],
    ['1.2.0', { kind: 'semver', semver: '1.2.0' }, 'v1.2.0'],
    ['2.0.0-rc.1', { kind: 'semver', semver: '2.0.0-rc.1' }, 'v2.0.0-rc.1'],
    ['@production', { kind: 'alias', alias: 'production' }, '@production'],
    ['@Champion_2', { kind: 'alias', alias: 'Champion_2' }, '@Champion_2'],
    ['latest', { kind: 'latest' }, 'latest'],
    ['LATEST', { kind: 'latest' }, 'latest'],
  ] as const)('%j → %j (%s)', (input, ref, described) => {
    expect(parseVersionRef(input)).toEqual(ref);
    expect(describeRef(parseVersionRef(input))).toBe(described);
  });

  it.each([
    ['0', 'version reference must be a version number ≥ 1, got "0"'],
    [
      'production',
      'version reference must be a version number (3), a semver (v1.2.0 or 1.2.0) or an alias (@production), got "production"',
    ],
    [
      '1.2',
      'version reference must be a version number (3), a semver (v1.2.0 or 1.2.0) or an alias (@production), got "1.2"',
    ],
    ['@latest', 'version reference "latest" is not a valid alias: "latest" (in any case) is reserved by MLflow'],
    [
      '@bad alias',
      'version reference "bad alias" is not a valid alias: only letters, digits, underscores (_) and dashes (-) are allowed',
    ],
    [
      '',
      'version reference must be a version number (3), a semver (v1.2.0 or 1.2.0) or an alias (@production), got ""',
    ],
  ])('%j is refused: %s', (input, message) => {
    expect(() => parseVersionRef(input)).toThrow(InputError);
    expect(() => parseVersionRef(input)).toThrow(message);
  });

  it('hints at @ for a bare word', () => {
    try {
      parseVersionRef('staging');
      expect.unreachable();
    } catch (err) {
      expect((err as InputError).hint).toBe('for an alias, write @staging');
    }
  });
});

describe('aliasProblem (MLflow rules, recorded in fixtures/mlflow-reference/*/25-registered-models-aliases.json)', () => {
  it.each([
    ['production', undefined],
    ['champion-2', undefined],
    ['Champion', undefined],
    ['a_b-c', undefined],
    ['v1beta', undefined],
    ['vv3', undefined],
    ['latest', '"latest" (in any case) is reserved by MLflow'],
    ['Latest', '"latest" (in any case) is reserved by MLflow'],
    ['v3', '"v<number>" aliases are reserved by MLflow for version numbers'],
    ['V12', '"v<number>" aliases are reserved by MLflow for version numbers'],
    ['bad alias!', 'only letters, digits, underscores (_) and dashes (-) are allowed'],
    ['prod/eu', 'only letters, digits, underscores (_) and dashes (-) are allowed'],
    ['', 'it is empty'],
    ['a'.repeat(256), 'it is longer than 255 characters'],
  ])('%j → %j', (alias, problem) => {
    expect(aliasProblem(alias)).toBe(problem);
  });

  it('validateAliasName throws exit-2 errors naming the flag', () => {
    expect(() => validateAliasName('latest', '--to')).toThrow(
      '--to "latest" is not a valid alias: "latest" (in any case) is reserved by MLflow',
    );
    try {
      validateAliasName('v2', '--to');
    } catch (err) {
      expect((err as InputError).exitCode).toBe(2);
    }
    expect(validateAliasName('staging')).toBe('staging');
  });
});

describe('normalizeStage', () => {
  it.each([
    ['production', 'Production'],
    ['STAGING', 'Staging'],
    ['archived', 'Archived'],
    ['None', 'None'],
  ])('%j → %j', (input, stage) => {
    expect(normalizeStage(input)).toBe(stage);
  });
  it('refuses unknown stages', () => {
    expect(() => normalizeStage('Prod')).toThrow(
      '--stage must be one of None, Staging, Production, Archived, got "Prod"',
    );
  });
});

describe('isProductionLike', () => {
  it.each([
    ['production', true],
    ['Production', true],
    ['prod', true],
    ['prod-eu', true],
    ['eu-prod', true],
    ['champion', true],
    ['live', true],
    ['staging', false],
    ['challenger', false],
    ['candidate', false],
    ['products', false],
    ['shadow', false],
  ])('%s → %s', (target, expected) => {
    expect(isProductionLike(target)).toBe(expected);
  });
});
