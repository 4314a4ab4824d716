import { describe, expect, it } from 'vitest';
import {
  decideRegistration,
  highestSemver,
  isSemver,
  nextSemver,
  normalizeSemver,
  type RegisteredSemver,
} from '../../src/core/registry/semver.js';
import { InputError } from '../../src/errors.js';

describe('normalizeSemver', () => {
  it.each([
    ['1.2.0', '1.2.0'],
    ['v1.2.0', '1.2.0'],
    [' 0.0.1 ', '0.0.1'],
    ['1.2.0-rc.1', '1.2.0-rc.1'],
    ['10.20.30-alpha-beta.0', '10.20.30-alpha-beta.0'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeSemver(input)).toBe(expected);
  });

  it.each([['1.2'], ['1.2.0.4'], ['01.2.0'], ['1.2.0-01'], ['latest'], [''], ['V1.2.0'], ['1.2.0+build.5']])(
    'refuses %j with an InputError (exit 2)',
    (input) => {
      expect(() => normalizeSemver(input)).toThrow(InputError);
      expect(isSemver(input)).toBe(false);
    },
  );

  it('names the flag and the value', () => {
    expect(() => normalizeSemver('1.2', '--semver')).toThrow(
      '--semver must be a semantic version X.Y.Z (e.g. 1.2.0 or 1.2.0-rc.1), got "1.2"',
    );
  });
});

describe('nextSemver', () => {
  it.each([
    [undefined, 'major', '1.0.0'],
    [undefined, 'minor', '0.1.0'],
    [undefined, 'patch', '0.0.1'],
    ['1.4.2', 'major', '2.0.0'],
    ['1.4.2', 'minor', '1.5.0'],
    ['1.4.2', 'patch', '1.4.3'],
    ['1.2.0-rc.1', 'patch', '1.2.0'],
    ['1.2.0-rc.1', 'minor', '1.2.0'],
  ] as const)('%s --bump %s → %s', (from, bump, expected) => {
    expect(nextSemver(from, bump)).toBe(expected);
  });
});

describe('highestSemver', () => {
  it.each([
    [[], undefined],
    [['1.0.0', '1.10.0', '1.9.0'], '1.10.0'],
    [['2.0.0-rc.1', '1.9.9'], '2.0.0-rc.1'],
    [['2.0.0-rc.1', '2.0.0'], '2.0.0'],
    [[undefined, 'garbage', '0.1.0'], '0.1.0'],
  ] as const)('%j → %s', (list, expected) => {
    expect(highestSemver(list)).toBe(expected);
  });
});

describe('decideRegistration', () => {
  const existing: RegisteredSemver[] = [
    { version: '1', semver: '1.0.0', sha256: 'aaa' },
    { version: '2', semver: '1.1.0', sha256: 'bbb' },
    { version: '3', semver: undefined, sha256: undefined }, // registered by another tool
  ];

  it.each([
    [
      'new higher semver',
      { kind: 'exact', semver: '1.2.0' },
      'ccc',
      { action: 'create', semver: '1.2.0', warnings: [] },
    ],
    [
      'same semver, same artifact = retry',
      { kind: 'exact', semver: '1.0.0' },
      'aaa',
      { action: 'existing', version: '1', semver: '1.0.0', warnings: [] },
    ],
    ['bump minor', { kind: 'bump', bump: 'minor' }, 'ccc', { action: 'create', semver: '1.2.0', warnings: [] }],
    ['bump major', { kind: 'bump', bump: 'major' }, 'ccc', { action: 'create', semver: '2.0.0', warnings: [] }],
    [
      'implicit bump = patch',
      { kind: 'bump', bump: 'patch', implicit: true },
      'ccc',
      { action: 'create', semver: '1.1.1', warnings: [] },
    ],
    [
      'bump retry of the highest artifact',
      { kind: 'bump', bump: 'patch' },
      'bbb',
      {
        action: 'existing',
        version: '2',
        semver: '1.1.0',
        warnings: ['version 2 (1.1.0) already holds this exact artifact; not bumping again'],
      },
    ],
    [
      'same artifact under a new semver warns',
      { kind: 'exact', semver: '2.0.0' },
      'aaa',
      {
        action: 'create',
        semver: '2.0.0',
        warnings: ['this artifact is identical (same sha256) to version 1 (1.0.0); registering it again as 2.0.0'],
      },
    ],
  ] as const)('%s', (_label, request, sha, expected) => {
    expect(decideRegistration(existing, request, sha, 'churn')).toEqual(expected);
  });

  it('starts an empty model at 0.1.0 without flags, and from 0.0.0 with --bump', () => {
    expect(decideRegistration([], { kind: 'bump', bump: 'patch', implicit: true }, 'x', 'm')).toEqual({
      action: 'create',
      semver: '0.1.0',
      warnings: [],
    });
    expect(decideRegistration([], { kind: 'bump', bump: 'major' }, 'x', 'm')).toEqual({
      action: 'create',
      semver: '1.0.0',
      warnings: [],
    });
  });

  it('refuses the same semver with a different artifact', () => {
    expect(() => decideRegistration(existing, { kind: 'exact', semver: '1.1.0' }, 'ccc', 'churn')).toThrow(
      'semver 1.1.0 is already registered for churn as version 2 with a different artifact (sha256 bbb, this one ccc)',
    );
  });

  it.each([['1.0.5'], ['0.9.0'], ['1.1.0-rc.1']])('refuses %s, below the latest 1.1.0', (s) => {
    try {
      decideRegistration(existing, { kind: 'exact', semver: s }, 'ccc', 'churn');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).message).toBe(`semver ${s} is not higher than the latest registered 1.1.0 of churn`);
      expect((err as InputError).exitCode).toBe(2);
    }
  });
});
