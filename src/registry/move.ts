import type { AuditEvent } from '../core/registry/audit.js';
import type { Check } from '../core/registry/gates.js';
import { isProductionLike, targetLabel, versionLabel, type Stage } from '../core/registry/refs.js';
import { CheckFailedError, MlvError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import type { ModelVersion, RegisteredModel } from '../mlflow/types.js';
import { recordAudit } from './audit.js';
import type { Asker } from './pick.js';
import { listVersions, requireModel, semverOf } from './versions.js';

/**
 * Moving an alias (or a legacy stage) to a version and recording it in the model's audit trail:
 * what `mlv promote`, `mlv rollback` and `mlv rollout promote|abort` do once their checks pass.
 */

export type TargetKind = 'alias' | 'stage';

export interface MoveResult {
  name: string;
  /** The version that holds (or would hold) the target. */
  version: string;
  semver: string | null;
  /** The alias (`production`) or stage (`Production`). */
  target: string;
  target_kind: TargetKind;
  /** The version holding the target before (null: nobody). */
  previous: string | null;
  previous_semver: string | null;
  checks: Check[];
  /** True when the target points at `version` at the end of the command. */
  promoted: boolean;
  dry_run: boolean;
  /** True when this command moved the target (false: dry run, a failed gate, or it already pointed there). */
  changed: boolean;
  /** With --stage --archive-existing: versions moved to Archived. */
  archived: string[];
  /** The audit-trail tag written on the registered model. */
  audit_key: string | null;
  by: string;
}

/** Who holds the target now. For a stage, the newest version in it (as get-latest-versions says). */
export function currentHolder(
  model: RegisteredModel,
  versions: ModelVersion[],
  target: string,
  kind: TargetKind,
): ModelVersion | undefined {
  if (kind === 'alias') {
    const v = model.aliases.find((a) => a.alias === target)?.version;
    return v === undefined ? undefined : versions.find((mv) => mv.version === v);
  }
  return versions.filter((mv) => mv.current_stage === target).sort((a, b) => Number(b.version) - Number(a.version))[0];
}

export interface MoveRequest {
  action: AuditEvent['action'];
  by: string;
  now: () => Date;
  random: () => number;
  /** With a stage: move the versions now in it to Archived. */
  archiveExisting?: boolean | undefined;
  /** Free text for the audit event (the gates that were checked, `--to v1.2.0`). */
  note?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Called when the move happened but the audit trail could not be written. */
  warn?: ((message: string) => void) | undefined;
}

/**
 * Moves `r.target` to `r.version` (`r.previous` is the holder the caller saw) and records the
 * audit event. `model` and `versions` are what the caller read before deciding.
 */
export async function applyMove(
  client: MlflowClient,
  model: RegisteredModel,
  versions: ModelVersion[],
  r: MoveResult,
  req: MoveRequest,
): Promise<MoveResult> {
  const call = req.signal ? { signal: req.signal } : {};
  let archived: string[] = [];
  if (r.target_kind === 'alias') {
    await client.setRegisteredModelAlias(model.name, r.target, r.version, call);
  } else {
    await client.transitionModelVersionStage(
      { name: model.name, version: r.version, stage: r.target as Stage, archiveExistingVersions: req.archiveExisting },
      call,
    );
    if (req.archiveExisting)
      archived = versions.filter((v) => v.current_stage === r.target && v.version !== r.version).map((v) => v.version);
  }
  let auditKey: string | null = null;
  try {
    const now = req.now();
    auditKey = await recordAudit(
      client,
      model,
      {
        action: req.action,
        target: r.target,
        kind: r.target_kind,
        version: r.version,
        previous: r.previous,
        by: r.by,
        at: now.toISOString(),
        ...(r.semver ? { semver: r.semver } : {}),
        ...(req.note ? { note: req.note } : {}),
      },
      { now, random: req.random, ...call },
    );
  } catch (err) {
    if (!(err instanceof MlvError)) throw err;
    req.warn?.(`moved, but the audit trail could not be written: ${err.message}`);
  }
  return { ...r, promoted: true, changed: true, archived, audit_key: auditKey };
}

/**
 * Points `alias` of `name` at `version` with an audit event, reading the current holder itself:
 * the entry point for callers without a gate checklist (`mlv rollout promote|abort`).
 * `changed` is false when the alias already pointed there (nothing is recorded then).
 */
export async function moveAlias(
  client: MlflowClient,
  input: {
    name: string;
    alias: string;
    version: string;
    reason?: string | undefined;
    by: string;
    now: () => Date;
    random?: (() => number) | undefined;
    action?: AuditEvent['action'] | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<MoveResult> {
  const call = input.signal ? { signal: input.signal } : {};
  const model = await requireModel(client, input.name, call);
  const versions = await listVersions(client, model.name, call);
  const holder = currentHolder(model, versions, input.alias, 'alias');
  const mv = versions.find((v) => v.version === input.version);
  const result: MoveResult = {
    name: model.name,
    version: input.version,
    semver: mv ? semverOf(mv) : null,
    target: input.alias,
    target_kind: 'alias',
    previous: holder?.version ?? null,
    previous_semver: holder ? semverOf(holder) : null,
    checks: [],
    promoted: false,
    dry_run: false,
    changed: false,
    archived: [],
    audit_key: null,
    by: input.by,
  };
  if (holder?.version === input.version) return { ...result, promoted: true };
  return applyMove(client, model, versions, result, {
    action: input.action ?? 'promote',
    by: input.by,
    now: input.now,
    random: input.random ?? Math.random,
    note: input.reason,
    signal: input.signal,
  });
}

/** In a terminal without --yes, moving a production-like target asks first. Never prompts otherwise. */
export async function confirmMove(ui: Asker & { readonly yes: boolean }, name: string, r: MoveResult): Promise<void> {
  if (!ui.interactive || ui.yes || !isProductionLike(r.target)) return;
  const ok = await ui.prompt.confirm(
    `Point ${name} ${targetLabel(r.target, r.target_kind)} at ${versionLabel(r.version, r.semver)} (now ${versionLabel(r.previous, r.previous_semver)})?`,
    { default: false, flag: '--yes' },
  );
  if (!ok)
    throw new CheckFailedError(
      `not changed: ${targetLabel(r.target, r.target_kind)} of ${name} still points at ${versionLabel(r.previous, r.previous_semver)}`,
    );
}

/** After printing: a failed gate is exit 1. */
export function failIfGatesFailed(r: MoveResult, verb: string): void {
  const failed = r.checks.filter((c) => !c.passed);
  if (failed.length > 0) {
    throw new CheckFailedError(
      `${r.name} ${versionLabel(r.version, r.semver)} not ${verb}: ${failed.map((c) => c.name).join(', ')}`,
    );
  }
}
