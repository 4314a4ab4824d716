import { readFile } from 'node:fs/promises';
import { parseVersionRef } from '../core/registry/refs.js';
import { MAX_TAG_VALUE } from '../core/registry/tags.js';
import {
  encodeLoadError,
  LOAD_ERROR_TAG,
  parseLoadError,
  parseRoute,
  ROUTE_CLEARED_TAG,
  ROUTE_TAG,
  routeJson,
  routeVersions,
  type LoadError,
  type Route,
  type RouteSpec,
  type RouteVersion,
} from '../core/serve/route.js';
import { InputError, NotFoundError, RemoteError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import { isMlflowError } from '../mlflow/errors.js';
import type { ModelVersion, RegisteredModel } from '../mlflow/types.js';
import { listVersions, requireModel, resolveRef } from '../registry/versions.js';

/**
 * The route of a registered model, stored as compact JSON in its `mlv.route` tag (the same
 * against real MLflow and the embedded registry). Every write bumps `revision`, records who and
 * when, and is read back to confirm.
 *
 * MLflow tags have no compare-and-set: two writers that read the same revision can both write
 * revision + 1, and the later write wins. `expectRevision` narrows that to the window between
 * our read and our write (milliseconds); the read-back catches a writer that landed after ours
 * but not one that landed just before it. A rollout controller that needs strict serialisation
 * must be the only writer of its model's route.
 */

export interface Opts {
  signal?: AbortSignal | undefined;
}

const call = (opts: Opts) => (opts.signal ? { signal: opts.signal } : {});

/** The route in the tags of `model`, or null when none is set. A malformed tag is InputError naming it. */
export function routeOfModel(model: RegisteredModel): Route | null {
  const tag = model.tags.find((t) => t.key === ROUTE_TAG);
  return tag ? parseRoute(tag.value, `the ${ROUTE_TAG} tag of ${model.name}`) : null;
}

/** The route of registered model `name` (NotFoundError when the model does not exist), or null. */
export async function readRoute(client: MlflowClient, name: string, opts: Opts = {}): Promise<Route | null> {
  return routeOfModel(await requireModel(client, name, call(opts)));
}

/** A route read from a local JSON file (`mlv serve --route FILE`, `mlv assign --route FILE`); `-` is stdin. */
export async function readRouteFile(file: string, what = '--route file'): Promise<Route> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? `${what} ${file} does not exist` : `cannot read ${what} ${file}: ${(err as Error).message}`,
    );
  }
  return parseRoute(text, `${what} ${file}`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A reference (`3`, `v1.2.0`, `@production`, `latest`) resolved for a route: the version it names
 * now, which must be READY. `what` names the flag in errors.
 */
export async function resolveRouteRef(
  client: MlflowClient,
  model: RegisteredModel,
  ref: string,
  what: string,
  versions: ModelVersion[],
  opts: Opts = {},
): Promise<{ at: RouteVersion; mv: ModelVersion }> {
  const mv = await resolveRef(client, model, parseVersionRef(ref, what), versions, call(opts));
  if (mv.status !== 'READY') {
    throw new InputError(`${what} ${ref} is version ${mv.version} of ${model.name}, which is ${mv.status}, not READY`, {
      hint: 'only READY versions take traffic: wait for the registration to finish or pick another version',
    });
  }
  return { at: { version: mv.version, ref: ref.trim() }, mv };
}

export interface WriteOptions extends Opts {
  /** Who is writing: whoAmI(env).createdBy. */
  by: string;
  now: Date;
  /** Fail (MLV_ROUTE_CONFLICT) unless the stored revision is this (0 = no route yet). */
  expectRevision?: number | undefined;
}

/**
 * Stores `spec` as the route of `name`: checks every version it names exists and is READY,
 * writes revision + 1, reads it back and fails (RemoteError MLV_ROUTE_CONFLICT) unless what is
 * stored is what was written. Returns the stored route.
 */
export async function writeRoute(
  client: MlflowClient,
  name: string,
  spec: RouteSpec,
  opts: WriteOptions,
): Promise<Route> {
  const model = await requireModel(client, name, call(opts));
  const revision = storedRevision(model);
  if (opts.expectRevision !== undefined && revision !== opts.expectRevision) {
    throw conflict(model.name, `its route is at revision ${revision}, expected ${opts.expectRevision}`);
  }
  const versions = await listVersions(client, model.name, call(opts));
  for (const v of routeVersions(spec)) {
    const mv = versions.find((x) => x.version === v);
    if (!mv) throw new NotFoundError(`${model.name} has no version ${v} (named by the route)`);
    if (mv.status !== 'READY') {
      throw new InputError(`version ${v} of ${model.name} is ${mv.status}, not READY: it cannot take traffic`);
    }
  }
  const route = parseRoute(
    { ...spec, model: model.name, revision: revision + 1, updated_by: opts.by, updated_at: opts.now.toISOString() },
    `the route of ${model.name}`,
  );
  const value = routeJson(route);
  if (value.length > MAX_TAG_VALUE) {
    throw new InputError(
      `the route of ${model.name} is ${value.length} characters of JSON; an MLflow tag holds at most ${MAX_TAG_VALUE}`,
      { hint: 'use fewer variants, or shorter names and refs' },
    );
  }
  await client.setRegisteredModelTag(model.name, ROUTE_TAG, value, call(opts));
  const back = await readRoute(client, model.name, opts);
  if (!back || routeJson(back) !== value) {
    throw conflict(
      model.name,
      back
        ? `read back revision ${back.revision} by ${back.updated_by ?? 'unknown'} instead of revision ${route.revision} just written`
        : 'the route just written is gone',
    );
  }
  return back;
}

/**
 * The revision stored now: the route's, else the one `route clear` recorded, else 0. A route tag
 * that no longer parses must not block replacing it, so its revision is read leniently.
 */
export function storedRevision(model: RegisteredModel): number {
  const revisionIn = (key: string) => {
    const raw = model.tags.find((t) => t.key === key)?.value;
    if (raw === undefined) return undefined;
    const m = /"revision":(\d+)/.exec(raw);
    return m ? Number(m[1]) : 0;
  };
  return revisionIn(ROUTE_TAG) ?? revisionIn(ROUTE_CLEARED_TAG) ?? 0;
}

function conflict(name: string, detail: string): RemoteError {
  return new RemoteError(`the route of ${name} changed while it was being written: ${detail}`, {
    code: 'MLV_ROUTE_CONFLICT',
    hint: `another writer changed it; check \`mlv route show ${name}\` and set it again`,
  });
}

/**
 * Removes the route of `name` and records its revision in `mlv.route.cleared`, so the next route
 * continues the numbering (a serve process never sees an old revision number again). Returns
 * the revision that was removed, or null when there was no route.
 */
export async function clearRoute(
  client: MlflowClient,
  name: string,
  opts: Opts & { by: string; now: Date; expectRevision?: number | undefined },
): Promise<{ revision: number } | null> {
  const model = await requireModel(client, name, call(opts));
  const revision = storedRevision(model);
  if (opts.expectRevision !== undefined && revision !== opts.expectRevision) {
    throw conflict(model.name, `its route is at revision ${revision}, expected ${opts.expectRevision}`);
  }
  if (!model.tags.some((t) => t.key === ROUTE_TAG)) return null;
  await client.setRegisteredModelTag(
    model.name,
    ROUTE_CLEARED_TAG,
    JSON.stringify({ revision, updated_by: opts.by, updated_at: opts.now.toISOString() }),
    call(opts),
  );
  await client.deleteRegisteredModelTag(model.name, ROUTE_TAG, call(opts));
  return { revision };
}

/** The `mlv.serve.load_error` of each of `versions` that has one (a version that is gone is skipped). */
export async function readLoadErrors(
  client: MlflowClient,
  name: string,
  versions: readonly string[],
  opts: Opts = {},
): Promise<Record<string, LoadError>> {
  const out: Record<string, LoadError> = {};
  for (const v of versions) {
    let mv: ModelVersion;
    try {
      mv = await client.getModelVersion(name, v, call(opts));
    } catch (err) {
      if (isMlflowError(err, 'RESOURCE_DOES_NOT_EXIST')) continue;
      throw err;
    }
    const tag = mv.tags.find((t) => t.key === LOAD_ERROR_TAG);
    if (tag) out[v] = parseLoadError(tag.value);
  }
  return out;
}

/** Records (or, with null, clears) a load failure of one version, as `mlv route show` reads it. */
export async function writeLoadError(
  client: MlflowClient,
  name: string,
  version: string,
  failure: LoadError | null,
  opts: Opts = {},
): Promise<void> {
  if (failure === null) await client.deleteModelVersionTag(name, version, LOAD_ERROR_TAG, call(opts));
  else await client.setModelVersionTag(name, version, LOAD_ERROR_TAG, encodeLoadError(failure), call(opts));
}
