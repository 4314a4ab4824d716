import { auditTagKey, auditTrail, encodeAudit, randomSuffix, type AuditEvent } from '../core/registry/audit.js';
import type { MlflowClient } from '../mlflow/client.js';
import type { RegisteredModel } from '../mlflow/types.js';

/** The audit trail on the registered model's tags (format in src/core/registry/audit.ts). */

/** Oldest events are dropped beyond this many, so the model's tag list stays small. */
export const AUDIT_KEEP = 200;

export function readAuditTrail(model: RegisteredModel): (AuditEvent & { key: string })[] {
  return auditTrail(model.tags);
}

/** Writes one event as a registered-model tag keyed by `now` and a random suffix. Returns the tag key. */
export async function writeAuditEvent(
  client: MlflowClient,
  name: string,
  event: AuditEvent,
  opts: { now: Date; random: () => number; signal?: AbortSignal | undefined },
): Promise<string> {
  const key = auditTagKey(opts.now, randomSuffix(opts.random));
  await client.setRegisteredModelTag(name, key, encodeAudit(event), opts.signal ? { signal: opts.signal } : {});
  return key;
}

/** Deletes the oldest events of `model` (as read after the newest was written) beyond `keep`. */
export async function pruneAuditTrail(
  client: MlflowClient,
  model: RegisteredModel,
  opts: { keep?: number; signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const events = readAuditTrail(model);
  const call = opts.signal ? { signal: opts.signal } : {};
  for (const old of events.slice(0, Math.max(0, events.length - (opts.keep ?? AUDIT_KEEP)))) {
    await client.deleteRegisteredModelTag(model.name, old.key, call);
  }
}

/** Writes one event and prunes the oldest beyond AUDIT_KEEP. Returns the tag key. */
export async function recordAudit(
  client: MlflowClient,
  model: RegisteredModel,
  event: AuditEvent,
  opts: { now: Date; random: () => number; signal?: AbortSignal; keep?: number },
): Promise<string> {
  const key = await writeAuditEvent(client, model.name, event, opts);
  const existing = readAuditTrail(model);
  const excess = existing.length + 1 - (opts.keep ?? AUDIT_KEEP);
  const call = opts.signal ? { signal: opts.signal } : {};
  for (const old of existing.slice(0, Math.max(0, excess))) {
    await client.deleteRegisteredModelTag(model.name, old.key, call);
  }
  return key;
}
