import { UsageError } from '../../errors.js';
import type { ArmStats, ExperimentData, MetricType } from './types.js';

/**
 * Parsing of the small textual inputs of `mlv analyze`: count specifications, metric specs,
 * the expected split and durations. Pure; errors name the flag and show what is expected.
 */

export interface ArmSpec {
  /** The `name:` prefix, when given. */
  name: string | undefined;
  stats: { type: 'proportion'; conversions: number; n: number } | { type: 'mean'; mean: number; sd: number; n: number };
}

function number(text: string, flag: string, what: string): number {
  const t = text.trim();
  const x = t === '' ? NaN : Number(t);
  if (!Number.isFinite(x)) throw new UsageError(`${flag}: ${what} must be a number, got "${text}"`);
  return x;
}

/**
 * `[NAME:]CONVERSIONS/UNITS` (proportion) or `[NAME:]mean=M,sd=S,n=N` (continuous).
 * @example parseArmSpec('b:520/10000', '--treatment') → {name: 'b', stats: {type: 'proportion', conversions: 520, n: 10000}}
 */
export function parseArmSpec(text: string, flag: string): ArmSpec {
  const m = /^\s*([^:=/,]+):(.*)$/.exec(text);
  const name = m ? m[1]!.trim() : undefined;
  const body = (m ? m[2]! : text).trim();
  const example = `${flag} 450/10000 or ${flag} mean=12.3,sd=4.1,n=5000 (optionally NAME: in front)`;
  if (/^[^=]*\/[^=]*$/.test(body)) {
    const [a, b] = body.split('/') as [string, string];
    const conversions = number(a, flag, 'conversions');
    const n = number(b, flag, 'units');
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${flag} ${text}: units must be a whole number ≥ 1, got ${b.trim()}`);
    if (!Number.isInteger(conversions) || conversions < 0) {
      throw new UsageError(`${flag} ${text}: conversions must be a whole number ≥ 0, got ${a.trim()}`);
    }
    if (conversions > n) throw new UsageError(`${flag} ${text}: conversions (${conversions}) > units (${n})`);
    return { name, stats: { type: 'proportion', conversions, n } };
  }
  if (body.includes('=')) {
    const fields = new Map<string, string>();
    for (const part of body.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) throw new UsageError(`${flag} ${text}: expected key=value, got "${part}"`, { hint: example });
      const key = part.slice(0, eq).trim().toLowerCase();
      if (!['mean', 'sd', 'n'].includes(key))
        throw new UsageError(`${flag} ${text}: unknown key "${key}" (mean, sd, n)`);
      fields.set(key, part.slice(eq + 1));
    }
    for (const key of ['mean', 'sd', 'n']) {
      if (!fields.has(key)) throw new UsageError(`${flag} ${text}: missing ${key}=`, { hint: example });
    }
    const mean = number(fields.get('mean')!, flag, 'mean');
    const sd = number(fields.get('sd')!, flag, 'sd');
    const n = number(fields.get('n')!, flag, 'n');
    if (sd < 0) throw new UsageError(`${flag} ${text}: sd must be ≥ 0, got ${sd}`);
    if (!Number.isInteger(n) || n < 2)
      throw new UsageError(`${flag} ${text}: n must be a whole number ≥ 2 for a mean, got ${n}`);
    return { name, stats: { type: 'mean', mean, sd, n } };
  }
  throw new UsageError(`${flag}: cannot read "${text}"`, { hint: example });
}

/** Builds the experiment data of the counts form (one metric). */
export function countsExperiment(
  control: ArmSpec,
  treatments: ArmSpec[],
  opts: { controlName?: string; metric?: string },
): ExperimentData {
  const types = new Set([control.stats.type, ...treatments.map((t) => t.stats.type)]);
  if (types.size > 1) {
    throw new UsageError('--control and --treatment must all be proportions (x/n) or all means (mean=,sd=,n=)');
  }
  const type = control.stats.type;
  const controlName = opts.controlName ?? control.name ?? 'control';
  if (control.name !== undefined && opts.controlName !== undefined && control.name !== opts.controlName) {
    throw new UsageError(`--control is named ${control.name} but --control-variant says ${opts.controlName}`);
  }
  const names = treatments.map((t, i) => t.name ?? (treatments.length === 1 ? 'treatment' : `treatment${i + 1}`));
  const all = [controlName, ...names];
  const dup = all.find((n, i) => all.indexOf(n) !== i);
  if (dup !== undefined)
    throw new UsageError(`arm name ${dup} is used twice`, {
      hint: 'name treatment arms with NAME: in front, e.g. --treatment b:520/10000',
    });
  const arms: ArmStats[] = [control, ...treatments].map((spec, i): ArmStats => {
    const variant = all[i]!;
    const s = spec.stats;
    return s.type === 'proportion'
      ? { variant, n: s.n, type: 'proportion', conversions: s.conversions }
      : { variant, n: s.n, type: 'mean', mean: s.mean, sd: s.sd };
  });
  return {
    variants: arms.map((a) => ({ variant: a.variant, n: a.n })),
    metrics: [{ name: opts.metric ?? (type === 'proportion' ? 'conversion' : 'value'), type, arms }],
    excluded: { multi_variant_units: null, bad_lines: 0 },
  };
}

export interface MetricSpec {
  name: string;
  /** Undefined when the spec does not say (events default: proportion). */
  type: MetricType | undefined;
  lowerIsBetter: boolean;
}

/** `NAME[:proportion|:mean][:lower-is-better]` (suffixes in any order). */
export function parseMetricSpec(text: string, flag: string): MetricSpec {
  const parts = text.split(':');
  const name = parts[0]!.trim();
  if (name === '') throw new UsageError(`${flag}: empty metric name in "${text}"`);
  let type: MetricType | undefined;
  let lowerIsBetter = false;
  for (const raw of parts.slice(1)) {
    const p = raw.trim().toLowerCase();
    if (p === 'proportion' || p === 'mean') type = p;
    else if (p === 'lower-is-better' || p === 'lower') lowerIsBetter = true;
    else if (p === 'higher-is-better' || p === 'higher') lowerIsBetter = false;
    else {
      throw new UsageError(`${flag} ${text}: unknown suffix ":${raw}"`, {
        hint: `${flag} NAME[:proportion|:mean][:lower-is-better]`,
      });
    }
  }
  return { name, type, lowerIsBetter };
}

/** `80/20`, `50/25/25`, `0.5/0.5`: positive shares, normalised later. */
export function parseSplit(text: string): number[] {
  const parts = text.split(/[/:,]/).map((p) => p.trim());
  const shares = parts.map((p) => (p === '' ? NaN : Number(p)));
  if (shares.length < 2 || shares.some((s) => !Number.isFinite(s) || s <= 0)) {
    throw new UsageError(
      `--expected-split must be positive shares separated by "/", e.g. 80/20 or 50/25/25; got "${text}"`,
    );
  }
  return shares;
}

/** `14d`, `36h`, `90m`, `2w`, `3600s` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(w|d|h|m|s)\s*$/i.exec(text);
  if (!m) throw new UsageError(`${flag} must be a duration like 14d, 36h, 90m or 2w; got "${text}"`);
  const unit = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[m[2]!.toLowerCase() as 'w']!;
  const ms = Number(m[1]) * unit;
  if (!(ms > 0)) throw new UsageError(`${flag} must be longer than zero, got "${text}"`);
  return ms;
}
