import { InvalidArgumentError, type Command } from 'commander';
import type { Context } from '../context.js';
import { fmt, shortTime } from '../core/format.js';
import { TAG } from '../core/registry/tags.js';
import { keyValues } from '../terminal/render.js';
import {
  aliasMap,
  aliasesByVersion,
  isoTime,
  listVersions,
  mapLimit,
  requireModel,
  runFacts,
  semverOf,
  tagOf,
} from '../registry/versions.js';
import { action } from '../run.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';

/** `mlv show [NAME]`: the registered models, or one model's versions with semver, aliases, stage, status, metrics. */

export interface ShowInput {
  name?: string | undefined;
  /** Newest versions to show (0 = all). */
  limit?: number | undefined;
}

export interface ShownVersion {
  version: string;
  semver: string | null;
  aliases: string[];
  stage: string;
  status: string;
  metrics: Record<string, number>;
  created_at: string | null;
  run_id: string | null;
  sha256: string | null;
  description: string;
}

export interface ShowModelResult {
  name: string;
  description: string;
  aliases: Record<string, string>;
  versions: ShownVersion[];
  /** All versions of the model (versions may hold fewer, see --limit). */
  total_versions: number;
}

export interface ShowModelsResult {
  models: {
    name: string;
    description: string;
    latest_version: string | null;
    latest_semver: string | null;
    aliases: Record<string, string>;
    updated_at: string | null;
  }[];
}

export type ShowResult = ShowModelResult | ShowModelsResult;

export const DEFAULT_SHOW_LIMIT = 20;

export async function show(ctx: Context, input: ShowInput): Promise<ShowResult> {
  const client = await ctx.mlflow();
  const call = { signal: ctx.signal };
  if (input.name === undefined || input.name === '') {
    const models: ShowModelsResult['models'] = [];
    for await (const m of client.iterateRegisteredModels({}, call)) {
      const latest = [...m.latest_versions].sort((a, b) => Number(b.version) - Number(a.version))[0];
      models.push({
        name: m.name,
        description: m.description,
        latest_version: latest?.version ?? null,
        latest_semver: latest ? semverOf(latest) : null,
        aliases: aliasMap(m),
        updated_at: isoTime(m.last_updated_timestamp),
      });
    }
    return { models };
  }
  const model = await requireModel(client, input.name, call);
  const all = await listVersions(client, model.name, call);
  const limit = input.limit ?? DEFAULT_SHOW_LIMIT;
  const shown = limit > 0 ? all.slice(0, limit) : all;
  const byVersion = aliasesByVersion(model);
  const versions = await mapLimit(shown, 4, async (mv): Promise<ShownVersion> => ({
    version: mv.version,
    semver: semverOf(mv),
    aliases: byVersion.get(mv.version) ?? [],
    stage: mv.current_stage,
    status: mv.status,
    metrics: (await runFacts(client, mv.run_id, call)).metrics,
    created_at: isoTime(mv.creation_timestamp),
    run_id: mv.run_id || null,
    sha256: tagOf(mv, TAG.sha256) ?? null,
    description: mv.description,
  }));
  return {
    name: model.name,
    description: model.description,
    aliases: aliasMap(model),
    versions,
    total_versions: all.length,
  };
}

/** The metrics worth a column: the ones most versions have, then by name; at most `max`. */
export function keyMetrics(versions: readonly ShownVersion[], max = 3): string[] {
  const count = new Map<string, number>();
  for (const v of versions) for (const k of Object.keys(v.metrics)) count.set(k, (count.get(k) ?? 0) + 1);
  return [...count.entries()]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, max)
    .map(([k]) => k);
}

export function renderShow(r: ShowResult, style: Style): string {
  if ('models' in r) {
    if (r.models.length === 0)
      return style.tty ? style.dim('no registered models yet — `mlv register` creates one') : '';
    return renderTable(
      style,
      ['name', 'latest', 'semver', 'aliases', 'updated'],
      r.models.map((m) => [
        m.name,
        m.latest_version,
        m.latest_semver ? `v${m.latest_semver}` : null,
        Object.entries(m.aliases)
          .map(([a, v]) => `@${a}→${v}`)
          .join(' '),
        shortTime(m.updated_at),
      ]),
    );
  }
  const metrics = keyMetrics(r.versions);
  const rows = r.versions.map((v) => [
    v.version,
    v.semver ? `v${v.semver}` : null,
    v.aliases.map((a) => '@' + a).join(' '),
    v.stage === 'None' ? null : v.stage,
    v.status,
    ...metrics.map((k) => (v.metrics[k] === undefined ? null : fmt(v.metrics[k]))),
    shortTime(v.created_at),
  ]);
  const table = renderTable(style, ['version', 'semver', 'aliases', 'stage', 'status', ...metrics, 'created'], rows);
  if (!style.tty) return table;
  const header = [
    `${style.bold(r.name)}  ${r.total_versions} version${r.total_versions === 1 ? '' : 's'}`,
    keyValues(style, [
      [
        'aliases',
        Object.entries(r.aliases)
          .map(([a, v]) => `@${a} → ${v}`)
          .join(', '),
      ],
      ['description', r.description],
    ]),
  ]
    .filter((s) => s !== '')
    .join('\n');
  const more =
    r.versions.length < r.total_versions
      ? `\n${style.dim(`(${r.total_versions - r.versions.length} older versions not shown; --limit 0 shows all)`)}`
      : '';
  return `${header}\n${table}${more}`;
}

export function registerShow(program: Command): void {
  program
    .command('show')
    .description("list registered models, or show one model's versions: semver, aliases, stage, status, key metrics")
    .argument('[name]', 'registered model (omit to list all models)')
    .option('--limit <n>', `newest versions to show, 0 for all (default ${DEFAULT_SHOW_LIMIT})`, (s: string) => {
      if (!/^\d+$/.test(s)) throw new InvalidArgumentError(`--limit must be a whole number ≥ 0, got "${s}"`);
      return Number(s);
    })
    .addHelpText(
      'after',
      `
Examples:
  mlv show
  mlv show churn
  mlv --json show churn | jq '.aliases.production'`,
    )
    .action(
      action(async (ctx, name: string | undefined, flags: { limit?: number }) => {
        ctx.output(await show(ctx, { name, limit: flags.limit }), renderShow);
      }),
    );
}
