import { auditTagKey, auditTrail, encodeAudit, randomSuffix, type AuditEvent } from '../core/registry/audit.js';
import type { MlflowClient } from '../mlflow/client.js';
import type { RegisteredModel } from '../mlflow/types.js';

/** The audit trail on the registered model's tags (format in src/core/registry/audit.ts). */

/** Oldest events are dropped beyond this many, so the model's tag list stays small. */
export const AUDIT_KEEP = 200;

export function readAuditTrail(model: RegisteredModel): (AuditEvent & { key: string })[] {
  return auditTrail(model.tags);
}

/** Writes one event as a registered-model tag and prunes the oldest beyond AUDIT_KEEP. Returns the tag key. */
export async function recordAudit(
  client: MlflowClient,
  model: RegisteredModel,
  event: AuditEvent,
  opts: { now: Date; random: () => number; signal?: AbortSignal; keep?: number },
): Promise<string> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const key = auditTagKey(opts.now, randomSuffix(opts.random));
  await client.setRegisteredModelTag(model.name, key, encodeAudit(event), call);
  const existing = readAuditTrail(model);
  const excess = existing.length + 1 - (opts.keep ?? AUDIT_KEEP);
  for (const old of existing.slice(0, Math.max(0, excess))) {
    await client.deleteRegisteredModelTag(model.name, old.key, call);
  }
  return key;
}
