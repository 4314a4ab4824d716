import type { Command } from 'commander';
import type { Context } from '../context.js';
import { compareVersions, type Comparison, type VersionSide } from '../core/registry/compare.js';
import { parseVersionRef, versionLabel } from '../core/registry/refs.js';
import { SMOKE_DEFAULTS } from '../core/smoke/report.js';
import { InputError, UsageError } from '../errors.js';
import type { ModelVersion } from '../mlflow/types.js';
import { pickModel, pickVersion } from '../registry/pick.js';
import { fmt, mdTable, percent, shortTime, signed } from '../core/format.js';
import { listVersions, requireModel, resolveRef, snapshot } from '../registry/versions.js';
import { action } from '../run.js';
import { intArg } from './args.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';

/**
 * `mlv compare NAME A B`: two versions side by side — metrics with absolute and relative delta
 * (B against A), changed params (all with --all), mlv metadata, dependencies, tags, aliases/stage.
 * With --predictions, both versions also run in onnxruntime on the same inputs (`mlv smoke` with B
 * as the candidate and A as the baseline) and the report adds how far their outputs differ.
 */

export interface CompareInput {
  name?: string | undefined;
  a?: string | undefined;
  b?: string | undefined;
  all?: boolean | undefined;
  /** Run both versions on the same inputs and compare their outputs. */
  predictions?: boolean | undefined;
  /** With predictions: inputs as smoke reads them (JSON / JSON Lines); generated when absent. */
  input?: string | undefined;
  batch?: number | undefined;
  seed?: number | undefined;
}

/** B's outputs against A's on the same inputs (from the smoke runner's baseline comparison). */
export interface PredictionComparison {
  outputs: { name: string; max_abs_diff: number | null; mean_abs_diff: number | null }[];
  /** Share of rows where B predicts the same class as A; null when no output looks like a classifier's. */
  agreement: number | null;
  /** The output the agreement was read from. */
  agreement_output: string | null;
  /** B's p50 latency / A's p50 latency. */
  latency_ratio: number;
  rows: number;
  /** `generated (seed N, batch M)`, or the --input file. */
  input: string;
}

export type CompareResult = Comparison & { predictions?: PredictionComparison };

export async function compare(ctx: Context, input: CompareInput): Promise<CompareResult> {
  // References are parsed before any request: a bad one is a usage error on its own.
  const refA = input.a === undefined ? undefined : parseVersionRef(input.a, 'A');
  const refB = input.b === undefined ? undefined : parseVersionRef(input.b, 'B');
  if (!input.predictions) {
    const flag = (['input', 'batch', 'seed'] as const).find((k) => input[k] !== undefined);
    if (flag) throw new UsageError(`--${flag} applies to --predictions, which is missing`);
  }
  const client = await ctx.mlflow();
  const call = { signal: ctx.signal };
  const name = input.name ?? (await pickModel(ctx, client, 'NAME'));
  const model = await requireModel(client, name, call);
  let versions: ModelVersion[] | undefined;
  const pick = async (label: string, exclude?: string) => {
    versions ??= await listVersions(client, model.name, call);
    return pickVersion(ctx, model, versions, `version ${label}`, label, exclude);
  };
  const mvA = refA ? await resolveRef(client, model, refA, versions, call) : await pick('A');
  const mvB = refB ? await resolveRef(client, model, refB, versions, call) : await pick('B', mvA.version);
  const [a, b] = await Promise.all([snapshot(client, model, mvA, call), snapshot(client, model, mvB, call)]);
  const result: CompareResult = compareVersions(model.name, a, b, { all: input.all === true });
  if (input.predictions)
    result.predictions = await comparePredictions(ctx, model.name, mvA.version, mvB.version, input);
  return result;
}

/** `mlv smoke models:/NAME/B --baseline models:/NAME/A`, reduced to the comparison. */
async function comparePredictions(
  ctx: Context,
  name: string,
  a: string,
  b: string,
  input: CompareInput,
): Promise<PredictionComparison> {
  const refs = [`models:/${name}/${b}`, `models:/${name}/${a}`] as const;
  const { runSmoke } = await import('../smoke/run.js');
  const report = await runSmoke(ctx, {
    model: refs[0],
    baseline: refs[1],
    input: input.input,
    batch: input.batch,
    seed: input.seed,
  }).catch((err: unknown) => {
    // A version that is not an ONNX model is an input error naming models:/NAME/VERSION; smoke's hint
    // ("pass the .onnx file itself") does not apply here. A digest mismatch keeps its own hint.
    const aboutVersion =
      err instanceof InputError && refs.some((r) => err.message.startsWith(`${r} `) || err.message.startsWith(`${r}:`));
    if (!aboutVersion || err.code === 'MLV_DIGEST_MISMATCH') throw err;
    throw new InputError(err.message, {
      code: err.code,
      hint: '--predictions runs both versions as ONNX models; without it, compare shows metrics and metadata only',
    });
  });
  for (const c of report.checks.filter((x) => !x.passed)) ctx.warn(`version ${b}: ${c.name} check failed: ${c.detail}`);
  const cmp = report.comparison!;
  return {
    outputs: cmp.outputs.map((o) => ({ name: o.name, max_abs_diff: o.max_abs_diff, mean_abs_diff: o.mean_abs_diff })),
    agreement: cmp.agreement,
    agreement_output: cmp.agreement_output,
    latency_ratio: cmp.latency_ratio,
    rows: report.run.rows,
    input:
      report.run.seed === null ? report.run.input : `generated (seed ${report.run.seed}, batch ${report.run.rows})`,
  };
}

/** One line under the predictions table: agreement, latency ratio, which inputs. */
function predictionSummary(p: PredictionComparison, lead: string): string {
  const agreement =
    p.agreement === null
      ? 'n/a (no classifier-like output)'
      : `${Number((p.agreement * 100).toFixed(2))}% (${p.agreement_output})`;
  return `${lead} ${agreement} · latency ratio B/A ${p.latency_ratio.toFixed(2)}× (p50) · ${p.rows} rows: ${p.input}`;
}

function sideLabel(s: VersionSide): string {
  const aliases = s.aliases.map((a) => '@' + a).join(' ');
  return `${versionLabel(s.version, s.semver)}${aliases ? ' ' + aliases : ''}`;
}

function columnLabel(s: VersionSide): string {
  return s.semver ? `v${s.semver} (${s.version})` : `version ${s.version}`;
}

/** On a terminal, long identifiers are shortened so the table fits; piped output keeps them whole. */
function metaCell(style: Style, key: string, value: string | null): string | null {
  if (!style.tty || value === null) return value;
  if (key === 'sha256' || key === 'run_id') return value.length > 12 ? `${value.slice(0, 12)}…` : value;
  if (key === 'created_at') return shortTime(value);
  return value;
}

export function renderCompare(r: CompareResult, style: Style): string {
  const A = style.tty ? columnLabel(r.a) : 'a';
  const B = style.tty ? columnLabel(r.b) : 'b';
  const colour = (d: number | null, text: string) =>
    d === null || d === 0 ? text : d > 0 ? style.green(text) : style.red(text);
  const parts: string[] = [];
  if (style.tty) parts.push(`${style.bold(r.name)}: A = ${sideLabel(r.a)}   B = ${sideLabel(r.b)}`);
  parts.push(
    r.metrics.length === 0
      ? style.dim('no metrics logged on either version')
      : renderTable(
          style,
          ['metric', A, B, 'delta', 'relative'],
          r.metrics.map((m) => [
            m.key,
            fmt(m.a),
            fmt(m.b),
            colour(m.delta, signed(m.delta)),
            colour(m.relative, percent(m.relative)),
          ]),
        ),
  );
  const pred = r.predictions;
  if (pred) {
    parts.push(
      renderTable(
        style,
        ['prediction', 'max |B − A|', 'mean |B − A|'],
        pred.outputs.map((o) => [o.name, fmt(o.max_abs_diff), fmt(o.mean_abs_diff)]),
      ) + `\n${predictionSummary(pred, 'agreement')}`,
    );
  }
  if (r.params.length > 0)
    parts.push(
      renderTable(
        style,
        [r.all ? 'param' : 'param (changed)', A, B],
        r.params.map((p) => [p.key, p.a, p.b]),
      ),
    );
  else if (style.tty) parts.push(style.dim(r.all ? 'no params' : 'params: no changes (--all lists them)'));
  parts.push(
    renderTable(
      style,
      ['metadata', A, B],
      r.metadata.map((m) => [
        m.changed && style.tty ? style.yellow(m.key) : m.key,
        metaCell(style, m.key, m.a),
        metaCell(style, m.key, m.b),
      ]),
    ),
  );
  if (r.dependencies.length > 0) {
    parts.push(
      renderTable(
        style,
        [r.all ? 'dependency' : 'dependency (changed)', A, B],
        r.dependencies.map((d) => [d.key, d.a, d.b]),
      ),
    );
  }
  if (r.tags.length > 0)
    parts.push(
      renderTable(
        style,
        [r.all ? 'tag' : 'tag (changed)', A, B],
        r.tags.map((t) => [t.key, t.a, t.b]),
      ),
    );
  return parts.join('\n\n');
}

/** The comparison as Markdown, for a pull-request comment. */
export function renderCompareMarkdown(r: CompareResult): string {
  const A = `A: ${columnLabel(r.a)}`;
  const B = `B: ${columnLabel(r.b)}`;
  const out: string[] = [`### ${r.name}: ${sideLabel(r.a)} → ${sideLabel(r.b)}`, ''];
  if (r.metrics.length > 0) {
    out.push(
      mdTable(
        ['metric', A, B, 'Δ', 'Δ %'],
        r.metrics.map((m) => [`\`${m.key}\``, fmt(m.a), fmt(m.b), signed(m.delta), percent(m.relative)]),
        ['l', 'r', 'r', 'r', 'r'],
      ),
      '',
    );
  } else {
    out.push('_No metrics logged on either version._', '');
  }
  const pred = r.predictions;
  if (pred) {
    out.push(
      mdTable(
        ['prediction', 'max |B − A|', 'mean |B − A|'],
        pred.outputs.map((o) => [`\`${o.name}\``, fmt(o.max_abs_diff), fmt(o.mean_abs_diff)]),
        ['l', 'r', 'r'],
      ),
      '',
      predictionSummary(pred, 'Agreement'),
      '',
    );
  }
  if (r.params.length > 0) {
    out.push(
      mdTable(
        [r.all ? 'param' : 'param (changed)', A, B],
        r.params.map((p) => [`\`${p.key}\``, p.a, p.b]),
      ),
      '',
    );
  } else {
    out.push(r.all ? '_No params._' : '_No param changes._', '');
  }
  const meta = r.metadata.filter((m) => r.all || m.changed || m.key === 'semver');
  out.push(
    mdTable(
      ['metadata', A, B],
      meta.map((m) => [m.key, m.a, m.b]),
    ),
    '',
  );
  if (r.dependencies.length > 0) {
    out.push(
      mdTable(
        [r.all ? 'dependency' : 'dependency (changed)', A, B],
        r.dependencies.map((d) => [`\`${d.key}\``, d.a, d.b]),
      ),
      '',
    );
  }
  if (r.tags.length > 0)
    out.push(
      mdTable(
        [r.all ? 'tag' : 'tag (changed)', A, B],
        r.tags.map((t) => [`\`${t.key}\``, t.a, t.b]),
      ),
      '',
    );
  return out.join('\n').trimEnd();
}

interface CompareFlags {
  all?: boolean;
  md?: boolean;
  predictions?: boolean;
  input?: string;
  batch?: number;
  seed?: number;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      'compare two versions: metrics with deltas, changed params, metadata, dependencies, tags, aliases/stage',
    )
    .argument('[name]', 'registered model (asked for in a terminal when missing)')
    .argument('[a]', 'version A: a number (3), a semver (v1.2.0 or 1.2.0), an alias (@production) or latest')
    .argument('[b]', 'version B, compared against A (delta = B − A)')
    .option('--all', 'list every param, dependency and tag, not only the changed ones')
    .option('--md', 'print the comparison as Markdown tables (for a pull-request comment)')
    .option(
      '--predictions',
      'run both versions (ONNX) on the same inputs: output differences, class agreement, latency ratio',
    )
    .option('--input <file>', 'inputs for --predictions, as `mlv smoke --input` reads them (default: generated)')
    .option(
      '--batch <n>',
      `rows of generated inputs for --predictions (default ${SMOKE_DEFAULTS.batch})`,
      intArg('--batch', 1),
    )
    .option(
      '--seed <n>',
      `seed of generated inputs for --predictions (default ${SMOKE_DEFAULTS.seed})`,
      intArg('--seed', 0),
    )
    .addHelpText(
      'after',
      `
Examples:
  mlv compare churn @production 4
  mlv compare churn v1.2.0 v1.3.0 --all
  mlv compare churn @production @candidate --md >> "$GITHUB_STEP_SUMMARY"
  mlv compare churn @production @candidate --predictions --batch 256
  mlv compare churn 3 4 --predictions --input requests.jsonl --md`,
    )
    .action(
      action(
        async (ctx, name: string | undefined, a: string | undefined, b: string | undefined, flags: CompareFlags) => {
          const { all, predictions, input, batch, seed } = flags;
          const result = await compare(ctx, { name, a, b, all, predictions, input, batch, seed });
          ctx.output(result, flags.md ? (r) => renderCompareMarkdown(r) : renderCompare);
        },
      ),
    );
}
