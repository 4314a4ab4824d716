import { InputError } from '../../errors.js';
import { seeded, SLOTS } from './bucket.js';

/**
 * A route: which versions of one registered model take traffic, and how units are split between
 * them. Pure: parsing, validation, builders and assignment. Stored by src/serve/route-store.ts.
 *
 * Arms, in their canonical order (the order of `variants`):
 *   0      `stable` — always present; takes every slot no other arm owns (and unit-less requests)
 *   1      `candidate` — when set (a canary)
 *   then   the other A/B arms, sorted by name
 * With m arms besides stable, the 10000 slots of hash version 2 are cut into m lanes; lane i
 * (0-based) starts at floor(i·10000/m) and ends before floor((i+1)·10000/m). Arm i owns the
 * first round(weight·100) slots of its lane. So:
 *   - a canary (m = 1) puts a unit in the candidate iff slot < weight·100, i.e. bucket < weight/100:
 *     ramps are monotone;
 *   - changing one arm's weight moves units only between that arm and stable, never touching
 *     another arm's slots (each arm's lane start is fixed by the arm count alone);
 *   - an arm may take at most its lane: 100/m % (with stable absorbing the rest);
 *   - adding or removing an arm, or renaming one, re-cuts the lanes: that is a new experiment.
 */

export const HASH_VERSION = 2;

export interface RouteVersion {
  /** The MLflow version number, as MLflow spells it ("3"). */
  version: string;
  /** The reference it was set from (`3`, `v1.2.0`, `@production`): shown, never re-resolved. */
  ref: string;
}

export interface Variant extends RouteVersion {
  name: string;
  /** Percent of units, 0–100, at most two decimals. */
  weight: number;
}

export interface Route {
  model: string;
  /** Incremented by every write to the registry; 0 for a route that was never stored (a file). */
  revision: number;
  experiment: string;
  /** The hashing seed. Defaults to the experiment name. */
  salt: string;
  /** Always 2: GrowthBook's hash version 2 (see bucket.ts). */
  hash_version: number;
  stable: RouteVersion;
  candidate: (RouteVersion & { weight: number }) | null;
  /** Every arm with its weight, stable first, then candidate, then the rest by name. Weights sum to 100. */
  variants: Variant[];
  /** A version that receives a copy of `percent` % of requests; its answers are only compared. */
  shadow: (RouteVersion & { percent: number }) | null;
  updated_by: string | null;
  updated_at: string | null;
}

/** A route before it is stored: what `route set` and a rollout decide. */
export type RouteSpec = Omit<Route, 'revision' | 'updated_by' | 'updated_at'>;

export const STABLE = 'stable';
export const CANDIDATE = 'candidate';

/** Variant names appear in HTTP headers, log lines and metric labels. */
const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const VERSION = /^[1-9]\d*$/;
const MAX_NAME = 256;

/** The reason `name` is not a valid variant name, or undefined. */
export function variantNameProblem(name: string): string | undefined {
  if (!VARIANT_NAME.test(name)) {
    return 'use 1–64 letters, digits, "_", "-" or "." starting with a letter or digit';
  }
  return undefined;
}

/** Hundredths of a percent (= slots) when `w` is a valid weight 0–100 with at most two decimals. */
export function weightSlots(w: number): number | undefined {
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 100) return undefined;
  const slots = Math.round(w * 100);
  return Math.abs(slots - w * 100) < 1e-6 ? slots : undefined;
}

/** Lane i of m: [start, end) in slots. */
export function lane(i: number, m: number): { start: number; end: number } {
  return { start: Math.floor((i * SLOTS) / m), end: Math.floor(((i + 1) * SLOTS) / m) };
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Json = unknown;

class Fields {
  constructor(readonly source: string) {}
  fail(field: string, expected: string, got?: Json): never {
    const shown = got === undefined ? '' : `, got ${show(got)}`;
    throw new InputError(`${this.source}: ${field} must be ${expected}${shown}`, { code: 'MLV_BAD_ROUTE' });
  }
}

function show(v: Json): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(f: Fields, field: string, v: Json, opts: { max?: number } = {}): string {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (typeof v !== 'string' || v === '' || v.length > (opts.max ?? MAX_NAME) || /[\u0000-\u001f]/.test(v)) {
    f.fail(field, `a non-empty string of at most ${opts.max ?? MAX_NAME} characters without control characters`, v);
  }
  return v;
}

function version(f: Fields, field: string, v: Json): string {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1) return String(v);
  if (typeof v !== 'string' || !VERSION.test(v)) f.fail(field, 'a version number ("3")', v);
  return v;
}

function weight(f: Fields, field: string, v: Json): number {
  if (typeof v !== 'number' || weightSlots(v) === undefined) {
    f.fail(field, 'a number 0–100 with at most 2 decimals', v);
  }
  return v;
}

function routeVersion(f: Fields, field: string, v: Json): RouteVersion {
  if (!isObject(v)) f.fail(field, 'an object {"version", "ref"}', v);
  const ver = version(f, `${field}.version`, v.version);
  const ref = v.ref === undefined ? ver : str(f, `${field}.ref`, v.ref);
  return { version: ver, ref };
}

/**
 * Parses and validates a route (the JSON of `mlv route show --json`, a `--route FILE`, or the
 * registry tag). Every error is one line naming `source` and the field. Unknown fields are
 * ignored, so an older mlv reads a route written by a newer one. Missing `experiment`, `salt`,
 * `revision`, `variants` (derived from stable and candidate), `candidate`, `shadow` and
 * `updated_*` take their defaults.
 */
export function parseRoute(json: Json, source = 'route'): Route {
  const f: Fields = new Fields(source);
  const doc: Json = typeof json === 'string' ? parseJson(json, source) : json;
  if (!isObject(doc)) f.fail('the route', 'a JSON object', doc);
  const model = str(f, 'model', doc.model, { max: 1000 });
  const experiment = doc.experiment === undefined ? model : str(f, 'experiment', doc.experiment);
  const salt = doc.salt === undefined ? experiment : str(f, 'salt', doc.salt);
  let revision = 0;
  if (doc.revision !== undefined) {
    if (typeof doc.revision !== 'number' || !Number.isSafeInteger(doc.revision) || doc.revision < 0) {
      f.fail('revision', 'an integer ≥ 0', doc.revision);
    }
    revision = doc.revision;
  }
  if (doc.hash_version !== undefined && doc.hash_version !== HASH_VERSION) {
    f.fail('hash_version', `${HASH_VERSION} (GrowthBook hash version 2)`, doc.hash_version);
  }
  const stable = routeVersion(f, 'stable', doc.stable);
  let candidate: Route['candidate'] = null;
  if (doc.candidate !== undefined && doc.candidate !== null) {
    const c = routeVersion(f, 'candidate', doc.candidate);
    candidate = { ...c, weight: weight(f, 'candidate.weight', (doc.candidate as Record<string, Json>).weight) };
  }
  let shadow: Route['shadow'] = null;
  if (doc.shadow !== undefined && doc.shadow !== null) {
    const s = routeVersion(f, 'shadow', doc.shadow);
    shadow = { ...s, percent: weight(f, 'shadow.percent', (doc.shadow as Record<string, Json>).percent) };
  }
  let variants: Variant[];
  if (doc.variants === undefined) {
    variants = [{ name: STABLE, ...stable, weight: fromSlots(SLOTS - slotsOf(candidate?.weight ?? 0)) }];
    if (candidate) variants.push({ name: CANDIDATE, ...candidate });
  } else {
    if (!Array.isArray(doc.variants) || doc.variants.length === 0) {
      f.fail('variants', 'a non-empty array of {"name", "version", "ref", "weight"}', doc.variants);
    }
    variants = doc.variants.map((v: Json, i: number): Variant => {
      const field = `variants[${i}]`;
      if (!isObject(v)) f.fail(field, 'an object {"name", "version", "ref", "weight"}', v);
      if (typeof v.name !== 'string' || variantNameProblem(v.name)) {
        f.fail(
          `${field}.name`,
          'a variant name (1–64 letters, digits, "_", "-", "." starting with a letter or digit)',
          v.name,
        );
      }
      const rv = routeVersion(f, field, v);
      return { name: v.name, ...rv, weight: weight(f, `${field}.weight`, v.weight) };
    });
  }
  const updatedBy =
    doc.updated_by === undefined || doc.updated_by === null
      ? null
      : str(f, 'updated_by', doc.updated_by, { max: 1000 });
  let updatedAt: string | null = null;
  if (doc.updated_at !== undefined && doc.updated_at !== null) {
    if (typeof doc.updated_at !== 'string' || Number.isNaN(Date.parse(doc.updated_at))) {
      f.fail('updated_at', 'an ISO 8601 time', doc.updated_at);
    }
    updatedAt = doc.updated_at;
  }
  const spec = checkSpec(f, {
    model,
    experiment,
    salt,
    hash_version: HASH_VERSION,
    stable,
    candidate,
    variants,
    shadow,
  });
  return { model, revision, ...specFields(spec), updated_by: updatedBy, updated_at: updatedAt };
}

function parseJson(text: string, source: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new InputError(`${source}: not valid JSON (${(err as Error).message})`, { code: 'MLV_BAD_ROUTE' });
  }
}

const slotsOf = (w: number) => Math.round(w * 100);
const fromSlots = (s: number) => s / 100;

function specFields(spec: RouteSpec): Omit<RouteSpec, 'model'> {
  const { model: _model, ...rest } = spec;
  return rest;
}

/**
 * The cross-field rules: the stable and candidate entries of `variants` agree with `stable` and
 * `candidate`, names are unique, weights sum to 100, every arm fits its lane. Returns the spec
 * with `variants` in canonical order.
 */
function checkSpec(f: Fields, spec: RouteSpec): RouteSpec {
  const seen = new Set<string>();
  spec.variants.forEach((v, i) => {
    if (seen.has(v.name)) f.fail(`variants[${i}].name`, 'unique', v.name);
    seen.add(v.name);
  });
  const stableArm = spec.variants.find((v) => v.name === STABLE);
  if (!stableArm) f.fail('variants', `to contain the "${STABLE}" arm`);
  if (stableArm.version !== spec.stable.version) {
    f.fail('variants["stable"].version', `the stable version ${spec.stable.version}`, stableArm.version);
  }
  const candArm = spec.variants.find((v) => v.name === CANDIDATE);
  if (spec.candidate) {
    if (!candArm) f.fail('variants', `to contain the "${CANDIDATE}" arm when candidate is set`);
    if (candArm.version !== spec.candidate.version) {
      f.fail('variants["candidate"].version', `the candidate version ${spec.candidate.version}`, candArm.version);
    }
    if (slotsOf(candArm.weight) !== slotsOf(spec.candidate.weight)) {
      f.fail('variants["candidate"].weight', `candidate.weight ${spec.candidate.weight}`, candArm.weight);
    }
  } else if (candArm) {
    f.fail('candidate', `set when variants has a "${CANDIDATE}" arm`, null);
  }
  const total = spec.variants.reduce((s, v) => s + slotsOf(v.weight), 0);
  if (total !== SLOTS) {
    f.fail('variants', `weights summing to 100`, fromSlots(total));
  }
  const variants = canonicalOrder(spec.variants);
  const others = variants.slice(1);
  others.forEach((v, i) => {
    const { start, end } = lane(i, others.length);
    if (slotsOf(v.weight) > end - start) {
      f.fail(
        `variants["${v.name}"].weight`,
        `at most ${fromSlots(end - start)} with ${others.length} arms besides stable ` +
          `(each arm has a fixed lane of 100/${others.length} %; see README "Assignment")`,
        v.weight,
      );
    }
  });
  return { ...spec, variants };
}

/** stable, candidate, then the others by name (UTF-16 code-unit order). */
export function canonicalOrder(variants: readonly Variant[]): Variant[] {
  const rank = (v: Variant) => (v.name === STABLE ? 0 : v.name === CANDIDATE ? 1 : 2);
  return [...variants].sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Builders

export interface RouteBase {
  model: string;
  stable: RouteVersion;
  /** Default: the model name. */
  experiment?: string | undefined;
  /** Default: the experiment name. */
  salt?: string | undefined;
  shadow?: (RouteVersion & { percent: number }) | null | undefined;
}

/**
 * A canary: stable takes 100 − weight %, the candidate `weight` % (units with bucket < weight/100).
 * Without a candidate, stable takes everything.
 * @example canaryRoute({ model: 'churn', stable: { version: '3', ref: '@production' }, candidate: { version: '4', ref: '4', weight: 5 } })
 */
export function canaryRoute(input: RouteBase & { candidate?: (RouteVersion & { weight: number }) | null }): RouteSpec {
  return abRoute({ ...input, variants: [] });
}

/**
 * An A/B test: `variants` (not stable or candidate) with their weights, an optional candidate,
 * and stable taking the remainder (100 − the others; it may be 0). Throws InputError naming the
 * field when the result is not a valid route.
 */
export function abRoute(
  input: RouteBase & {
    candidate?: (RouteVersion & { weight: number }) | null | undefined;
    variants: readonly Variant[];
  },
  source = 'route',
): RouteSpec {
  const f: Fields = new Fields(source);
  const model = str(f, 'model', input.model, { max: 1000 });
  const experiment = input.experiment === undefined ? model : str(f, 'experiment', input.experiment);
  const salt = input.salt === undefined ? experiment : str(f, 'salt', input.salt);
  const stable = routeVersion(f, 'stable', input.stable);
  let candidate: Route['candidate'] = null;
  if (input.candidate) {
    candidate = {
      ...routeVersion(f, 'candidate', input.candidate),
      weight: weight(f, 'candidate.weight', input.candidate.weight),
    };
  }
  let shadow: Route['shadow'] = null;
  if (input.shadow) {
    shadow = { ...routeVersion(f, 'shadow', input.shadow), percent: weight(f, 'shadow.percent', input.shadow.percent) };
  }
  const arms: Variant[] = [];
  if (candidate) arms.push({ name: CANDIDATE, ...candidate });
  input.variants.forEach((v, i) => {
    if (v.name === STABLE || v.name === CANDIDATE) {
      f.fail(
        `variants[${i}].name`,
        `a name other than "${STABLE}" and "${CANDIDATE}" (those arms are set by --stable and --candidate)`,
        v.name,
      );
    }
    if (variantNameProblem(v.name))
      f.fail(`variants[${i}].name`, `a variant name (${variantNameProblem(v.name)})`, v.name);
    arms.push({
      name: v.name,
      ...routeVersion(f, `variants[${i}]`, v),
      weight: weight(f, `variants[${i}].weight`, v.weight),
    });
  });
  const taken = arms.reduce((s, a) => s + slotsOf(a.weight), 0);
  if (taken > SLOTS) {
    f.fail('the weights of the arms besides stable', 'at most 100 in total', fromSlots(taken));
  }
  const variants = [{ name: STABLE, ...stable, weight: fromSlots(SLOTS - taken) }, ...arms];
  return checkSpec(f, { model, experiment, salt, hash_version: HASH_VERSION, stable, candidate, variants, shadow });
}

/** The route as stored and printed: compact JSON, fields in the documented order. */
export function routeJson(route: Route): string {
  return JSON.stringify({
    model: route.model,
    revision: route.revision,
    experiment: route.experiment,
    salt: route.salt,
    hash_version: route.hash_version,
    stable: route.stable,
    candidate: route.candidate,
    variants: route.variants,
    shadow: route.shadow,
    updated_by: route.updated_by,
    updated_at: route.updated_at,
  });
}

// ---------------------------------------------------------------------------------------------
// Assignment

export interface Assignment {
  variant: string;
  version: string;
  /** The unit's slot 0…9999 (bucket × 10000); null for a request without a unit. */
  slot: number | null;
}

interface Compiled {
  /** Per non-stable arm: its variant, first slot and end slot (exclusive). */
  arms: { variant: string; version: string; start: number; end: number }[];
  stableVersion: string;
  slotOf: (unit: string) => number;
  shadowSlotOf: (key: string) => number;
  shadowSlots: number;
}

const compiled = new WeakMap<RouteSpec, Compiled>();

function compile(route: RouteSpec): Compiled {
  let c = compiled.get(route);
  if (c) return c;
  const ordered = canonicalOrder(route.variants);
  const others = ordered.slice(1);
  c = {
    arms: others.map((v, i) => {
      const { start } = lane(i, others.length);
      return { variant: v.name, version: v.version, start, end: start + slotsOf(v.weight) };
    }),
    stableVersion: route.stable.version,
    slotOf: seeded(route.salt),
    shadowSlotOf: seeded(shadowSeed(route)),
    shadowSlots: route.shadow ? slotsOf(route.shadow.percent) : 0,
  };
  compiled.set(route, c);
  return c;
}

/**
 * The arm that serves `unit`: slot = fnv1a32(String(fnv1a32(salt + unit))) mod 10000; the
 * non-stable arm whose owned slots contain it, else stable. A missing or empty unit gets stable.
 * @example assign(route, 'user-1') // { variant: 'candidate', version: '4', slot: 312 }
 */
export function assign(route: RouteSpec, unit: string | null | undefined): Assignment {
  const c = compile(route);
  if (unit === undefined || unit === null || unit === '')
    return { variant: STABLE, version: c.stableVersion, slot: null };
  const slot = c.slotOf(unit);
  const arms = c.arms;
  for (let i = 0; i < arms.length; i++) {
    const arm = arms[i]!;
    if (slot >= arm.start && slot < arm.end) return { variant: arm.variant, version: arm.version, slot };
  }
  return { variant: STABLE, version: c.stableVersion, slot };
}

/**
 * The slots each arm owns: [start, end) for every arm besides stable (empty when its weight is 0),
 * and null for stable, which owns every other slot.
 */
export function armSlots(route: RouteSpec): { name: string; slots: { start: number; end: number } | null }[] {
  const c = compile(route);
  return [
    { name: STABLE, slots: null },
    ...c.arms.map((a) => ({ name: a.variant, slots: { start: a.start, end: a.end } })),
  ];
}

/** The seed of the shadow draw: independent of the arm assignment. */
export const shadowSeed = (route: RouteSpec) => `${route.salt}:shadow`;

/**
 * Whether a request with `key` (the unit, or any request key) is copied to the shadow:
 * fnv1a32(String(fnv1a32(salt + ":shadow" + key))) mod 10000 < percent × 100.
 */
export function inShadow(route: RouteSpec, key: string): boolean {
  const c = compile(route);
  if (c.shadowSlots === 0) return false;
  if (c.shadowSlots >= SLOTS) return true;
  return c.shadowSlotOf(key) < c.shadowSlots;
}

/** The versions a route needs loaded: every arm (a weight of 0 too, so it is warm), plus the shadow. */
export function routeVersions(route: RouteSpec): string[] {
  const out = new Set<string>([route.stable.version]);
  for (const v of route.variants) out.add(v.version);
  if (route.candidate) out.add(route.candidate.version);
  if (route.shadow) out.add(route.shadow.version);
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// Where routes live in the registry

/** Registered-model tag holding the route (compact JSON, see routeJson). */
export const ROUTE_TAG = 'mlv.route';
/** Registered-model tag left by `route clear`: {"revision", "updated_by", "updated_at"}, so revisions never repeat. */
export const ROUTE_CLEARED_TAG = 'mlv.route.cleared';
/** Model-version tag `mlv serve` sets when a version fails to load or warm up: {"error", "at", "host"}. */
export const LOAD_ERROR_TAG = 'mlv.serve.load_error';

export interface LoadError {
  error: string;
  /** ISO 8601 time of the failure, or null when the tag did not say. */
  at: string | null;
  host: string | null;
}

/** The value of an `mlv.serve.load_error` tag; a tag that is not the JSON shape is shown as its text. */
export function parseLoadError(value: string): LoadError {
  try {
    const v = JSON.parse(value) as unknown;
    if (isObject(v) && typeof v.error === 'string') {
      return {
        error: v.error,
        at: typeof v.at === 'string' ? v.at : null,
        host: typeof v.host === 'string' ? v.host : null,
      };
    }
  } catch {
    // not JSON: fall through
  }
  return { error: value, at: null, host: null };
}

/** The tag value for a load failure (the error text cut to fit MLflow's 5000-character tag limit). */
export function encodeLoadError(e: LoadError): string {
  return JSON.stringify({ error: e.error.slice(0, 4000), at: e.at, host: e.host });
}
