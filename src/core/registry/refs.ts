import { InputError } from '../../errors.js';
import { isSemver, normalizeSemver } from './semver.js';

/**
 * How a command names one version of a model:
 *   `3`           the MLflow version number
 *   `v1.2.0`, `1.2.0`, `1.2.0-rc.1`   the semver mlv recorded (tag mlv.semver)
 *   `@production` an alias
 *   `latest`      the highest version number
 */
export type VersionRef =
  | { kind: 'version'; version: string }
  | { kind: 'semver'; semver: string }
  | { kind: 'alias'; alias: string }
  | { kind: 'latest' };

export function parseVersionRef(input: string, what = 'version reference'): VersionRef {
  const s = input.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`${what} must be a version number ≥ 1, got "${input}"`);
    return { kind: 'version', version: String(n) };
  }
  if (s.startsWith('@')) {
    const alias = s.slice(1);
    validateAliasName(alias, what);
    return { kind: 'alias', alias };
  }
  if (s.toLowerCase() === 'latest') return { kind: 'latest' };
  if (isSemver(s)) return { kind: 'semver', semver: normalizeSemver(s) };
  throw new InputError(
    `${what} must be a version number (3), a semver (v1.2.0 or 1.2.0) or an alias (@production), got "${input}"`,
    s.length > 0 && /^[\w-]+$/.test(s) ? { hint: `for an alias, write @${s}` } : {},
  );
}

/**
 * `models:/NAME/REF` or MLflow's own `models:/NAME@alias`; undefined when `ref` is not a models: URI.
 * The name is everything before the last `/` (names may contain `/`, quotes, spaces, any letter).
 * @example parseModelsUri('models:/churn/@production') // { name: 'churn', ref: { kind: 'alias', alias: 'production' } }
 */
export function parseModelsUri(ref: string): { name: string; ref: VersionRef } | undefined {
  const m = /^models:\/+(.+)$/.exec(ref.trim());
  if (!m) return undefined;
  const rest = m[1]!.replace(/\/+$/, '');
  const at = /^([^/@]+)@([^/@]+)$/.exec(rest);
  if (at) return { name: at[1]!, ref: parseVersionRef(`@${at[2]}`, `model reference ${ref}`) };
  const slash = rest.lastIndexOf('/');
  if (slash <= 0 || slash === rest.length - 1) {
    throw new InputError(
      `model reference ${ref} must be models:/NAME/VERSION, models:/NAME/v1.2.0 or models:/NAME/@alias`,
    );
  }
  return { name: rest.slice(0, slash), ref: parseVersionRef(rest.slice(slash + 1), `model reference ${ref}`) };
}

/** How a reference reads in messages: `version 3`, `v1.2.0`, `@production`, `latest`. */
export function describeRef(ref: VersionRef): string {
  switch (ref.kind) {
    case 'version':
      return `version ${ref.version}`;
    case 'semver':
      return `v${ref.semver}`;
    case 'alias':
      return `@${ref.alias}`;
    case 'latest':
      return 'latest';
  }
}

/** `version 3 (v1.2.0)`, or `version 3` without a semver, or `nobody`. */
export function versionLabel(version: string | null | undefined, semver: string | null | undefined): string {
  if (version === null || version === undefined) return 'nobody';
  return semver ? `version ${version} (v${semver})` : `version ${version}`;
}

/** `@production` for an alias, `stage Production` for a stage. */
export function targetLabel(target: string, kind: 'alias' | 'stage'): string {
  return kind === 'alias' ? `@${target}` : `stage ${target}`;
}

/** MLflow's alias rules (mlflow/utils/validation.py): word characters and dashes, at most 255 long. */
const ALIAS = /^[\w-]+$/;
export const MAX_ALIAS_LENGTH = 255;

/**
 * The reason MLflow would refuse `alias`, or undefined when it is valid. `latest` (any case) and
 * `v<digits>` are reserved: MLflow resolves `models:/name@latest` and `@v3` itself.
 */
export function aliasProblem(alias: string): string | undefined {
  if (alias === '') return 'it is empty';
  if (!ALIAS.test(alias)) return 'only letters, digits, underscores (_) and dashes (-) are allowed';
  if (alias.length > MAX_ALIAS_LENGTH) return `it is longer than ${MAX_ALIAS_LENGTH} characters`;
  if (alias.toLowerCase() === 'latest') return `"latest" (in any case) is reserved by MLflow`;
  if (/^v\d+$/i.test(alias)) return `"v<number>" aliases are reserved by MLflow for version numbers`;
  return undefined;
}

/** Throws an InputError (exit 2) naming `what` when `alias` is not a valid MLflow alias. */
export function validateAliasName(alias: string, what = 'alias'): string {
  const problem = aliasProblem(alias);
  if (problem) throw new InputError(`${what} "${alias}" is not a valid alias: ${problem}`, { code: 'MLV_BAD_ALIAS' });
  return alias;
}

/** MLflow's legacy stages, as the server spells them. */
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

/** `production` → `Production`; MLflow accepts stages case-insensitively. */
export function normalizeStage(input: string, what = '--stage'): Stage {
  const found = STAGES.find((s) => s.toLowerCase() === input.trim().toLowerCase());
  if (!found) throw new InputError(`${what} must be one of ${STAGES.join(', ')}, got "${input}"`);
  return found;
}

/**
 * Targets that deserve a confirmation before they move: production-like aliases and stages.
 * @example isProductionLike('prod-eu') // true
 */
export function isProductionLike(target: string): boolean {
  return (
    /^(prod|production|champion|live|stable|main|release)([-_].*)?$/i.test(target) ||
    /(^|[-_])prod(uction)?([-_]|$)/i.test(target)
  );
}
