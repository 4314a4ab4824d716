import { TAG } from './tags.js';

/** The fields of a version that the comparison reports as they are (its `a` and `b`). */
export interface VersionSide {
  version: string;
  semver: string | null;
  aliases: string[];
  stage: string;
  status: string;
  created_at: string | null;
  run_id: string | null;
}

function side(v: VersionSnapshot): VersionSide {
  const { version, semver, aliases, stage, status, created_at, run_id } = v;
  return { version, semver, aliases, stage, status, created_at, run_id };
}

/** One version as the comparison sees it (gathered by src/registry/versions.ts). */
export interface VersionSnapshot extends VersionSide {
  source: string;
  description: string;
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

export interface MetricDiff {
  key: string;
  a: number | null;
  b: number | null;
  /** b − a; null when either side is missing. */
  delta: number | null;
  /** (b − a) / |a|; null when either side is missing or a is 0. */
  relative: number | null;
}

export interface ValueDiff {
  key: string;
  a: string | null;
  b: string | null;
}

export interface Comparison {
  name: string;
  a: VersionSide;
  b: VersionSide;
  metrics: MetricDiff[];
  /** Changed params only, unless `all`. */
  params: ValueDiff[];
  /** mlv's metadata (semver, sha256, framework, training data, created by, stage, aliases…): always all rows. */
  metadata: (ValueDiff & { changed: boolean })[];
  /** Dependency versions, changed only unless `all`. */
  dependencies: ValueDiff[];
  /** Other version tags (not mlv.* / mlflow.*), changed only unless `all`. */
  tags: ValueDiff[];
  all: boolean;
}

/** Relative change, rounded to 12 significant digits so that 0.1 → 0.3 reads as 2, not 1.9999999999999998. */
export function relativeChange(a: number, b: number): number | null {
  if (a === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return null;
  return round12((b - a) / Math.abs(a));
}

function round12(x: number): number {
  return Number(x.toPrecision(12));
}

export function diffMetrics(a: Record<string, number>, b: Record<string, number>): MetricDiff[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.map((key) => {
    const va = a[key];
    const vb = b[key];
    const both = va !== undefined && vb !== undefined;
    return {
      key,
      a: va ?? null,
      b: vb ?? null,
      delta: both && Number.isFinite(va) && Number.isFinite(vb) ? round12(vb - va) : null,
      relative: both ? relativeChange(va, vb) : null,
    };
  });
}

export function diffValues(a: Record<string, string>, b: Record<string, string>, all: boolean): ValueDiff[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: ValueDiff[] = [];
  for (const key of keys) {
    const va = a[key] ?? null;
    const vb = b[key] ?? null;
    if (all || va !== vb) out.push({ key, a: va, b: vb });
  }
  return out;
}

/** `{"numpy": "==1.26.4"}` from the mlv.dependencies tag; {} when absent or unreadable. */
export function parseDependenciesTag(value: string | undefined): Record<string, string> {
  if (!value) return {};
  try {
    const v = JSON.parse(value) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out: Record<string, string> = {};
    for (const [k, s] of Object.entries(v)) if (typeof s === 'string') out[k] = s;
    return out;
  } catch {
    return {};
  }
}

const METADATA_TAGS: [string, string][] = [
  ['sha256', TAG.sha256],
  ['artifact', TAG.artifact],
  ['size_bytes', TAG.sizeBytes],
  ['framework', TAG.framework],
  ['training_data', TAG.trainingData],
  ['created_by', TAG.createdBy],
  ['onnx_opset', TAG.onnxOpset],
  ['onnx_producer', TAG.onnxProducer],
];

/** Compares two versions of `name`: b relative to a (delta = b − a). */
export function compareVersions(
  name: string,
  a: VersionSnapshot,
  b: VersionSnapshot,
  opts: { all?: boolean } = {},
): Comparison {
  const all = opts.all === true;
  const meta = (key: string, va: string | null, vb: string | null) => ({ key, a: va, b: vb, changed: va !== vb });
  const metadata = [
    meta('semver', a.semver, b.semver),
    meta('aliases', a.aliases.join(', ') || null, b.aliases.join(', ') || null),
    meta('stage', a.stage, b.stage),
    meta('status', a.status, b.status),
    meta('created_at', a.created_at, b.created_at),
    meta('run_id', a.run_id, b.run_id),
    ...METADATA_TAGS.map(([k, tag]) => meta(k, a.tags[tag] ?? null, b.tags[tag] ?? null)),
  ].filter((m) => all || m.a !== null || m.b !== null);
  const userTags = (t: Record<string, string>) =>
    Object.fromEntries(Object.entries(t).filter(([k]) => !k.startsWith('mlv.') && !k.startsWith('mlflow.')));
  return {
    name,
    a: side(a),
    b: side(b),
    metrics: diffMetrics(a.metrics, b.metrics),
    params: diffValues(a.params, b.params, all),
    metadata,
    dependencies: diffValues(
      parseDependenciesTag(a.tags[TAG.dependencies]),
      parseDependenciesTag(b.tags[TAG.dependencies]),
      all,
    ),
    tags: diffValues(userTags(a.tags), userTags(b.tags), all),
    all,
  };
}
