import { TAG } from './tags.js';

/**
 * The audit trail of promotions and rollbacks, kept on the registered model as one tag per event
 * so that it lives with the model in MLflow and any client can read it:
 *
 *   key    mlv.audit.20260102T030405123Z.k3f9
 *   value  {"action":"promote","target":"production","kind":"alias","version":"3","previous":"2",
 *           "by":"alice@laptop","at":"2026-01-02T03:04:05.123Z","semver":"1.1.0"}
 *
 * The key sorts by time (then a random suffix, so two writers never overwrite each other).
 */
export interface AuditEvent {
  action: 'promote' | 'rollback';
  /** The alias name (`production`) or stage name (`Production`). */
  target: string;
  kind: 'alias' | 'stage';
  /** The version that holds the target after the event. */
  version: string;
  /** The version that held it before (null: nobody). */
  previous: string | null;
  by: string;
  /** ISO-8601 time. */
  at: string;
  semver?: string;
  /** Free text, e.g. the gates that were checked. */
  note?: string;
}

/** `2026-01-02T03:04:05.123Z` → `20260102T030405123Z`. */
function compactTime(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, '');
}

/** The tag key of an event; `suffix` is a few random [a-z0-9] characters. */
export function auditTagKey(at: Date, suffix: string): string {
  return `${TAG.auditPrefix}${compactTime(at)}.${suffix}`;
}

/** 4 characters of [a-z0-9] from a random source in [0, 1). */
export function randomSuffix(random: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 4; i++) s += alphabet[Math.floor(random() * alphabet.length) % alphabet.length];
  return s;
}

export function encodeAudit(e: AuditEvent): string {
  const out: AuditEvent = {
    action: e.action,
    target: e.target,
    kind: e.kind,
    version: e.version,
    previous: e.previous,
    by: e.by,
    at: e.at,
  };
  if (e.semver !== undefined) out.semver = e.semver;
  if (e.note !== undefined) out.note = e.note.slice(0, 2000);
  return JSON.stringify(out);
}

/** Parses one tag; undefined when it is not an mlv audit event (foreign or damaged tags are skipped). */
export function decodeAudit(key: string, value: string): AuditEvent | undefined {
  if (!key.startsWith(TAG.auditPrefix)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if ((o.action !== 'promote' && o.action !== 'rollback') || (o.kind !== 'alias' && o.kind !== 'stage'))
    return undefined;
  if (typeof o.target !== 'string' || typeof o.version !== 'string' || typeof o.at !== 'string') return undefined;
  const e: AuditEvent = {
    action: o.action,
    target: o.target,
    kind: o.kind,
    version: o.version,
    previous: typeof o.previous === 'string' ? o.previous : null,
    by: typeof o.by === 'string' ? o.by : 'unknown',
    at: o.at,
  };
  if (typeof o.semver === 'string') e.semver = o.semver;
  if (typeof o.note === 'string') e.note = o.note;
  return e;
}

/** All audit events among a model's tags, oldest first. */
export function auditTrail(tags: readonly { key: string; value: string }[]): (AuditEvent & { key: string })[] {
  const out: (AuditEvent & { key: string })[] = [];
  for (const t of tags) {
    const e = decodeAudit(t.key, t.value);
    if (e) out.push({ ...e, key: t.key });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The chain of holders of one target, replayed from its events: a promotion pushes the new
 * holder, a rollback pops the holder it replaced (then pushes the version it went to, unless that
 * is already on top). A move made outside mlv shows up as an event's `previous` that is not on
 * top; it is pushed first so the chain stays true to what happened.
 * @example holderChain([{action:'promote',previous:null,version:'1'},{action:'promote',previous:'1',version:'2'}]) // ['1','2']
 */
export function holderChain(events: readonly Pick<AuditEvent, 'action' | 'version' | 'previous'>[]): string[] {
  const chain: string[] = [];
  const top = () => chain[chain.length - 1];
  for (const e of events) {
    if (e.previous !== null && top() !== e.previous) chain.push(e.previous);
    if (e.action === 'rollback' && e.previous !== null && top() === e.previous) chain.pop();
    if (top() !== e.version) chain.push(e.version);
  }
  return chain;
}

/**
 * Where `rollback` goes: the holder before `current` in the chain of `target`, or undefined when
 * the trail does not know one. If `current` is not the last recorded holder (someone moved the
 * alias outside mlv), the last recorded holder is where to go back to.
 */
export function rollbackTarget(
  events: readonly AuditEvent[],
  target: string,
  kind: 'alias' | 'stage',
  current: string | undefined,
): string | undefined {
  const chain = holderChain(events.filter((e) => e.target === target && e.kind === kind));
  while (chain.length > 0 && chain[chain.length - 1] === current) chain.pop();
  return chain[chain.length - 1];
}
