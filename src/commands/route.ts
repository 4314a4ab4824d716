import { InvalidArgumentError, type Command } from 'commander';
import type { Context } from '../context.js';
import {
  abRoute,
  armSlots,
  LOAD_ERROR_TAG,
  parseLoadError,
  routeVersions,
  variantNameProblem,
  weightSlots,
  type LoadError,
  type Route,
  type RouteVersion,
} from '../core/serve/route.js';
import { shortTime } from '../core/format.js';
import { CheckFailedError, UsageError } from '../errors.js';
import type { ModelVersion, RegisteredModel } from '../mlflow/types.js';
import { whoAmI } from '../registry/provenance.js';
import { keyValues } from '../terminal/render.js';
import { listVersions, requireModel, semverOf } from '../registry/versions.js';
import { action } from '../run.js';
import { clearRoute, resolveRouteRef, routeOfModel, storedRevision, writeRoute } from '../serve/route-store.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';
import { intArg } from './args.js';

/**
 * `mlv route show|set|clear NAME`: the versions of a registered model that take traffic under
 * `mlv serve` (stable, a canary candidate, A/B arms, a shadow), stored in the registry (tag
 * mlv.route, see src/serve/route-store.ts) so every serve process sees the same route.
 */

/** A route as shown: the stored route (or nulls when there is none), semvers and load failures. */
export type RouteView = (Route | NoRoute) & {
  /** {version: semver or null} for every version the route names. */
  semvers: Record<string, string | null>;
  /** {version: failure} for route versions that `mlv serve` failed to load (tag mlv.serve.load_error). */
  load_errors: Record<string, LoadError>;
};

export interface NoRoute {
  model: string;
  revision: number;
  experiment: null;
  salt: null;
  stable: null;
  candidate: null;
  variants: [];
  shadow: null;
  updated_by: null;
  updated_at: null;
}

function view(name: string, route: Route | null, versions: readonly ModelVersion[]): RouteView {
  if (!route) {
    return {
      model: name,
      revision: 0,
      experiment: null,
      salt: null,
      stable: null,
      candidate: null,
      variants: [],
      shadow: null,
      updated_by: null,
      updated_at: null,
      semvers: {},
      load_errors: {},
    };
  }
  const semvers: Record<string, string | null> = {};
  const loadErrors: Record<string, LoadError> = {};
  for (const v of routeVersions(route)) {
    const mv = versions.find((x) => x.version === v);
    semvers[v] = mv ? semverOf(mv) : null;
    const tag = mv?.tags.find((t) => t.key === LOAD_ERROR_TAG);
    if (tag) loadErrors[v] = parseLoadError(tag.value);
  }
  return { ...route, semvers, load_errors: loadErrors };
}

/** The stored route; one that no longer parses is reported and treated as absent, so it can be replaced or cleared. */
function storedRoute(ctx: Context, model: RegisteredModel): Route | null {
  try {
    return routeOfModel(model);
  } catch (err) {
    ctx.warn(`${(err as Error).message} (ignoring the stored route)`);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// show

export async function routeShow(ctx: Context, input: { name: string }): Promise<RouteView> {
  const client = await ctx.mlflow();
  const call = { signal: ctx.signal };
  const model = await requireModel(client, input.name, call);
  const route = routeOfModel(model);
  return view(model.name, route, route ? await listVersions(client, model.name, call) : []);
}

export function renderRoute(r: RouteView, style: Style): string {
  if (r.stable === null) {
    return style.tty ? style.dim(`${r.model} has no route — \`mlv route set ${r.model} --stable REF\` sets one`) : '';
  }
  const route = r as Route & RouteView;
  const slots = new Map(armSlots(route).map((a) => [a.name, a.slots]));
  const slotText = (name: string) => {
    const s = slots.get(name);
    if (s === undefined) return '-';
    if (s === null) return 'the rest';
    return s.end > s.start ? `${s.start}–${s.end - 1}` : 'none';
  };
  const rows = route.variants.map((v) => [
    v.name,
    v.version,
    route.semvers[v.version] ? `v${route.semvers[v.version]}` : null,
    `${v.weight}%`,
    v.ref,
    slotText(v.name),
  ]);
  if (route.shadow) {
    const s = route.shadow;
    rows.push([
      '(shadow)',
      s.version,
      route.semvers[s.version] ? `v${route.semvers[s.version]}` : null,
      `${s.percent}%`,
      s.ref,
      'copies',
    ]);
  }
  const table = renderTable(style, ['variant', 'version', 'semver', 'weight', 'ref', 'slots'], rows);
  const failures = Object.entries(route.load_errors).map(
    ([v, e]) =>
      `${style.warn} version ${v} failed to load${e.host ? ` on ${e.host}` : ''}${e.at ? ` at ${shortTime(e.at)}` : ''}: ${e.error}`,
  );
  const header = keyValues(style, [
    ['route', `${style.bold(route.model)} revision ${route.revision}`],
    ['updated', `${shortTime(route.updated_at)} by ${route.updated_by ?? 'unknown'}`],
    ['experiment', route.experiment],
    ['salt', route.salt === route.experiment ? `${route.salt} ${style.dim('(the experiment name)')}` : route.salt],
  ]);
  return [header, '', table, ...(failures.length ? ['', ...failures] : [])].join('\n');
}

// ---------------------------------------------------------------------------------------------
// set

export interface VariantArg {
  name: string;
  ref: string;
  weight: number;
}

export interface RouteSetInput {
  name: string;
  stable: string;
  candidate?: string | undefined;
  weight?: number | undefined;
  variants?: VariantArg[] | undefined;
  shadow?: string | undefined;
  shadowPercent?: number | undefined;
  experiment?: string | undefined;
  salt?: string | undefined;
  expectRevision?: number | undefined;
  dryRun?: boolean | undefined;
}

export type RouteSetResult = RouteView & { dry_run: boolean; previous_revision: number };

/**
 * Resolves every reference (each must name a READY version), builds and validates the whole
 * route, and only then writes it (revision + 1). Nothing is written when anything is wrong.
 * The experiment and salt stay as they were unless given (so a weight change never re-seeds);
 * a new --experiment without --salt re-seeds with the new experiment name.
 */
export async function routeSet(ctx: Context, input: RouteSetInput): Promise<RouteSetResult> {
  if ((input.candidate === undefined) !== (input.weight === undefined)) {
    throw new UsageError(
      input.candidate === undefined ? '--weight needs --candidate REF' : '--candidate needs --weight W (0–100)',
    );
  }
  if ((input.shadow === undefined) !== (input.shadowPercent === undefined)) {
    throw new UsageError(
      input.shadow === undefined ? '--shadow-percent needs --shadow REF' : '--shadow needs --shadow-percent P (0–100)',
    );
  }
  const names = new Set<string>();
  for (const v of input.variants ?? []) {
    if (names.has(v.name)) throw new UsageError(`--variant ${v.name} is given twice`);
    names.add(v.name);
  }
  const who = whoAmI(ctx.env);
  const client = await ctx.mlflow();
  const call = { signal: ctx.signal };
  const model = await requireModel(client, input.name, call);
  const current = storedRoute(ctx, model);
  const versions = await listVersions(client, model.name, call);
  const resolve = async (ref: string, what: string): Promise<RouteVersion> =>
    (await resolveRouteRef(client, model, ref, what, versions, call)).at;

  const stable = await resolve(input.stable, '--stable');
  const candidate =
    input.candidate === undefined
      ? null
      : { ...(await resolve(input.candidate, '--candidate')), weight: input.weight! };
  const variants = [];
  for (const v of input.variants ?? []) {
    variants.push({ name: v.name, ...(await resolve(v.ref, `--variant ${v.name}`)), weight: v.weight });
  }
  const shadow =
    input.shadow === undefined ? null : { ...(await resolve(input.shadow, '--shadow')), percent: input.shadowPercent! };
  const experiment = input.experiment ?? current?.experiment ?? model.name;
  const salt = input.salt ?? (input.experiment === undefined ? current?.salt : undefined) ?? experiment;
  const spec = abRoute(
    { model: model.name, stable, candidate, variants, shadow, experiment, salt },
    `the route for ${model.name}`,
  );
  // After `route clear`, numbering continues from the cleared revision.
  const previous = storedRevision(model);
  if (input.dryRun) {
    const draft: Route = {
      ...spec,
      revision: previous + 1,
      updated_by: who.createdBy,
      updated_at: ctx.now().toISOString(),
    };
    return { ...view(model.name, draft, versions), dry_run: true, previous_revision: previous };
  }
  const stored = await writeRoute(client, model.name, spec, {
    by: who.createdBy,
    now: ctx.now(),
    // Without --expect-revision, the revision read above: a write that raced ours is refused.
    expectRevision: input.expectRevision ?? previous,
    signal: ctx.signal,
  });
  return { ...view(model.name, stored, versions), dry_run: false, previous_revision: previous };
}

export function renderRouteSet(r: RouteSetResult, style: Style): string {
  const body = renderRoute(r, style);
  if (!style.tty) return body;
  const what = r.dry_run
    ? `${style.warn} dry run: would write revision ${r.revision} of the route of ${r.model}`
    : `${style.pass} route of ${r.model} is now revision ${r.revision}`;
  return `${what}\n\n${body}`;
}

// ---------------------------------------------------------------------------------------------
// clear

export interface RouteClearResult {
  model: string;
  cleared: boolean;
  /** The revision that was removed (the next route continues after it), or 0. */
  revision: number;
}

export async function routeClear(
  ctx: Context,
  input: { name: string; expectRevision?: number | undefined },
): Promise<RouteClearResult> {
  const who = whoAmI(ctx.env);
  const client = await ctx.mlflow();
  const model = await requireModel(client, input.name, { signal: ctx.signal });
  const current = storedRoute(ctx, model);
  if (current && ctx.interactive && !ctx.yes) {
    const ok = await ctx.prompt.confirm(
      `Remove the route of ${model.name} (revision ${current.revision}); serve processes that follow it stop taking its traffic?`,
      { default: false, flag: '--yes' },
    );
    if (!ok)
      throw new CheckFailedError(`not changed: the route of ${model.name} is still revision ${current.revision}`);
  }
  const removed = await clearRoute(client, model.name, {
    by: who.createdBy,
    now: ctx.now(),
    expectRevision: input.expectRevision,
    signal: ctx.signal,
  });
  return { model: model.name, cleared: removed !== null, revision: removed?.revision ?? 0 };
}

export function renderRouteClear(r: RouteClearResult, style: Style): string {
  return r.cleared
    ? `${style.pass} removed the route of ${r.model} (revision ${r.revision})`
    : `${r.model} had no route: nothing to do`;
}

// ---------------------------------------------------------------------------------------------
// flags

/** A weight or percent: 0–100 with at most two decimals. */
export function percentArg(flag: string) {
  return (value: string): number => {
    const x = Number(value.trim().replace(/%$/, ''));
    if (value.trim() === '' || weightSlots(x) === undefined) {
      throw new InvalidArgumentError(`${flag} must be a number 0–100 with at most 2 decimals, got "${value}"`);
    }
    return x;
  };
}

/** `--variant NAME=REF:WEIGHT` (the weight after the last colon). */
export function parseVariantArg(value: string): VariantArg {
  const m = /^([^=]*)=(.+):([^:]+)$/.exec(value.trim());
  if (!m)
    throw new InvalidArgumentError(`--variant must be NAME=REF:WEIGHT (e.g. treatment=@challenger:50), got "${value}"`);
  const [, name, ref, w] = m as unknown as [string, string, string, string];
  const problem = variantNameProblem(name);
  if (problem) throw new InvalidArgumentError(`--variant name "${name}" is not valid: ${problem}`);
  if (name === 'stable' || name === 'candidate') {
    throw new InvalidArgumentError(
      `--variant cannot be named "${name}": use --${name === 'stable' ? 'stable' : 'candidate'}`,
    );
  }
  return { name, ref, weight: percentArg(`--variant ${name} weight`)(w) };
}

export function registerRoute(program: Command): void {
  const route = program
    .command('route')
    .description('show, set or clear which versions take traffic under `mlv serve` (canary, A/B, shadow)')
    .addHelpText(
      'after',
      `
The route is stored on the registered model (tag mlv.route) with a revision, who and when;
every \`mlv serve\` following the registry picks it up. Assignment is GrowthBook hash v2 of
salt + unit (README "Serving" → "Assignment").
Examples:
  mlv route set churn --stable @production --candidate v1.3.0 --weight 5
  mlv route set churn --stable @production --variant treatment=@challenger:50 --experiment price-test
  mlv route show churn --json`,
    );

  route
    .command('show')
    .description('the current route: arms, weights, slots, shadow, revision and load failures')
    .argument('<name>', 'registered model')
    .action(
      action(async (ctx, name: string) => {
        ctx.output(await routeShow(ctx, { name }), renderRoute);
      }),
    );

  route
    .command('set')
    .description('replace the route (validated completely before anything is written)')
    .argument('<name>', 'registered model')
    .requiredOption('--stable <ref>', 'the version that takes the rest of the traffic: 3, v1.2.0, @production, latest')
    .option('--candidate <ref>', 'a canary version (with --weight)')
    .option('--weight <w>', 'the candidate’s share in percent, 0–100, two decimals at most', percentArg('--weight'))
    .option(
      '--variant <name=ref:weight>',
      'an A/B arm (repeatable); stable takes 100 minus the other weights',
      (value: string, previous: VariantArg[] | undefined) => [...(previous ?? []), parseVariantArg(value)],
    )
    .option('--shadow <ref>', 'a version that gets a copy of requests (answers only compared, never returned)')
    .option('--shadow-percent <p>', 'the share of requests copied to --shadow, 0–100', percentArg('--shadow-percent'))
    .option('--experiment <name>', 'experiment name in exposure logs (default: kept, else the model name)')
    .option('--salt <salt>', 'hashing seed (default: kept, else the experiment name); a new salt reshuffles units')
    .option(
      '--expect-revision <n>',
      'refuse unless the stored route is at this revision (0: none yet)',
      intArg('--expect-revision', 0),
    )
    .option('--dry-run', 'validate and print the route; write nothing')
    .addHelpText(
      'after',
      `
Blue-green: \`mlv route set churn --stable v1.3.0\` (no candidate) switches everything at once.
Ramps: raising --weight only moves units from stable to the candidate; lowering it moves them back.`,
    )
    .action(
      action(
        async (
          ctx,
          name: string,
          flags: {
            stable: string;
            candidate?: string;
            weight?: number;
            variant?: VariantArg[];
            shadow?: string;
            shadowPercent?: number;
            experiment?: string;
            salt?: string;
            expectRevision?: number;
            dryRun?: boolean;
          },
        ) => {
          const result = await routeSet(ctx, {
            name,
            stable: flags.stable,
            candidate: flags.candidate,
            weight: flags.weight,
            variants: flags.variant,
            shadow: flags.shadow,
            shadowPercent: flags.shadowPercent,
            experiment: flags.experiment,
            salt: flags.salt,
            expectRevision: flags.expectRevision,
            dryRun: flags.dryRun,
          });
          ctx.output(result, renderRouteSet);
        },
      ),
    );

  route
    .command('clear')
    .description('remove the route (asks first in a terminal unless --yes)')
    .argument('<name>', 'registered model')
    .option(
      '--expect-revision <n>',
      'refuse unless the stored route is at this revision',
      intArg('--expect-revision', 0),
    )
    .action(
      action(async (ctx, name: string, flags: { expectRevision?: number }) => {
        ctx.output(await routeClear(ctx, { name, expectRevision: flags.expectRevision }), renderRouteClear);
      }),
    );
}
