import type { Command } from 'commander';
import type { Context } from '../context.js';
import { assign as assignUnit, inShadow, type Route } from '../core/serve/route.js';
import { InputError, NotFoundError, UsageError } from '../errors.js';
import { readInputText } from '../io/input.js';
import { action } from '../run.js';
import { readRoute, readRouteFile } from '../serve/route-store.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';

/**
 * `mlv assign NAME UNIT… [--units FILE] [--route FILE]`: which variant and version each unit gets
 * under the current route, computed offline exactly as `mlv serve` does (the route is read once).
 */

export interface AssignInput {
  name: string;
  units: string[];
  /** A file with one unit per line; `-` reads stdin. */
  unitsFile?: string | undefined;
  /** Use this route file instead of the registry's route. */
  routeFile?: string | undefined;
}

export interface UnitAssignment {
  unit: string;
  variant: string;
  version: string;
  /** slot / 10000, in [0, 1). */
  bucket: number;
  /** fnv1a32(String(fnv1a32(salt + unit))) mod 10000. */
  slot: number;
  /** Whether the unit's requests are copied to the shadow (false without a shadow). */
  shadow: boolean;
}

export interface AssignResult {
  model: string;
  revision: number;
  experiment: string;
  salt: string;
  /** `registry` or the route file's path. */
  route_source: string;
  assignments: UnitAssignment[];
}

export async function assign(ctx: Context, input: AssignInput): Promise<AssignResult> {
  if (input.unitsFile === '-' && input.routeFile === '-') {
    throw new UsageError('--units - and --route - cannot both read stdin');
  }
  const units = [...input.units];
  if (input.unitsFile !== undefined) units.push(...(await readUnits(ctx, input.unitsFile)));
  if (units.length === 0)
    throw new UsageError('give at least one UNIT, or --units FILE (one unit per line, - for stdin)');
  if (units.some((u) => u === '')) throw new InputError('a UNIT is empty: units must be non-empty strings');

  let route: Route;
  if (input.routeFile !== undefined) {
    route = await readRouteFile(input.routeFile);
    if (route.model !== input.name) {
      throw new InputError(`--route file ${input.routeFile} is the route of ${route.model}, not of ${input.name}`);
    }
  } else {
    const found = await readRoute(await ctx.mlflow(), input.name, { signal: ctx.signal });
    if (!found) {
      throw new NotFoundError(`${input.name} has no route`, {
        hint: `\`mlv route set ${input.name} --stable REF\` sets one, or pass --route FILE`,
      });
    }
    route = found;
  }
  const assignments = units.map((unit): UnitAssignment => {
    const a = assignUnit(route, unit);
    return {
      unit,
      variant: a.variant,
      version: a.version,
      bucket: a.slot! / 10000,
      slot: a.slot!,
      shadow: inShadow(route, unit),
    };
  });
  return {
    model: route.model,
    revision: route.revision,
    experiment: route.experiment,
    salt: route.salt,
    route_source: input.routeFile ?? 'registry',
    assignments,
  };
}

async function readUnits(ctx: Context, file: string): Promise<string[]> {
  const text = await readInputText(file, { what: '--units', cwd: ctx.cwd, stdin: ctx.stdin });
  // One unit per line; surrounding whitespace (and a \r) is not part of the unit; blank lines are skipped.
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export function renderAssign(r: AssignResult, style: Style): string {
  const shadowCol = r.assignments.some((a) => a.shadow);
  const head = ['unit', 'variant', 'version', 'bucket', ...(shadowCol ? ['shadow'] : [])];
  const rows = r.assignments.map((a) => [
    a.unit,
    a.variant,
    a.version,
    a.bucket.toFixed(4),
    ...(shadowCol ? [a.shadow ? 'yes' : 'no'] : []),
  ]);
  const table = renderTable(style, head, rows);
  if (!style.tty) return table;
  return `${style.dim(`route of ${r.model} revision ${r.revision} (${r.route_source}), salt ${r.salt}`)}\n${table}`;
}

export function registerAssign(program: Command): void {
  program
    .command('assign')
    .description('which variant and version each unit gets under the current route (offline, as mlv serve does)')
    .argument('<name>', 'registered model')
    .argument('[units...]', 'unit ids (e.g. user ids)')
    .option('--units <file>', 'more units, one per line (- for stdin)')
    .option('--route <file>', 'a route JSON file instead of the registry route')
    .addHelpText(
      'after',
      `
slot = fnv1a32(String(fnv1a32(salt + unit))) mod 10000 (GrowthBook hash v2); see README "Assignment".
Examples:
  mlv assign churn user-1 user-2
  cut -f1 users.tsv | mlv assign churn --units - --json`,
    )
    .action(
      action(async (ctx, name: string, units: string[], flags: { units?: string; route?: string }) => {
        ctx.output(await assign(ctx, { name, units, unitsFile: flags.units, routeFile: flags.route }), renderAssign);
      }),
    );
}
