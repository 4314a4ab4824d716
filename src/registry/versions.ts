import type { VersionSnapshot } from '../core/registry/compare.js';
import { describeRef, type VersionRef } from '../core/registry/refs.js';
import { isSemver, normalizeSemver } from '../core/registry/semver.js';
import { TAG } from '../core/registry/tags.js';
import { NotFoundError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import { isMlflowError } from '../mlflow/errors.js';
import { tagMap, type ModelVersion, type RegisteredModel } from '../mlflow/types.js';

/**
 * Reading a registered model the way the registry commands need it: the model, its versions with
 * their semvers and aliases, a version named by a reference, and the run behind a version.
 */

export interface Opts {
  signal?: AbortSignal;
}

/** The registered model, or NotFoundError (exit 2) naming it. */
export async function requireModel(client: MlflowClient, name: string, opts: Opts = {}): Promise<RegisteredModel> {
  const model = await client.findRegisteredModel(name, opts);
  if (!model) {
    throw new NotFoundError(`registered model "${name}" does not exist`, {
      hint: '`mlv show` lists the registered models',
    });
  }
  return model;
}

/**
 * A search filter that matches the registered model `name` exactly or, when the name holds both
 * kinds of quote, a superset of it. MLflow's filter parser strips the quotes of a literal and does
 * not unescape inside it (`'o\\'brien'` matches nothing), so a name with `'` is written in `"…"`;
 * one with both is matched with LIKE, each quote a `_` wildcard — callers keep only `mv.name === name`.
 * @example nameFilter("o'brien") // `name="o'brien"`
 */
export function nameFilter(name: string): string {
  if (!name.includes("'")) return `name='${name}'`;
  if (!name.includes('"')) return `name="${name}"`;
  return `name LIKE '${name.replace(/'/g, '_')}'`;
}

/** Every version of `name` (search results carry tags but no aliases), newest first. */
export async function listVersions(client: MlflowClient, name: string, opts: Opts = {}): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  for await (const mv of client.iterateModelVersions({ filter: nameFilter(name) }, opts)) {
    if (mv.name === name) out.push(mv);
  }
  return out.sort((a, b) => Number(b.version) - Number(a.version));
}

/** {version: [aliases]} from the registered model's alias list. */
export function aliasesByVersion(model: RegisteredModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of [...model.aliases].sort((x, y) => (x.alias < y.alias ? -1 : 1))) {
    out.set(a.version, [...(out.get(a.version) ?? []), a.alias]);
  }
  return out;
}

/** {alias: version}, sorted by alias. */
export function aliasMap(model: RegisteredModel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of [...model.aliases].sort((x, y) => (x.alias < y.alias ? -1 : 1))) out[a.alias] = a.version;
  return out;
}

export function semverOf(mv: ModelVersion): string | null {
  const v = mv.tags.find((t) => t.key === TAG.semver)?.value;
  return v !== undefined && isSemver(v) ? normalizeSemver(v) : null;
}

export function tagOf(mv: ModelVersion, key: string): string | undefined {
  return mv.tags.find((t) => t.key === key)?.value;
}

/** Epoch milliseconds → ISO string; 0 or missing → null. */
export function isoTime(ms: number | undefined): string | null {
  return ms ? new Date(ms).toISOString() : null;
}

/**
 * The version a reference names, of a model given by name (read first: an unknown model is
 * NotFoundError naming it) or as already read. `versions` is the model's version list when the
 * caller has it (avoids a request); unknown versions, semvers and aliases are NotFoundError (exit 2).
 */
export async function resolveRef(
  client: MlflowClient,
  modelOrName: RegisteredModel | string,
  ref: VersionRef,
  versions?: ModelVersion[],
  opts: Opts = {},
): Promise<ModelVersion> {
  const model = typeof modelOrName === 'string' ? await requireModel(client, modelOrName, opts) : modelOrName;
  const name = model.name;
  const all = async () => (versions ??= await listVersions(client, name, opts));
  switch (ref.kind) {
    case 'version': {
      const found = versions?.find((v) => v.version === ref.version);
      if (found) return found;
      try {
        return await client.getModelVersion(name, ref.version, opts);
      } catch (err) {
        if (isMlflowError(err, 'RESOURCE_DOES_NOT_EXIST')) {
          const list = await all();
          throw new NotFoundError(`${name} has no version ${ref.version}`, {
            hint: list.length
              ? `its versions are ${list
                  .map((v) => v.version)
                  .reverse()
                  .join(', ')}`
              : `${name} has no versions yet`,
          });
        }
        throw err;
      }
    }
    case 'semver': {
      const list = await all();
      const found = list.find((v) => semverOf(v) === ref.semver);
      if (found) return found;
      const known = list.map(semverOf).filter((s): s is string => s !== null);
      throw new NotFoundError(`${name} has no version with semver ${ref.semver}`, {
        hint: known.length
          ? `registered semvers: ${known.reverse().join(', ')}`
          : `no version of ${name} carries a ${TAG.semver} tag`,
      });
    }
    case 'alias': {
      const holder = model.aliases.find((a) => a.alias === ref.alias);
      if (!holder) {
        throw new NotFoundError(`alias @${ref.alias} is not set on ${name}`, {
          hint: model.aliases.length
            ? `its aliases are ${model.aliases.map((a) => '@' + a.alias).join(', ')}`
            : `${name} has no aliases yet`,
        });
      }
      return resolveRef(client, model, { kind: 'version', version: holder.version }, versions, opts);
    }
    case 'latest': {
      const list = await all();
      const top = list[0];
      if (!top) throw new NotFoundError(`${name} has no versions (${describeRef(ref)})`);
      return top;
    }
  }
}

export interface RunFacts {
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

/** The run's latest metrics, params and tags; empty when the version has no run or it is gone. */
export async function runFacts(client: MlflowClient, runId: string, opts: Opts = {}): Promise<RunFacts> {
  if (!runId) return { metrics: {}, params: {}, tags: {} };
  try {
    const run = await client.getRun(runId, opts);
    const metrics: Record<string, number> = {};
    for (const m of run.data.metrics) metrics[m.key] = m.value;
    return { metrics, params: tagMap(run.data.params), tags: tagMap(run.data.tags) };
  } catch (err) {
    if (isMlflowError(err, 'RESOURCE_DOES_NOT_EXIST')) return { metrics: {}, params: {}, tags: {} };
    throw err;
  }
}

/** Everything compare and promote look at for one version. */
export async function snapshot(
  client: MlflowClient,
  model: RegisteredModel,
  mv: ModelVersion,
  opts: Opts = {},
): Promise<VersionSnapshot> {
  const facts = await runFacts(client, mv.run_id, opts);
  return {
    version: mv.version,
    semver: semverOf(mv),
    aliases: aliasesByVersion(model).get(mv.version) ?? [],
    stage: mv.current_stage,
    status: mv.status,
    created_at: isoTime(mv.creation_timestamp),
    run_id: mv.run_id || null,
    source: mv.source,
    description: mv.description,
    metrics: facts.metrics,
    params: facts.params,
    tags: tagMap(mv.tags),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
