import { InputError } from '../../errors.js';
import { MAX_TAG_VALUE } from '../registry/tags.js';
import type { RolloutState, Transition } from './machine.js';

/**
 * How a rollout is kept in the registry, as tags on the registered model (the same against real
 * MLflow and the embedded registry):
 *
 *   mlv.rollout                    the state (compact JSON, RolloutState) — the commit point
 *   mlv.rollout.analysis           the analysis it runs (the file format), written once at start
 *   mlv.rollout.lease              {holder, token, expires_at}: who drives it now
 *   mlv.rollout.h.<id>.<seq 4>     one tag per transition (Transition), numbered
 *
 * A transition writes its history tag first, then the state naming that seq; history tags with a
 * higher seq than the state's are ignored (a crash in between leaves no half transition). Each
 * value stays under MLflow's tag limit: details are shortened until the JSON fits.
 */

export const STATE_TAG = 'mlv.rollout';
export const ANALYSIS_TAG = 'mlv.rollout.analysis';
export const LEASE_TAG = 'mlv.rollout.lease';
export const HISTORY_PREFIX = 'mlv.rollout.h.';
/** History tags kept per model (older rollouts' entries are pruned first). */
export const HISTORY_KEEP = 200;

export const historyKey = (id: string, seq: number) => `${HISTORY_PREFIX}${id}.${String(seq).padStart(4, '0')}`;

export function parseHistoryKey(key: string): { id: string; seq: number } | null {
  const m = /^mlv\.rollout\.h\.([a-z0-9-]+)\.(\d{4,})$/.exec(key);
  return m ? { id: m[1]!, seq: Number(m[2]) } : null;
}

/** JSON that fits a tag: check details are cut shorter and shorter until it does. */
export function encodeFitting(value: RolloutState | Transition, limit = MAX_TAG_VALUE): string {
  let text = JSON.stringify(value);
  for (const max of [200, 120, 60, 20]) {
    if (text.length <= limit) return text;
    text = JSON.stringify(value, (k, v: unknown) =>
      (k === 'detail' || k === 'reason') && typeof v === 'string' && v.length > max ? v.slice(0, max - 1) + '…' : v,
    );
  }
  if (text.length > limit)
    throw new InputError(`the rollout state is ${text.length} characters of JSON; an MLflow tag holds ${limit}`, {
      hint: 'use fewer metrics or shorter metric names',
    });
  return text;
}

export function decodeState(text: string, model: string): RolloutState {
  let s: RolloutState;
  try {
    s = JSON.parse(text) as RolloutState;
  } catch {
    throw new InputError(`the ${STATE_TAG} tag of ${model} is not JSON`, {
      hint: `remove it (it was edited by hand?) and start again`,
    });
  }
  if (typeof s !== 'object' || s === null || typeof s.phase !== 'string' || !Array.isArray(s.steps))
    throw new InputError(`the ${STATE_TAG} tag of ${model} is not a rollout state`);
  return s;
}

export interface Lease {
  holder: string;
  token: string;
  /** Where the holder runs: a holder on this host whose process is gone can be taken over at once. */
  host?: string;
  pid?: number;
  /** Epoch milliseconds. */
  expires_at: number;
}

export function decodeLease(text: string | undefined): Lease | null {
  if (text === undefined) return null;
  try {
    const l = JSON.parse(text) as Lease;
    return typeof l.holder === 'string' && typeof l.expires_at === 'number' ? l : null;
  } catch {
    return null;
  }
}
