import type { AuditEvent } from '../core/registry/audit.js';
import type { Check } from '../core/registry/gates.js';
import { isProductionLike, targetLabel, versionLabel, type Stage } from '../core/registry/refs.js';
import { CheckFailedError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import type { ModelVersion, RegisteredModel } from '../mlflow/types.js';
import { pruneAuditTrail, readAuditTrail, writeAuditEvent } from './audit.js';
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

/**
 * The move before it is made: what promote and rollback return for a dry run or a failed check,
 * and what they hand to applyMove. `previous` is the version holding the target now (null:
 * nobody); `holder` that version when it still exists.
 */
export function plannedMove(m: {
  name: string;
  candidate: ModelVersion;
  target: string;
  kind: TargetKind;
  previous: string | null;
  holder: ModelVersion | undefined;
  checks: Check[];
  dryRun: boolean | undefined;
  by: string;
}): MoveResult {
  return {
    name: m.name,
    version: m.candidate.version,
    semver: semverOf(m.candidate),
    target: m.target,
    target_kind: m.kind,
    previous: m.previous,
    previous_semver: m.holder ? semverOf(m.holder) : null,
    checks: m.checks,
    promoted: false,
    dry_run: m.dryRun === true,
    changed: false,
    archived: [],
    audit_key: null,
    by: m.by,
  };
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
  /** Waiting for a rival to give way (tests inject it). */
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/**
 * An event newer than this that names another version than the holder is taken for a move in
 * flight (its alias not set yet); an older one for a move made outside mlv since.
 */
const CLAIM_WINDOW_MS = 60_000;

/** How many times a winner re-points its alias over a rival that has not yet given way. */
const SETTLE_ATTEMPTS = 5;
/** How long an older claim waits for a younger one to give way before it gives way itself. */
const YIELD_WAIT_MS = 10_000;
const POLL_MS = 40;

/**
 * Moves `r.target` to `r.version` and records it in the audit trail, safely against concurrent
 * moves of the same target. `model`, `versions` and `r.previous` are what the caller read when it
 * decided (gates were checked against that holder). MLflow has no compare-and-set, so the audit
 * event doubles as a claim, and claims are ordered by their keys (time, then a random suffix):
 *
 *  1. write the event;
 *  2. re-read. A rival — a claim on the target for another version that the caller did not read
 *     (or the newest one it read, when that names another version than the holder it saw and is
 *     under a minute old: a move in flight) — older than ours means someone moved it since: give
 *     way (delete ours, fail, change nothing). A younger rival gives way to us: wait until its
 *     claim is gone (if it stays, it moved without seeing ours — give way to it);
 *  3. move the alias, re-read: if an older claim appeared meanwhile, give way as in 2 (putting the
 *     alias back where it was if ours was the last write); if the alias was moved outside mlv,
 *     delete ours and fail.
 *
 * So of two racing promotions one succeeds, the loser fails with MoveConflictError (exit 1) and
 * leaves no event, and the trail ends at the version that really holds the alias.
 * Stages (legacy) get steps 1–2 only: a transition cannot be taken back without side effects.
 */
export async function applyMove(
  client: MlflowClient,
  model: RegisteredModel,
  versions: ModelVersion[],
  r: MoveResult,
  req: MoveRequest,
): Promise<MoveResult> {
  const call = req.signal ? { signal: req.signal } : {};
  const claim = await writeClaim(client, model, r, req);
  try {
    let fresh = await claim.contest();
    let archived: string[] = [];
    if (r.target_kind === 'stage') {
      await client.transitionModelVersionStage(
        {
          name: model.name,
          version: r.version,
          stage: r.target as Stage,
          archiveExistingVersions: req.archiveExisting,
        },
        call,
      );
      if (req.archiveExisting)
        archived = versions
          .filter((v) => v.current_stage === r.target && v.version !== r.version)
          .map((v) => v.version);
    } else {
      fresh = await settleAlias(client, r, claim, call);
    }
    await pruneAuditTrail(client, fresh, call);
    return { ...r, promoted: true, changed: true, archived, audit_key: claim.key };
  } catch (err) {
    if (!(err instanceof MoveConflictError)) await claim.withdraw();
    throw err;
  }
}

interface Claim {
  key: string;
  /** Claims on the target by others that the caller did not know of, for another version. */
  rivals(m: RegisteredModel): (AuditEvent & { key: string })[];
  /** Step 2: returns the model as read once no rival stands in the way; MoveConflictError otherwise. */
  contest(): Promise<RegisteredModel>;
  /** Deletes the claim (not cancellable: an interrupted loser must not leave it behind). */
  withdraw(): Promise<void>;
  giveWay(rival: AuditEvent | undefined, holder: string | undefined): Promise<never>;
}

async function writeClaim(
  client: MlflowClient,
  model: RegisteredModel,
  r: MoveResult,
  req: MoveRequest,
): Promise<Claim> {
  const call = req.signal ? { signal: req.signal } : {};
  const now = req.now();
  const trail = readAuditTrail(model);
  const known = new Set(trail.map((e) => e.key));
  // The newest event the caller read may be a claim whose move it did not see yet: still a rival.
  const lastKnown = trail.filter((e) => e.target === r.target && e.kind === r.target_kind).at(-1);
  if (lastKnown && lastKnown.version !== r.previous && now.getTime() - Date.parse(lastKnown.at) < CLAIM_WINDOW_MS) {
    known.delete(lastKnown.key);
  }
  const event: AuditEvent = {
    action: req.action,
    target: r.target,
    kind: r.target_kind,
    version: r.version,
    previous: r.previous,
    by: r.by,
    at: now.toISOString(),
    ...(r.semver ? { semver: r.semver } : {}),
    ...(req.note ? { note: req.note } : {}),
  };
  const key = await writeAuditEvent(client, model.name, event, { now, random: req.random, signal: req.signal });
  const sleep = req.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const claim: Claim = {
    key,
    rivals: (m) =>
      readAuditTrail(m).filter(
        (e) =>
          !known.has(e.key) &&
          e.key !== key &&
          e.target === r.target &&
          e.kind === r.target_kind &&
          e.version !== r.version,
      ),
    async contest() {
      for (let waited = 0; ; waited += POLL_MS) {
        const fresh = await client.getRegisteredModel(model.name, call);
        const rivals = claim.rivals(fresh);
        const older = rivals.find((e) => e.key < key);
        if (older) return claim.giveWay(older, undefined);
        if (rivals.length === 0) return fresh;
        if (waited >= YIELD_WAIT_MS) return claim.giveWay(rivals[0], undefined);
        await sleep(POLL_MS);
      }
    },
    async withdraw() {
      await client.deleteRegisteredModelTag(model.name, key).catch(() => undefined);
    },
    async giveWay(rival, holder) {
      await claim.withdraw();
      throw new MoveConflictError(r, rival?.version ?? holder ?? null, rival?.by);
    },
  };
  return claim;
}

/** Step 3 for an alias: point it, re-read, and settle with what else happened meanwhile. */
async function settleAlias(
  client: MlflowClient,
  r: MoveResult,
  claim: Claim,
  call: { signal?: AbortSignal },
): Promise<RegisteredModel> {
  await client.setRegisteredModelAlias(r.name, r.target, r.version, call);
  for (let attempt = 1; ; attempt++) {
    const fresh = await client.getRegisteredModel(r.name, call);
    const holder = fresh.aliases.find((a) => a.alias === r.target)?.version;
    const rivals = claim.rivals(fresh);
    const older = rivals.find((e) => e.key < claim.key);
    if (older) {
      // Ours may be the last write: put the alias back where it was; the older claim sets its own.
      if (holder === r.version) await restoreAlias(client, r, call);
      return claim.giveWay(older, holder);
    }
    if (holder === r.version) return fresh;
    const younger = rivals.find((e) => e.version === holder);
    if (!younger || attempt >= SETTLE_ATTEMPTS) return claim.giveWay(undefined, holder);
    await client.setRegisteredModelAlias(r.name, r.target, r.version, call);
  }
}

async function restoreAlias(client: MlflowClient, r: MoveResult, call: { signal?: AbortSignal }): Promise<void> {
  if (r.previous === null) await client.deleteRegisteredModelAlias(r.name, r.target, call);
  else await client.setRegisteredModelAlias(r.name, r.target, r.previous, call);
}

/**
 * The loser of a race between two moves of one target (exit 1): the target was moved by someone
 * else after this command read it; nothing was changed or recorded for this attempt.
 */
export class MoveConflictError extends CheckFailedError {
  constructor(r: MoveResult, winner: string | null, by: string | undefined) {
    const to = targetLabel(r.target, r.target_kind);
    super(
      `${to} of ${r.name} was moved${winner ? ` to version ${winner}` : ''} by another ${by ? `promotion (${by})` : 'client'} at the same time: ${versionLabel(r.version, r.semver)} not moved, nothing recorded`,
      {
        code: 'MLV_MOVE_CONFLICT',
        hint: `check \`mlv show ${r.name}\`, then run the command again if the move is still wanted`,
      },
    );
  }
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
