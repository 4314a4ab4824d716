import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { fmt } from '../core/format.js';
import {
  allPassed,
  evaluateGates,
  parseKeyValue,
  parseNoRegression,
  parseRequirement,
  parseTolerance,
  type Check,
  type Gates,
} from '../core/registry/gates.js';
import {
  isProductionLike,
  normalizeStage,
  parseVersionRef,
  targetLabel,
  validateAliasName,
  versionLabel,
} from '../core/registry/refs.js';
import { UsageError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import { tagMap, type ModelVersion, type RegisteredModel } from '../mlflow/types.js';
import {
  applyMove,
  confirmMove,
  currentHolder,
  failIfGatesFailed,
  plannedMove,
  type MoveResult,
} from '../registry/move.js';
import { openModel, pickVersion } from '../registry/pick.js';
import { whoAmI } from '../registry/provenance.js';
import { checklist, movedLine, renderMove, statusLine } from '../terminal/render.js';
import { aliasesByVersion, resolveRef, runFacts } from '../registry/versions.js';
import { action } from '../run.js';
import type { Style } from '../terminal/style.js';

/**
 * `mlv promote NAME REF --to TARGET`: move an alias (default) or a legacy stage (--stage) to a
 * version, behind gates. Every gate is evaluated and shown as a checklist; if any fails, nothing
 * is changed and the command exits 1. A successful move is recorded in the model's audit trail
 * (who, when, previous holder) so that `mlv rollback` knows where to go back to.
 */

export interface SmokeGateInput {
  maxP99Ms?: number | undefined;
  minThroughput?: number | undefined;
  maxAbsDiff?: number | undefined;
  minAgreement?: number | undefined;
  maxLatencyRatio?: number | undefined;
  input?: string | undefined;
}

export interface PromoteInput {
  name?: string | undefined;
  ref?: string | undefined;
  /** An alias, or a stage name with `stage`. */
  /** Asked for in a terminal when missing. */
  to?: string | undefined;
  stage?: boolean | undefined;
  archiveExisting?: boolean | undefined;
  require?: string[];
  noRegression?: string[];
  tolerance?: string | undefined;
  from?: string | undefined;
  requireTag?: string[];
  dryRun?: boolean | undefined;
  /** Run `mlv smoke` on the candidate (against the current holder when there is one) as one more gate. */
  smoke?: SmokeGateInput | undefined;
}

export type PromoteResult = MoveResult;

export interface ParsedGates {
  gates: Gates;
  smoke: SmokeGateInput | undefined;
}

/** Every gate flag parsed up front: a malformed one fails before any request. */
export function parseGates(
  input: Pick<PromoteInput, 'require' | 'noRegression' | 'tolerance' | 'from' | 'requireTag' | 'smoke'>,
): ParsedGates {
  const gates: Gates = {
    requirements: (input.require ?? []).map(parseRequirement),
    noRegression: (input.noRegression ?? []).map(parseNoRegression),
    tolerance: input.tolerance === undefined ? { kind: 'absolute', value: 0 } : parseTolerance(input.tolerance),
    requireTags: (input.requireTag ?? []).map((t) => parseKeyValue(t, '--require-tag')),
  };
  if (input.tolerance !== undefined && gates.noRegression.length === 0) {
    throw new UsageError('--tolerance applies to --no-regression, which is missing');
  }
  if (input.from !== undefined) gates.from = validateAliasName(input.from, '--from');
  return { gates, smoke: input.smoke };
}

/** A selection list of targets: the model's aliases and the usual ones, or the stages. */
async function pickTarget(ctx: Context, model: RegisteredModel, kind: 'alias' | 'stage'): Promise<string> {
  const names =
    kind === 'stage'
      ? ['Staging', 'Production', 'Archived']
      : [...new Set([...model.aliases.map((a) => a.alias), 'production', 'staging', 'candidate'])];
  return ctx.prompt.select(
    kind === 'stage' ? 'Which stage?' : 'Which alias should point at it?',
    names.map((n) => ({ name: n, value: n })),
    { flag: '--to' },
  );
}

export async function promote(ctx: Context, input: PromoteInput): Promise<PromoteResult> {
  // ---- local checks first ----------------------------------------------------------------------
  const kind: 'alias' | 'stage' = input.stage ? 'stage' : 'alias';
  const checkTarget = (to: string): string =>
    kind === 'stage' ? normalizeStage(to, '--to (a stage)') : validateAliasName(to, '--to');
  // A missing --to is asked for in a terminal (after the model and the version), like NAME and REF.
  let given = input.to === undefined ? undefined : checkTarget(input.to);
  if (given === undefined && !ctx.interactive) {
    throw new UsageError(`missing --to: the ${kind === 'stage' ? 'stage' : 'alias'} to move`, {
      hint: 'e.g. --to production',
    });
  }
  if (input.archiveExisting && kind !== 'stage')
    throw new UsageError('--archive-existing applies to --stage promotions');
  // MLflow refuses it for the other stages; say so before any request (and before a --dry-run says "would").
  if (input.archiveExisting && given !== undefined && given !== 'Staging' && given !== 'Production') {
    throw new UsageError(`--archive-existing applies to --to Staging or Production, got --to ${given}`);
  }
  const { gates, smoke } = parseGates(input);
  const ref = input.ref === undefined ? undefined : parseVersionRef(input.ref, 'REF');
  const who = whoAmI(ctx.env);

  // ---- read the registry --------------------------------------------------------------------------
  const client = await ctx.mlflow();
  const call = { signal: ctx.signal };
  const { model, versions } = await openModel(ctx, client, input.name, 'NAME');
  const candidate = ref
    ? await resolveRef(client, model, ref, versions, call)
    : await pickVersion(ctx, model, versions, 'version to promote', 'REF');
  given ??= checkTarget(await pickTarget(ctx, model, kind));
  const target = given;
  if (input.archiveExisting && target !== 'Staging' && target !== 'Production') {
    throw new UsageError(`--archive-existing applies to --to Staging or Production, got --to ${target}`);
  }
  const holder = currentHolder(model, versions, target, kind);
  const checks = await gateChecks(ctx, client, { gates, smoke, model, candidate, holder, target, kind });

  const already = kind === 'alias' ? holder?.version === candidate.version : candidate.current_stage === target;
  const result: PromoteResult = plannedMove({
    name: model.name,
    candidate,
    target,
    kind,
    previous: holder?.version ?? null,
    holder,
    checks,
    dryRun: input.dryRun,
    by: who.createdBy,
  });
  if (!allPassed(checks) || input.dryRun) return result;
  if (
    already &&
    !(
      kind === 'stage' &&
      input.archiveExisting &&
      versions.some((v) => v.current_stage === target && v.version !== candidate.version)
    )
  ) {
    statusLine(
      ctx,
      `${ctx.errStyle.pass} ${model.name} ${versionLabel(candidate.version, result.semver)} already holds ${targetLabel(target, kind)}: nothing to do`,
    );
    return { ...result, promoted: true };
  }
  // In a terminal the gates are shown before the question: nobody confirms before seeing what was checked.
  if (ctx.interactive && !ctx.yes && isProductionLike(result.target) && result.checks.length > 0) {
    ctx.info(checklist(ctx.errStyle, result.checks));
  }
  await confirmMove(ctx, model.name, result);
  const moved = await applyMove(client, model, versions, result, {
    action: 'promote',
    by: who.createdBy,
    now: () => ctx.now(),
    random: ctx.random,
    archiveExisting: input.archiveExisting === true,
    note: checks.map((c) => `${c.passed ? 'pass' : 'fail'} ${c.name}`).join('; '),
    signal: ctx.signal,
  });
  statusLine(ctx, `${ctx.errStyle.pass} ${movedLine(moved, 'promoted')}`);
  return moved;
}

/** Every gate of the candidate, in checklist order; the smoke test last, and only when the others passed. */
async function gateChecks(
  ctx: Context,
  client: MlflowClient,
  g: {
    gates: Gates;
    smoke: SmokeGateInput | undefined;
    model: RegisteredModel;
    candidate: ModelVersion;
    holder: ModelVersion | undefined;
    target: string;
    kind: 'alias' | 'stage';
  },
): Promise<Check[]> {
  const { candidate, holder } = g;
  const call = { signal: ctx.signal };
  const facts = await runFacts(client, candidate.run_id, call);
  // The holder's run is read only when a --no-regression gate compares against it.
  const baseline = holder && {
    version: holder.version,
    metrics:
      holder.version !== candidate.version && g.gates.noRegression.length > 0
        ? (await runFacts(client, holder.run_id, call)).metrics
        : {},
  };
  const checks = evaluateGates(g.gates, {
    candidate: {
      version: candidate.version,
      status: candidate.status,
      metrics: facts.metrics,
      tags: tagMap(candidate.tags),
      aliases: aliasesByVersion(g.model).get(candidate.version) ?? [],
    },
    ...(baseline ? { baseline } : {}),
    target: targetLabel(g.target, g.kind),
  });
  if (g.smoke) checks.push(await smokeCheck(ctx, g.model.name, candidate, holder, g.smoke, allPassed(checks)));
  return checks;
}

/** `--smoke`: mlv smoke on the candidate, against the current holder when a comparison gate needs one. */
async function smokeCheck(
  ctx: Context,
  name: string,
  candidate: ModelVersion,
  holder: ModelVersion | undefined,
  smoke: SmokeGateInput,
  othersPassed: boolean,
): Promise<Check> {
  const check = 'smoke test';
  if (!othersPassed) return { name: check, passed: false, detail: 'not run: an earlier gate failed' };
  const needsBaseline =
    smoke.maxAbsDiff !== undefined || smoke.minAgreement !== undefined || smoke.maxLatencyRatio !== undefined;
  if (needsBaseline && (!holder || holder.version === candidate.version)) {
    return {
      name: check,
      passed: true,
      detail: 'no other version holds the target: nothing to compare with; comparison gates skipped',
    };
  }
  const { runSmoke } = await import('../smoke/run.js');
  const gates = {
    maxP99Ms: smoke.maxP99Ms,
    minThroughput: smoke.minThroughput,
    ...(needsBaseline
      ? { maxAbsDiff: smoke.maxAbsDiff, minAgreement: smoke.minAgreement, maxLatencyRatio: smoke.maxLatencyRatio }
      : {}),
  };
  const report = await runSmoke(ctx, {
    model: `models:/${name}/${candidate.version}`,
    ...(needsBaseline && holder ? { baseline: `models:/${name}/${holder.version}` } : {}),
    ...(smoke.input !== undefined ? { input: smoke.input } : {}),
    gates,
  });
  const failed = report.checks.filter((c) => !c.passed);
  const summary = `p99 ${fmt(Number(report.latency_ms.p99.toPrecision(3)))} ms, ${Math.round(report.throughput_rows_per_s)} rows/s${report.comparison?.agreement != null ? `, agreement ${fmt(report.comparison.agreement)}` : ''}`;
  return {
    name: check,
    passed: report.passed,
    detail: report.passed
      ? `${report.checks.length} checks passed (${summary})`
      : `failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`,
  };
}

export function renderPromote(r: PromoteResult, style: Style): string {
  return renderMove(r, style, 'promote');
}

// ---- command-line -------------------------------------------------------------------------------

const many = (v: string, prev: string[] = []) => [...prev, v];

function nonNegative(flag: string) {
  return (s: string): number => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`${flag} must be a number ≥ 0, got "${s}"`);
    return n;
  };
}

interface PromoteFlags {
  to?: string;
  stage?: boolean;
  archiveExisting?: boolean;
  require?: string[];
  regression?: string[];
  tolerance?: string;
  from?: string;
  requireTag?: string[];
  dryRun?: boolean;
  smoke?: boolean;
  smokeInput?: string;
  maxP99Ms?: number;
  minThroughput?: number;
  maxAbsDiff?: number;
  minAgreement?: number;
  maxLatencyRatio?: number;
}

export function smokeFromFlags(flags: PromoteFlags): SmokeGateInput | undefined {
  const any =
    flags.smoke ||
    [
      flags.maxP99Ms,
      flags.minThroughput,
      flags.maxAbsDiff,
      flags.minAgreement,
      flags.maxLatencyRatio,
      flags.smokeInput,
    ].some((v) => v !== undefined);
  if (!any) return undefined;
  return {
    maxP99Ms: flags.maxP99Ms,
    minThroughput: flags.minThroughput,
    maxAbsDiff: flags.maxAbsDiff,
    minAgreement: flags.minAgreement,
    maxLatencyRatio: flags.maxLatencyRatio,
    input: flags.smokeInput,
  };
}

// Long but flat: one declaration per flag, each with its parser and help text.
export function registerPromote(program: Command): void {
  program
    .command('promote')
    .description('point an alias (or a legacy stage) at a version, behind gates; records an audit trail')
    .argument('[name]', 'registered model (asked for in a terminal when missing)')
    .argument('[ref]', 'the version: a number (3), a semver (v1.2.0), an alias (@staging) or latest')
    .option(
      '--to <target>',
      'the alias to move (production, champion, …); with --stage, a stage (Staging, Production, Archived); asked for in a terminal when missing',
    )
    .option('--stage', 'TARGET is a legacy MLflow stage, not an alias')
    .option('--archive-existing', 'with --stage: move the versions now in that stage to Archived')
    .option(
      '--require <metric op value>',
      'gate: a metric of the candidate, e.g. "auc>=0.88" (ops >= > <= < == !=; repeatable)',
      many,
    )
    // commander reads --no-* as a negated flag: the values land in `regression`, defaulting to [].
    .addOption(
      new Option(
        '--no-regression <metric[:lower]>',
        'gate: no worse than the version holding TARGET now (":lower" when lower is better; repeatable)',
      )
        .default([], 'none')
        .argParser(many),
    )
    .option('--tolerance <x|x%>', 'allowed worsening for --no-regression: absolute (0.01) or relative (1%)')
    .option('--from <alias>', 'gate: the candidate must hold this alias now (e.g. staging)')
    .option('--require-tag <key=value>', 'gate: the candidate version has this tag (repeatable)', many)
    .option(
      '--smoke',
      'gate: run `mlv smoke` on the candidate (compared with the current holder when a comparison gate is given)',
    )
    .option('--smoke-input <file>', 'inputs for --smoke (JSON or JSON Lines; default: generated)')
    .option('--max-p99-ms <ms>', 'smoke gate: p99 latency at most this (implies --smoke)', nonNegative('--max-p99-ms'))
    .option(
      '--min-throughput <rows>',
      'smoke gate: rows per second at least this (implies --smoke)',
      nonNegative('--min-throughput'),
    )
    .option(
      '--max-abs-diff <x>',
      'smoke gate: largest |candidate − current| output difference (implies --smoke)',
      nonNegative('--max-abs-diff'),
    )
    .option(
      '--min-agreement <x>',
      'smoke gate: share of rows with the same predicted class as the current holder (implies --smoke)',
      nonNegative('--min-agreement'),
    )
    .option(
      '--max-latency-ratio <x>',
      'smoke gate: candidate/current p50 latency at most this (implies --smoke)',
      nonNegative('--max-latency-ratio'),
    )
    .addOption(new Option('--dry-run', 'evaluate the gates and show what would happen; change nothing'))
    .addHelpText(
      'after',
      `
Every gate is shown as a checklist; if any fails, nothing changes and the exit code is 1.
In a terminal, moving a production-like alias asks for confirmation unless --yes; never in CI or when piped.
Examples:
  mlv promote churn v1.3.0 --to staging
  mlv promote churn @staging --to production --require "auc>=0.88" --no-regression auc --no-regression latency_ms:lower --tolerance 1%
  mlv promote churn 4 --to Production --stage --archive-existing --dry-run`,
    )
    .action(
      action(async (ctx, name: string | undefined, ref: string | undefined, flags: PromoteFlags) => {
        const result = await promote(ctx, {
          name,
          ref,
          to: flags.to,
          stage: flags.stage,
          archiveExisting: flags.archiveExisting,
          require: flags.require,
          noRegression: flags.regression,
          tolerance: flags.tolerance,
          from: flags.from,
          requireTag: flags.requireTag,
          dryRun: flags.dryRun,
          smoke: smokeFromFlags(flags),
        });
        ctx.output(result, renderPromote);
        failIfGatesFailed(result, 'promoted');
      }),
    );
}
