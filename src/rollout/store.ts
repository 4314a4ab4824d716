import { parseAnalysis, analysisToJson, type Analysis } from '../core/rollout/analysis.js';
import type { RolloutState, Transition } from '../core/rollout/machine.js';
import {
  ANALYSIS_TAG,
  decodeLease,
  decodeState,
  encodeFitting,
  HISTORY_KEEP,
  historyKey,
  LEASE_TAG,
  parseHistoryKey,
  STATE_TAG,
  type Lease,
} from '../core/rollout/record.js';
import { MAX_TAG_VALUE } from '../core/registry/tags.js';
import { InputError, NotFoundError, RemoteError, UsageError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import type { RegisteredModel } from '../mlflow/types.js';
import { requireModel } from '../registry/versions.js';

/**
 * The rollout's state, analysis, lease and history in the registered model's tags (key layout in
 * src/core/rollout/record.ts).
 *
 * MLflow tags have no compare-and-set. Every write here reads first (the seq or lease it expects),
 * writes, and reads back: a conflicting writer is caught unless it lands in the few milliseconds
 * between our read and our write, in which case the later write wins. The lease makes that a
 * matter of two controllers started within the same instant; a person's `rollout abort` racing a
 * controller's write in that window can be overwritten — the controller re-reads the state before
 * every backend change and every write, which keeps the window that small, not closed.
 */

export interface Stored {
  model: RegisteredModel;
  state: RolloutState | null;
  analysis: Analysis | null;
  lease: Lease | null;
}

export interface Opts {
  signal?: AbortSignal | undefined;
}
const call = (o: Opts) => (o.signal ? { signal: o.signal } : {});
const tag = (m: RegisteredModel, key: string) => m.tags.find((t) => t.key === key)?.value;

export function storedOf(model: RegisteredModel): Stored {
  const s = tag(model, STATE_TAG);
  const a = tag(model, ANALYSIS_TAG);
  let analysis: Analysis | null = null;
  if (a !== undefined) {
    try {
      analysis = parseAnalysis(JSON.parse(a), `the ${ANALYSIS_TAG} tag of ${model.name}`);
    } catch (err) {
      if (err instanceof SyntaxError) throw new InputError(`the ${ANALYSIS_TAG} tag of ${model.name} is not JSON`);
      throw err;
    }
  }
  return {
    model,
    state: s === undefined ? null : decodeState(s, model.name),
    analysis,
    lease: decodeLease(tag(model, LEASE_TAG)),
  };
}

export async function readStored(client: MlflowClient, name: string, o: Opts = {}): Promise<Stored> {
  return storedOf(await requireModel(client, name, call(o)));
}

/** The rollout of `name`, or a NotFoundError saying how to start one. */
export async function requireRollout(
  client: MlflowClient,
  name: string,
  o: Opts = {},
): Promise<Stored & { state: RolloutState; analysis: Analysis }> {
  const s = await readStored(client, name, o);
  if (!s.state || !s.analysis)
    throw new NotFoundError(`${s.model.name} has no rollout`, {
      hint: `start one: mlv rollout start ${s.model.name} --candidate REF`,
    });
  return s as Stored & { state: RolloutState; analysis: Analysis };
}

/** The history of the rollout `id` (committed entries only: seq ≤ the state's), oldest first. */
export function historyOf(model: RegisteredModel, state: RolloutState): Transition[] {
  const out: Transition[] = [];
  for (const t of model.tags) {
    const k = parseHistoryKey(t.key);
    if (!k || k.id !== state.id || k.seq > state.seq) continue;
    try {
      out.push(JSON.parse(t.value) as Transition);
    } catch {
      /* a damaged entry is skipped, not fatal */
    }
  }
  return out.sort((a, b) => a.seq - b.seq);
}

function conflict(name: string, detail: string): RemoteError {
  return new RemoteError(`the rollout of ${name} changed while it was being written: ${detail}`, {
    code: 'MLV_ROLLOUT_CONFLICT',
    hint: `see \`mlv rollout status ${name}\``,
  });
}

/**
 * Writes the state (after a measurement round, or as the commit of a transition whose history tag
 * is already written). Fails with MLV_ROLLOUT_CONFLICT unless the stored state is at `expectSeq`
 * of the same rollout before, and is what we wrote after.
 */
export async function writeState(
  client: MlflowClient,
  state: RolloutState,
  expect: { id: string; seq: number } | null,
  o: Opts = {},
): Promise<void> {
  const before = await readStored(client, state.model, o);
  if (expect === null ? before.state !== null && !isOver(before.state) : !same(before.state, expect))
    throw conflict(
      state.model,
      before.state
        ? `it is at ${before.state.phase} (transition ${before.state.seq}), expected ${expect ? `transition ${expect.seq}` : 'none running'}`
        : 'it is gone',
    );
  const value = encodeFitting(state);
  await client.setRegisteredModelTag(state.model, STATE_TAG, value, call(o));
  const back = await requireModel(client, state.model, call(o));
  if (tag(back, STATE_TAG) !== value) throw conflict(state.model, 'another writer replaced it');
}

const same = (s: RolloutState | null, e: { id: string; seq: number }) => s !== null && s.id === e.id && s.seq === e.seq;
const isOver = (s: RolloutState) => s.phase === 'promoted' || s.phase === 'rolled_back' || s.phase === 'aborted';

/** History entry first, then the state: a crash in between leaves the previous state in force. */
export async function commitTransition(
  client: MlflowClient,
  state: RolloutState,
  transition: Transition,
  expect: { id: string; seq: number } | null,
  o: Opts = {},
): Promise<void> {
  await client.setRegisteredModelTag(
    state.model,
    historyKey(state.id, transition.seq),
    encodeFitting(transition),
    call(o),
  );
  await writeState(client, state, expect, o);
}

/** Stores the analysis at start (refuses one too large for a tag). */
export async function writeAnalysis(
  client: MlflowClient,
  name: string,
  analysis: Analysis,
  o: Opts = {},
): Promise<void> {
  const value = JSON.stringify(analysisToJson(analysis));
  if (value.length > MAX_TAG_VALUE)
    throw new InputError(
      `the analysis is ${value.length} characters of JSON; an MLflow tag holds at most ${MAX_TAG_VALUE}`,
      {
        hint: 'use fewer metrics or shorter queries',
      },
    );
  await client.setRegisteredModelTag(name, ANALYSIS_TAG, value, call(o));
}

/** Deletes history tags beyond HISTORY_KEEP, other rollouts' oldest first. */
export async function pruneHistory(
  client: MlflowClient,
  model: RegisteredModel,
  keepId: string,
  o: Opts = {},
): Promise<void> {
  const entries = model.tags
    .map((t) => ({ key: t.key, k: parseHistoryKey(t.key) }))
    .filter((e): e is { key: string; k: { id: string; seq: number } } => e.k !== null)
    .sort(
      (a, b) =>
        Number(a.k.id === keepId) - Number(b.k.id === keepId) || a.k.id.localeCompare(b.k.id) || a.k.seq - b.k.seq,
    );
  for (const e of entries.slice(0, Math.max(0, entries.length - HISTORY_KEEP)))
    await client.deleteRegisteredModelTag(model.name, e.key, call(o));
}

// ---- the lease ------------------------------------------------------------------------------------

export const LEASE_TTL_MS = 30_000;

/**
 * Takes the lease of `name` for `holder` (or renews ours). A lease held by someone else that has not
 * expired is refused with exit 2 naming the holder; an expired one is taken over, and so is one
 * whose holder ran on this host in a process that is gone (a killed `rollout run` restarted at once). Read back after
 * writing: of two controllers writing at once, the one that reads the other's lease gives up.
 */
export async function acquireLease(
  client: MlflowClient,
  name: string,
  me: { holder: string; token: string; host?: string; pid?: number },
  now: number,
  o: Opts & { ttlMs?: number } = {},
): Promise<Lease> {
  const current = (await readStored(client, name, o)).lease;
  if (current && current.token !== me.token && current.expires_at > now && !deadHere(current, me.host))
    throw heldBy(name, current, now);
  const lease: Lease = { ...me, expires_at: now + (o.ttlMs ?? LEASE_TTL_MS) };
  await client.setRegisteredModelTag(name, LEASE_TAG, JSON.stringify(lease), call(o));
  const back = (await readStored(client, name, o)).lease;
  if (!back || back.token !== me.token) throw heldBy(name, back ?? lease, now);
  return lease;
}

/** A lease taken on this host by a process that no longer exists (a killed `rollout run`). */
function deadHere(l: Lease, host: string | undefined): boolean {
  if (host === undefined || l.host !== host || l.pid === undefined || l.pid === process.pid) return false;
  try {
    process.kill(l.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function heldBy(name: string, l: Lease, now: number): UsageError {
  return new UsageError(
    `the rollout of ${name} is driven by ${l.holder} (lease for ${Math.max(0, Math.ceil((l.expires_at - now) / 1000))} s more)`,
    { hint: 'one controller at a time: wait for it, stop it, or let its lease expire (30 s after it stops renewing)' },
  );
}

/** Gives the lease up if it is still ours. */
export async function releaseLease(client: MlflowClient, name: string, token: string, o: Opts = {}): Promise<void> {
  const current = (await readStored(client, name, o)).lease;
  if (current?.token === token) await client.deleteRegisteredModelTag(name, LEASE_TAG, call(o));
}
