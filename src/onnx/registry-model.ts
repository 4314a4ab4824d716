import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { describeRef, parseVersionRef, type VersionRef } from '../core/registry/refs.js';
import { InputError, NotFoundError } from '../errors.js';
import type { ModelVersion } from '../mlflow/types.js';
import { resolveLocalModel, sha256File, type ResolvedModel } from './resolve.js';

/**
 * MODEL arguments of `mlv smoke` (and the commands that reuse it): a local .onnx file, an MLflow
 * model directory, or `models:/NAME/REF` — downloaded from the registry into a cache keyed by
 * sha256 and checked against the digest `mlv register` recorded in the version's `mlv.sha256` tag.
 */

export const SHA256_TAG = 'mlv.sha256';
export const SEMVER_TAG = 'mlv.semver';

export interface ResolvedModelWithDigest extends ResolvedModel {
  /** The digest to report: the verified registry digest, or undefined to hash the file. */
  sha256?: string | undefined;
}

/** `models:/NAME/REF` or MLflow's own `models:/NAME@alias`; undefined when `ref` is not a models: URI. */
export function parseModelsUri(ref: string): { name: string; ref: VersionRef } | undefined {
  const m = /^models:\/+(.+)$/.exec(ref.trim());
  if (!m) return undefined;
  const rest = m[1]!.replace(/\/+$/, '');
  const at = /^([^/@]+)@([^/@]+)$/.exec(rest);
  if (at) return { name: at[1]!, ref: parseVersionRef(`@${at[2]}`, `model reference ${ref}`) };
  const slash = rest.lastIndexOf('/');
  if (slash <= 0 || slash === rest.length - 1) {
    throw new InputError(
      `model reference ${ref} must be models:/NAME/VERSION, models:/NAME/v1.2.0 or models:/NAME/@alias`,
    );
  }
  return { name: rest.slice(0, slash), ref: parseVersionRef(rest.slice(slash + 1), `model reference ${ref}`) };
}

/** Where downloaded models live: $MLV_HOME/cache, else $XDG_CACHE_HOME/mlv, else ~/.cache/mlv. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.MLV_HOME) return path.join(env.MLV_HOME, 'cache');
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'mlv');
  return path.join(env.HOME || os.homedir(), '.cache', 'mlv');
}

/** Resolves any MODEL argument to a local .onnx file. */
export async function resolveModel(ctx: Context, ref: string): Promise<ResolvedModelWithDigest> {
  const uri = parseModelsUri(ref);
  if (!uri) return resolveLocalModel(ref, ctx.cwd);
  return resolveRegistryModel(ctx, ref, uri.name, uri.ref);
}

const tagOf = (mv: ModelVersion, key: string) => mv.tags.find((t) => t.key === key)?.value;

async function findVersion(ctx: Context, name: string, ref: VersionRef, display: string): Promise<ModelVersion> {
  const client = await ctx.mlflow();
  const opts = { signal: ctx.signal };
  switch (ref.kind) {
    case 'version':
      return client.getModelVersion(name, ref.version, opts);
    case 'alias':
      return client.getModelVersionByAlias(name, ref.alias, opts);
    case 'semver':
    case 'latest': {
      let best: ModelVersion | undefined;
      for await (const mv of client.iterateModelVersions({ filter: `name='${name.replace(/'/g, "\\'")}'` }, opts)) {
        if (mv.name !== name) continue;
        if (ref.kind === 'semver') {
          const s = tagOf(mv, SEMVER_TAG)?.replace(/^v/, '');
          if (s === ref.semver) return mv;
        } else if (!best || Number(mv.version) > Number(best.version)) {
          best = mv;
        }
      }
      if (best) return best;
      throw new NotFoundError(
        ref.kind === 'semver'
          ? `${display}: no version of ${name} is tagged ${SEMVER_TAG}=${ref.semver}`
          : `${display}: model ${name} has no versions`,
      );
    }
  }
}

/**
 * sha256 of a directory as `mlv register` records it for a directory artifact: sha256 over one
 * line `<sha256 of file>  <relative POSIX path>\n` per regular file, in byte order of the path
 * (what `find . -type f | sort | xargs sha256sum | sha256sum` gives). Same formula as
 * src/registry/artifact.ts.
 */
export async function directorySha256(root: string): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(dir, e.name), rel);
      else if (e.isFile()) files.push(rel);
    }
  };
  await walk(root, '');
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const outer = createHash('sha256');
  for (const rel of files) outer.update(`${await sha256File(path.join(root, ...rel.split('/')))}  ${rel}\n`);
  return outer.digest('hex');
}

const COMPLETE = '.mlv-complete';

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function resolveRegistryModel(
  ctx: Context,
  ref: string,
  name: string,
  vref: VersionRef,
): Promise<ResolvedModelWithDigest> {
  const mv = await findVersion(ctx, name, vref, ref);
  const recorded = tagOf(mv, SHA256_TAG)?.toLowerCase();
  const label = vref.kind === 'version' ? ref : `${ref} (version ${mv.version})`;
  const registry = { name: mv.name, version: mv.version, sha256Tag: recorded };
  const models = path.join(cacheRoot(ctx.env), 'models');

  if (recorded && (await exists(path.join(models, recorded, COMPLETE)))) {
    ctx.debug(`${label}: cached in ${path.join(models, recorded)}`);
    const local = await resolveLocalModel(path.join(models, recorded, 'model'), ctx.cwd);
    return { ...local, ref, label, registry, sha256: recorded };
  }

  const client = await ctx.mlflow();
  const temp = path.join(models, `.download-${randomBytes(6).toString('hex')}`);
  const modelDir = path.join(temp, 'model');
  await mkdir(modelDir, { recursive: true });
  const spinner = ctx.spinner(`downloading ${name} version ${mv.version} (${describeRef(vref)})`);
  try {
    const remote = await client.resolveArtifactUri(`models:/${mv.name}/${mv.version}`, { signal: ctx.signal });
    try {
      await client.downloadDirectory(remote, modelDir, { signal: ctx.signal });
    } catch (err) {
      // The version's source may be a single file rather than a directory.
      if (!(err instanceof NotFoundError)) throw err;
      await client.downloadFile(remote, path.join(modelDir, path.posix.basename(remote) || 'model.onnx'), {
        signal: ctx.signal,
      });
    }
    spinner.stop();
    const local = await resolveLocalModel(modelDir, ctx.cwd, label);
    const fileDigest = await sha256File(local.file);
    let digest = fileDigest;
    if (recorded && recorded !== fileDigest) {
      const dirDigest = await directorySha256(modelDir);
      if (recorded !== dirDigest) {
        throw new InputError(
          `${label}: the downloaded model's sha256 ${fileDigest.slice(0, 12)}… does not match the ${SHA256_TAG} tag ${recorded.slice(0, 12)}… recorded at registration`,
          {
            code: 'MLV_DIGEST_MISMATCH',
            hint: 'the artifact changed after it was registered; register it again or investigate',
          },
        );
      }
      digest = dirDigest;
    }
    if (!recorded)
      ctx.warn(`${label} has no ${SHA256_TAG} tag (not registered with mlv register): its digest is not verified`);
    const key = recorded ?? digest;
    const final = path.join(models, key);
    await writeFile(path.join(temp, COMPLETE), `${mv.name} version ${mv.version}\n`);
    if (!(await exists(path.join(final, COMPLETE)))) {
      // Another mlv may finish the same download first: its complete copy wins, ours is dropped.
      await rename(temp, final).catch(async () => {
        if (await exists(path.join(final, COMPLETE))) return;
        await rm(final, { recursive: true, force: true }); // a copy left half-written by a crash
        await rename(temp, final);
      });
    }
    const cached = await resolveLocalModel(path.join(final, 'model'), ctx.cwd);
    return { ...cached, ref, label, registry, sha256: key };
  } finally {
    spinner.stop();
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
  }
}
