import { InputError } from '../../errors.js';
import { fmt } from '../format.js';

/**
 * Promotion gates. Each is parsed from its flag before any request is made and evaluated into
 * one checklist line; promotion happens only when every line passes.
 */

export type Comparator = '>=' | '>' | '<=' | '<' | '==' | '!=';
const COMPARATORS: readonly Comparator[] = ['>=', '<=', '==', '!=', '>', '<'];

export interface Requirement {
  metric: string;
  op: Comparator;
  threshold: number;
  /** The flag text, for messages. */
  text: string;
}

/**
 * `auc>=0.88`, `latency_p95_ms < 40`, `loss<=1e-3`.
 * @example parseRequirement('auc>=0.88') // { metric: 'auc', op: '>=', threshold: 0.88, text: 'auc>=0.88' }
 */
export function parseRequirement(input: string): Requirement {
  const m = /^\s*([^<>=!\s]+)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$/.exec(input);
  const bad = () =>
    new InputError(
      `--require must look like METRIC OP NUMBER with OP one of ${COMPARATORS.join(' ')} (e.g. "auc>=0.88"), got "${input}"`,
    );
  if (!m) throw bad();
  const threshold = parseNumber(m[3]!);
  if (threshold === undefined) throw bad();
  return { metric: m[1]!, op: m[2] as Comparator, threshold, text: `${m[1]}${m[2]}${m[3]}` };
}

function parseNumber(s: string): number | undefined {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

export function compare(value: number, op: Comparator, threshold: number): boolean {
  switch (op) {
    case '>=':
      return value >= threshold;
    case '>':
      return value > threshold;
    case '<=':
      return value <= threshold;
    case '<':
      return value < threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

export interface NoRegression {
  metric: string;
  /** `higher`: higher is better (default); `lower`: lower is better (latency, loss). */
  better: 'higher' | 'lower';
}

/** `auc`, `auc:higher`, `latency_ms:lower`. */
export function parseNoRegression(input: string): NoRegression {
  const m = /^([^:\s]+)(?::(higher|lower))?$/.exec(input.trim());
  if (!m) {
    throw new InputError(
      `--no-regression must be METRIC or METRIC:lower (lower is better) or METRIC:higher, got "${input}"`,
    );
  }
  return { metric: m[1]!, better: (m[2] as 'higher' | 'lower' | undefined) ?? 'higher' };
}

/** An allowed worsening: an absolute amount (`0.01`) or a share of the baseline (`1%`). */
export type Tolerance = { kind: 'absolute'; value: number } | { kind: 'relative'; value: number };

export function parseTolerance(input: string): Tolerance {
  const s = input.trim();
  const pct = s.endsWith('%');
  const n = parseNumber(pct ? s.slice(0, -1).trim() : s);
  if (n === undefined || n < 0) {
    throw new InputError(`--tolerance must be a non-negative number (0.01) or percentage (1%), got "${input}"`);
  }
  return pct ? { kind: 'relative', value: n / 100 } : { kind: 'absolute', value: n };
}

/** `k=v` (the value may contain `=`). */
export function parseKeyValue(input: string, flag: string): { key: string; value: string } {
  const i = input.indexOf('=');
  if (i <= 0) throw new InputError(`${flag} must be KEY=VALUE, got "${input}"`);
  return { key: input.slice(0, i).trim(), value: input.slice(i + 1) };
}

export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

export interface Gates {
  requirements: Requirement[];
  noRegression: NoRegression[];
  tolerance: Tolerance;
  /** The candidate must hold this alias now. */
  from?: string;
  requireTags: { key: string; value: string }[];
}

/** What gates look at, gathered by the command. */
export interface GateInputs {
  candidate: {
    version: string;
    status: string;
    metrics: Record<string, number>;
    tags: Record<string, string>;
    aliases: string[];
  };
  /** The version holding the target now (undefined: nobody). */
  baseline?: { version: string; metrics: Record<string, number> };
  target: string;
}

/** The allowed worst value of a no-regression gate. */
export function regressionLimit(baseline: number, better: 'higher' | 'lower', tol: Tolerance): number {
  const slack = tol.kind === 'absolute' ? tol.value : Math.abs(baseline) * tol.value;
  return better === 'higher' ? baseline - slack : baseline + slack;
}

function fmtTolerance(t: Tolerance): string {
  return t.kind === 'absolute' ? fmt(t.value) : `${fmt(t.value * 100)}%`;
}

/**
 * Evaluates every gate into a checklist line, in a fixed order: status, --from, --require,
 * --no-regression, --require-tag. A missing candidate metric fails its gate (fail closed);
 * a baseline without the metric, or no baseline at all, has nothing to regress against and passes.
 */
export function evaluateGates(gates: Gates, input: GateInputs): Check[] {
  const { candidate, baseline } = input;
  const checks: Check[] = [];
  checks.push({
    name: 'status READY',
    passed: candidate.status === 'READY',
    detail: `version ${candidate.version} is ${candidate.status}`,
  });
  if (gates.from !== undefined) {
    const holds = candidate.aliases.includes(gates.from);
    checks.push({
      name: `from @${gates.from}`,
      passed: holds,
      detail: holds
        ? `version ${candidate.version} holds @${gates.from}`
        : `version ${candidate.version} does not hold @${gates.from}${candidate.aliases.length ? ` (it holds ${candidate.aliases.map((a) => '@' + a).join(', ')})` : ''}`,
    });
  }
  for (const r of gates.requirements) {
    const v = candidate.metrics[r.metric];
    if (v === undefined) {
      checks.push({
        name: r.text,
        passed: false,
        detail: `metric ${r.metric} is not logged for version ${candidate.version}`,
      });
      continue;
    }
    const ok = compare(v, r.op, r.threshold);
    checks.push({ name: r.text, passed: ok, detail: `${r.metric} = ${fmt(v)}` });
  }
  for (const g of gates.noRegression) {
    const name = `no regression in ${g.metric} (${g.better} is better)`;
    const v = candidate.metrics[g.metric];
    if (v === undefined) {
      checks.push({ name, passed: false, detail: `metric ${g.metric} is not logged for version ${candidate.version}` });
      continue;
    }
    if (!baseline) {
      checks.push({
        name,
        passed: true,
        detail: `nothing holds ${input.target} yet: no baseline (${g.metric} = ${fmt(v)})`,
      });
      continue;
    }
    if (baseline.version === candidate.version) {
      checks.push({ name, passed: true, detail: `version ${candidate.version} already holds ${input.target}` });
      continue;
    }
    const b = baseline.metrics[g.metric];
    if (b === undefined) {
      checks.push({
        name,
        passed: true,
        detail: `baseline version ${baseline.version} has no ${g.metric}: nothing to compare (${fmt(v)})`,
      });
      continue;
    }
    const limit = regressionLimit(b, g.better, gates.tolerance);
    const ok = Number.isFinite(v) && (g.better === 'higher' ? v >= limit : v <= limit);
    const tol = gates.tolerance.value === 0 ? '' : `, tolerance ${fmtTolerance(gates.tolerance)}`;
    checks.push({
      name,
      passed: ok,
      detail: `${fmt(v)} vs ${fmt(b)} (version ${baseline.version}${tol}; limit ${g.better === 'higher' ? '≥' : '≤'} ${fmt(limit)})`,
    });
  }
  for (const t of gates.requireTags) {
    const v = candidate.tags[t.key];
    checks.push({
      name: `tag ${t.key}=${t.value}`,
      passed: v === t.value,
      detail: v === undefined ? `tag ${t.key} is not set on version ${candidate.version}` : `${t.key} = ${v}`,
    });
  }
  return checks;
}

export function allPassed(checks: readonly Check[]): boolean {
  return checks.every((c) => c.passed);
}
