import type { Command } from 'commander';
import type { Context } from '../context.js';
import { compareVersions, type Comparison, type VersionSide } from '../core/registry/compare.js';
import { fmt } from '../core/registry/gates.js';
import { parseVersionRef } from '../core/registry/refs.js';
import type { MlflowClient } from '../mlflow/client.js';
import type { ModelVersion, RegisteredModel } from '../mlflow/types.js';
import { mdTable, percent, shortTime, signed, versionLabel } from '../registry/render.js';
import { listVersions, requireModel, resolveRef, semverOf, snapshot } from '../registry/versions.js';
import { action } from '../run.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';

/**
 * `mlv compare NAME A B`: two versions side by side — metrics with absolute and relative delta
 * (B against A), changed params (all with --all), mlv metadata, dependencies, tags, aliases/stage.
 */

export interface CompareInput {
  name?: string | undefined;
  a?: string | undefined;
  b?: string | undefined;
  all?: boolean | undefined;
}

export type CompareResult = Comparison;

export async function compare(ctx: Context, input: CompareInput): Promise<CompareResult> {
  // References are parsed before any request: a bad one is a usage error on its own.
  const refA = input.a === undefined ? undefined : parseVersionRef(input.a, 'A');
  const refB = input.b === undefined ? undefined : parseVersionRef(input.b, 'B');
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
  return compareVersions(model.name, a, b, { all: input.all === true });
}

/** A selection list of registered models (only when interactive; otherwise a usage error naming the argument). */
export async function pickModel(ctx: Context, client: MlflowClient, argName: string): Promise<string> {
  if (!ctx.interactive) return ctx.prompt.select(`registered model`, [], { flag: `the ${argName} argument` });
  const names: string[] = [];
  for await (const m of client.iterateRegisteredModels({}, { signal: ctx.signal })) names.push(m.name);
  if (names.length === 0) return ctx.prompt.select('registered model (there are none yet)', [], { flag: `the ${argName} argument` });
  return ctx.prompt.select('Which model?', names.map((n) => ({ name: n, value: n })), { flag: `the ${argName} argument` });
}

/** A selection list of the model's versions, newest first. */
export async function pickVersion(
  ctx: Context,
  model: RegisteredModel,
  versions: ModelVersion[],
  what: string,
  argName: string,
  exclude?: string,
): Promise<ModelVersion> {
  const aliases = new Map<string, string[]>();
  for (const a of model.aliases) aliases.set(a.version, [...(aliases.get(a.version) ?? []), '@' + a.alias]);
  const choices = versions
    .filter((v) => v.version !== exclude)
    .map((v) => ({
      name: [versionLabel(v.version, semverOf(v)), ...(aliases.get(v.version) ?? [])].join(' '),
      value: v,
    }));
  if (!ctx.interactive || choices.length === 0) {
    return ctx.prompt.select(`${what} of ${model.name}`, [], { flag: `the ${argName} argument (a version, v1.2.0 or @alias)` });
  }
  return ctx.prompt.select(`Which ${what} of ${model.name}?`, choices, { flag: `the ${argName} argument` });
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
  const colour = (d: number | null, text: string) => (d === null || d === 0 ? text : d > 0 ? style.green(text) : style.red(text));
  const parts: string[] = [];
  if (style.tty) parts.push(`${style.bold(r.name)}: A = ${sideLabel(r.a)}   B = ${sideLabel(r.b)}`);
  parts.push(
    r.metrics.length === 0
      ? style.dim('no metrics logged on either version')
      : renderTable(
          style,
          ['metric', A, B, 'delta', 'relative'],
          r.metrics.map((m) => [m.key, fmt(m.a), fmt(m.b), colour(m.delta, signed(m.delta)), colour(m.relative, percent(m.relative))]),
        ),
  );
  if (r.params.length > 0) parts.push(renderTable(style, [r.all ? 'param' : 'param (changed)', A, B], r.params.map((p) => [p.key, p.a, p.b])));
  else if (style.tty) parts.push(style.dim(r.all ? 'no params' : 'params: no changes (--all lists them)'));
  parts.push(
    renderTable(
      style,
      ['metadata', A, B],
      r.metadata.map((m) => [m.changed && style.tty ? style.yellow(m.key) : m.key, metaCell(style, m.key, m.a), metaCell(style, m.key, m.b)]),
    ),
  );
  if (r.dependencies.length > 0) {
    parts.push(renderTable(style, [r.all ? 'dependency' : 'dependency (changed)', A, B], r.dependencies.map((d) => [d.key, d.a, d.b])));
  }
  if (r.tags.length > 0) parts.push(renderTable(style, [r.all ? 'tag' : 'tag (changed)', A, B], r.tags.map((t) => [t.key, t.a, t.b])));
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
  if (r.params.length > 0) {
    out.push(mdTable([r.all ? 'param' : 'param (changed)', A, B], r.params.map((p) => [`\`${p.key}\``, p.a, p.b])), '');
  } else {
    out.push(r.all ? '_No params._' : '_No param changes._', '');
  }
  const meta = r.metadata.filter((m) => r.all || m.changed || m.key === 'semver');
  out.push(mdTable(['metadata', A, B], meta.map((m) => [m.key, m.a, m.b])), '');
  if (r.dependencies.length > 0) {
    out.push(mdTable([r.all ? 'dependency' : 'dependency (changed)', A, B], r.dependencies.map((d) => [`\`${d.key}\``, d.a, d.b])), '');
  }
  if (r.tags.length > 0) out.push(mdTable([r.all ? 'tag' : 'tag (changed)', A, B], r.tags.map((t) => [`\`${t.key}\``, t.a, t.b])), '');
  return out.join('\n').trimEnd();
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare two versions: metrics with deltas, changed params, metadata, dependencies, tags, aliases/stage')
    .argument('[name]', 'registered model (asked for in a terminal when missing)')
    .argument('[a]', 'version A: a number (3), a semver (v1.2.0 or 1.2.0), an alias (@production) or latest')
    .argument('[b]', 'version B, compared against A (delta = B − A)')
    .option('--all', 'list every param, dependency and tag, not only the changed ones')
    .option('--md', 'print the comparison as Markdown tables (for a pull-request comment)')
    .addHelpText(
      'after',
      `
Examples:
  mlv compare churn @production 4
  mlv compare churn v1.2.0 v1.3.0 --all
  mlv compare churn @production @candidate --md >> "$GITHUB_STEP_SUMMARY"`,
    )
    .action(
      action(async (ctx, name: string | undefined, a: string | undefined, b: string | undefined, flags: { all?: boolean; md?: boolean }) => {
        const result = await compare(ctx, { name, a, b, all: flags.all });
        ctx.output(result, flags.md ? (r) => renderCompareMarkdown(r) : renderCompare);
      }),
    );
}
