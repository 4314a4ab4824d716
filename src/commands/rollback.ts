import type { Command } from 'commander';
import type { Context } from '../context.js';
import { rollbackTarget } from '../core/registry/audit.js';
import type { Check } from '../core/registry/gates.js';
import { parseVersionRef, validateAliasName, versionLabel } from '../core/registry/refs.js';
import { InputError } from '../errors.js';
import { readAuditTrail } from '../registry/audit.js';
import { whoAmI } from '../registry/provenance.js';
import {
  applyMove,
  confirmMove,
  currentHolder,
  failIfGatesFailed,
  plannedMove,
  type MoveResult,
} from '../registry/move.js';
import { openModel } from '../registry/pick.js';
import { movedLine, renderMove, statusLine } from '../terminal/render.js';
import { resolveRef } from '../registry/versions.js';
import { action } from '../run.js';
import type { Style } from '../terminal/style.js';

/**
 * `mlv rollback NAME --alias TARGET [--to REF]`: point an alias back at the version that held it
 * before the current one (from the audit trail that promote and rollback write), or at REF.
 * Recorded in the same audit trail, so a second rollback goes one step further back.
 */

export interface RollbackInput {
  name?: string | undefined;
  alias: string;
  to?: string | undefined;
  dryRun?: boolean | undefined;
}

export type RollbackResult = MoveResult;

export async function rollback(ctx: Context, input: RollbackInput): Promise<RollbackResult> {
  const alias = validateAliasName(input.alias, '--alias');
  const ref = input.to === undefined ? undefined : parseVersionRef(input.to, '--to');
  const who = whoAmI(ctx.env);

  const client = await ctx.mlflow();
  const call = { signal: ctx.signal };
  const { model, versions } = await openModel(ctx, client, input.name, 'NAME');
  const holder = currentHolder(model, versions, alias, 'alias');
  const current = model.aliases.find((a) => a.alias === alias)?.version;

  let back = ref;
  if (!back) {
    const version = rollbackTarget(readAuditTrail(model), alias, 'alias', current);
    if (version === undefined) {
      throw new InputError(
        current === undefined
          ? `alias @${alias} is not set on ${model.name} and its audit trail names no earlier holder`
          : `the audit trail of ${model.name} names no version that held @${alias} before version ${current}`,
        { hint: `pass --to REF (a version, v1.2.0 or @alias) to choose where @${alias} goes` },
      );
    }
    back = { kind: 'version', version };
  }
  // resolveRef looks in `versions` first; a version deleted since the audit event is NotFoundError.
  const target = await resolveRef(client, model, back, versions, call);

  const checks: Check[] = [
    {
      name: 'status READY',
      passed: target.status === 'READY',
      detail: `version ${target.version} is ${target.status}`,
    },
  ];
  const result: RollbackResult = plannedMove({
    name: model.name,
    candidate: target,
    target: alias,
    kind: 'alias',
    previous: current ?? null,
    holder,
    checks,
    dryRun: input.dryRun,
    by: who.createdBy,
  });
  if (checks.some((c) => !c.passed) || input.dryRun) return result;
  if (target.version === current) {
    statusLine(
      ctx,
      `${ctx.errStyle.pass} @${alias} of ${model.name} already points at ${versionLabel(target.version, result.semver)}: nothing to do`,
    );
    return { ...result, promoted: true };
  }
  await confirmMove(ctx, model.name, result);
  const moved = await applyMove(client, model, versions, result, {
    action: 'rollback',
    by: who.createdBy,
    now: () => ctx.now(),
    random: ctx.random,
    note: ref ? `--to ${input.to}` : undefined,
    signal: ctx.signal,
  });
  statusLine(ctx, `${ctx.errStyle.pass} ${movedLine(moved, 'rolled back')}`);
  return moved;
}

export function renderRollback(r: RollbackResult, style: Style): string {
  return renderMove(r, style, 'roll back');
}

export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description('point an alias back at its previous holder (from the audit trail), or at --to REF')
    .argument('[name]', 'registered model (asked for in a terminal when missing)')
    .requiredOption('--alias <alias>', 'the alias to roll back (e.g. production)')
    .option('--to <ref>', 'go to this version instead: a number (3), a semver (v1.2.0) or an alias (@previous)')
    .option('--dry-run', 'show where the alias would go; change nothing')
    .addHelpText(
      'after',
      `
Each promote and rollback is recorded on the registered model (tags mlv.audit.*); a second rollback
goes one step further back. In a terminal, a production-like alias asks for confirmation unless --yes.
Examples:
  mlv rollback churn --alias production
  mlv rollback churn --alias production --to v1.2.0 --yes`,
    )
    .action(
      action(async (ctx, name: string | undefined, flags: { alias: string; to?: string; dryRun?: boolean }) => {
        const result = await rollback(ctx, { name, alias: flags.alias, to: flags.to, dryRun: flags.dryRun });
        ctx.output(result, renderRollback);
        failIfGatesFailed(result, 'rolled back');
      }),
    );
}
