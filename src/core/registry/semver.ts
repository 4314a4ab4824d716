import semverCompare from 'semver/functions/compare.js';
import semverInc from 'semver/functions/inc.js';
import { InputError } from '../../errors.js';

/**
 * Semantic-version rules of the registry: a model's versions carry unique, increasing semvers
 * (https://semver.org, ordering by node-semver's `compare`, prereleases below their release).
 */

export type Bump = 'major' | 'minor' | 'patch';
export const BUMPS: readonly Bump[] = ['major', 'minor', 'patch'];

const STRICT =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$/;

/**
 * `v1.2.0` / `1.2.0` / `1.2.0-rc.1` → the canonical form without `v`. Build metadata (`+abc`) is
 * refused: semver ignores it when ordering, so it could not tell two versions apart.
 * @example normalizeSemver('v1.2.0') // '1.2.0'
 */
export function normalizeSemver(input: string, flag = '--semver'): string {
  const s = input.trim();
  if (s.includes('+')) {
    throw new InputError(
      `${flag} must be a semantic version without build metadata (X.Y.Z or X.Y.Z-pre), got "${input}"`,
      {
        hint: 'build metadata (+…) does not order versions; record it with --tag instead',
      },
    );
  }
  if (!STRICT.test(s)) {
    throw new InputError(`${flag} must be a semantic version X.Y.Z (e.g. 1.2.0 or 1.2.0-rc.1), got "${input}"`);
  }
  return s.startsWith('v') ? s.slice(1) : s;
}

/** True for a string `normalizeSemver` would accept. */
export function isSemver(input: string): boolean {
  const s = input.trim();
  return !s.includes('+') && STRICT.test(s);
}

/** The highest of the given semvers (invalid ones ignored), or undefined. */
export function highestSemver(versions: Iterable<string | undefined>): string | undefined {
  let best: string | undefined;
  for (const v of versions) {
    if (v === undefined || !isSemver(v)) continue;
    const n = normalizeSemver(v);
    if (best === undefined || semverCompare(n, best) > 0) best = n;
  }
  return best;
}

/**
 * The next semver after `highest` (none registered: bump from 0.0.0, so the first is
 * 1.0.0 / 0.1.0 / 0.0.1). A prerelease bumps to its release: 1.2.0-rc.1 --bump patch → 1.2.0.
 * @example nextSemver('1.4.2', 'minor') // '1.5.0'
 */
export function nextSemver(highest: string | undefined, bump: Bump): string {
  const next = semverInc(highest ?? '0.0.0', bump);
  if (next === null) throw new InputError(`cannot ${bump}-bump semver "${highest}"`);
  return next;
}

/** What is already registered, as far as the semver rules care. */
export interface RegisteredSemver {
  version: string;
  semver: string | undefined;
  sha256: string | undefined;
}

export type SemverRequest = { kind: 'exact'; semver: string } | { kind: 'bump'; bump: Bump; implicit?: boolean };

export type RegisterDecision =
  | { action: 'create'; semver: string; warnings: string[] }
  /** An identical version exists: return it (a CI retry), create nothing. */
  | { action: 'existing'; version: string; semver: string; warnings: string[] };

/**
 * Decides what `mlv register` does, given the model's versions, the requested semver and the
 * artifact's sha256:
 *  - same semver + same sha256 → the existing version (idempotent retries);
 *  - same semver + different sha256 → input error (semvers are unique);
 *  - a semver not above the highest registered → input error (semvers increase);
 *  - --bump when the highest version already has this exact artifact → that version (a retry of
 *    the same bump must not create a second version);
 *  - same sha256 under a new, higher semver → allowed, with a warning naming the twin.
 * Without --semver or --bump the request is an implicit patch bump; the first version is 0.1.0.
 */
export function decideRegistration(
  existing: readonly RegisteredSemver[],
  request: SemverRequest,
  sha256: string,
  model: string,
): RegisterDecision {
  const withSemver = existing.filter(
    (e): e is RegisteredSemver & { semver: string } => e.semver !== undefined && isSemver(e.semver),
  );
  const highest = highestSemver(withSemver.map((e) => e.semver));
  const holderOfHighest =
    highest === undefined ? undefined : withSemver.find((e) => normalizeSemver(e.semver) === highest);
  const warnings: string[] = [];

  let wanted: string;
  if (request.kind === 'bump') {
    if (holderOfHighest && holderOfHighest.sha256 === sha256) {
      return {
        action: 'existing',
        version: holderOfHighest.version,
        semver: normalizeSemver(holderOfHighest.semver),
        warnings: [
          `version ${holderOfHighest.version} (${highest}) already holds this exact artifact; not bumping again`,
        ],
      };
    }
    wanted = request.implicit && highest === undefined ? '0.1.0' : nextSemver(highest, request.bump);
  } else {
    wanted = request.semver;
    const same = withSemver.find((e) => semverCompare(normalizeSemver(e.semver), wanted) === 0);
    if (same) {
      if (same.sha256 === sha256) return { action: 'existing', version: same.version, semver: wanted, warnings };
      throw new InputError(
        `semver ${wanted} is already registered for ${model} as version ${same.version} with a different artifact (sha256 ${short(same.sha256)}, this one ${short(sha256)})`,
        { code: 'MLV_SEMVER_TAKEN', hint: `semvers are unique per model: use --bump or a semver above ${highest}` },
      );
    }
    if (highest !== undefined && semverCompare(wanted, highest) < 0) {
      throw new InputError(`semver ${wanted} is not higher than the latest registered ${highest} of ${model}`, {
        code: 'MLV_SEMVER_NOT_INCREASING',
        hint: `use --bump or a semver above ${highest}`,
      });
    }
  }
  const twin = existing.find((e) => e.sha256 === sha256);
  if (twin) {
    warnings.push(
      `this artifact is identical (same sha256) to version ${twin.version}${twin.semver ? ` (${twin.semver})` : ''}; registering it again as ${wanted}`,
    );
  }
  return { action: 'create', semver: wanted, warnings };
}

function short(sha: string | undefined): string {
  return sha === undefined ? 'unknown' : sha.slice(0, 12);
}
