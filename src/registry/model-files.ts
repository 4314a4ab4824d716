import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeRef, type VersionRef } from '../core/registry/refs.js';
import { TAG } from '../core/registry/tags.js';
import { InputError, NotFoundError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import type { ModelVersion } from '../mlflow/types.js';
import { resolveLocalModel } from '../onnx/resolve.js';
import { directorySha256, sha256File } from './artifact.js';
import { resolveRef, tagOf } from './versions.js';

/**
 * A registered version's files on this machine: downloaded once into a cache keyed by sha256,
 * checked against the `mlv.sha256` tag `mlv register` recorded, and reused from then on.
 * `mlv smoke models:/…`, `compare --predictions`, `promote --smoke` and `mlv serve` come here.
 *
 *   <cacheDir>/models/<sha256>/model/…        the version's artifact directory
 *   <cacheDir>/models/<sha256>/.mlv-complete  written last: a copy without it is half-made
 */

/** Where downloaded models live: $MLV_HOME/cache, else $XDG_CACHE_HOME/mlv, else ~/.cache/mlv. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.MLV_HOME) return path.join(env.MLV_HOME, 'cache');
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'mlv');
  return path.join(env.HOME || os.homedir(), '.cache', 'mlv');
}

export interface FetchedModel {
  name: string;
  version: ModelVersion;
  /** Absolute path of the .onnx file inside the cache. */
  onnxPath: string;
  /** The verified digest (the mlv.sha256 tag), or the digest of the download when the version has none. */
  sha256: string;
}

export interface FetchOptions {
  /** The cache root (cacheRoot(env)); models go to `<cacheDir>/models/<sha256>`. */
  cacheDir: string;
  signal?: AbortSignal | undefined;
  /** Diagnostics: `cached in …`. */
  debug?: ((message: string) => void) | undefined;
  /** A version without an mlv.sha256 tag is used unverified, with this warning. */
  warn?: ((message: string) => void) | undefined;
  /** Called when a download starts; the returned function is called when it ends (a spinner). */
  downloading?: ((text: string) => () => void) | undefined;
}

const COMPLETE = '.mlv-complete';

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * The .onnx file of `name` at `ref`. `display` names the model in messages (what the user typed,
 * e.g. `models:/churn/@production`). Errors: NotFoundError for an unknown model/version/alias,
 * InputError for a version that is not an ONNX model or whose download does not match its
 * mlv.sha256 tag (code MLV_DIGEST_MISMATCH).
 */
export async function fetchModel(
  client: MlflowClient,
  target: { name: string; ref: VersionRef; display?: string | undefined },
  opts: FetchOptions,
): Promise<FetchedModel> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const mv = await resolveRef(client, target.name, target.ref, undefined, call);
  const display =
    target.display ?? `models:/${target.name}/${target.ref.kind === 'version' ? mv.version : describeRef(target.ref)}`;
  const label = target.ref.kind === 'version' ? display : `${display} (version ${mv.version})`;
  const recorded = tagOf(mv, TAG.sha256)?.toLowerCase();
  const models = path.join(opts.cacheDir, 'models');

  if (recorded && (await exists(path.join(models, recorded, COMPLETE)))) {
    opts.debug?.(`${label}: cached in ${path.join(models, recorded)}`);
    const local = await resolveLocalModel(path.join(models, recorded, 'model'), '/', label);
    return { name: mv.name, version: mv, onnxPath: local.file, sha256: recorded };
  }

  const temp = path.join(models, `.download-${randomBytes(6).toString('hex')}`);
  const modelDir = path.join(temp, 'model');
  await mkdir(modelDir, { recursive: true });
  let done = opts.downloading?.(`downloading ${mv.name} version ${mv.version} (${describeRef(target.ref)})`);
  const stop = () => {
    done?.();
    done = undefined;
  };
  try {
    await download(client, mv, modelDir, call);
    stop();
    const local = await resolveLocalModel(modelDir, '/', label);
    const digest = await verifiedDigest(local.file, modelDir, recorded, label);
    if (!recorded)
      opts.warn?.(`${label} has no ${TAG.sha256} tag (not registered with mlv register): its digest is not verified`);
    const final = path.join(models, digest);
    await writeFile(path.join(temp, COMPLETE), `${mv.name} version ${mv.version}\n`);
    if (!(await exists(path.join(final, COMPLETE)))) {
      // Another mlv may finish the same download first: its complete copy wins, ours is dropped.
      await rename(temp, final).catch(async () => {
        if (await exists(path.join(final, COMPLETE))) return;
        await rm(final, { recursive: true, force: true }); // a copy left half-written by a crash
        await rename(temp, final);
      });
    }
    const cached = await resolveLocalModel(path.join(final, 'model'), '/', label);
    return { name: mv.name, version: mv, onnxPath: cached.file, sha256: digest };
  } finally {
    stop();
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The version's artifact directory into `dir`; a version whose source is a single file lands as that file. */
async function download(
  client: MlflowClient,
  mv: ModelVersion,
  dir: string,
  call: { signal?: AbortSignal },
): Promise<void> {
  const remote = await client.resolveArtifactUri(`models:/${mv.name}/${mv.version}`, call);
  try {
    await client.downloadDirectory(remote, dir, call);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    await client.downloadFile(remote, path.join(dir, path.posix.basename(remote) || 'model.onnx'), call);
  }
}

/**
 * The digest the download is known by: the recorded tag when the .onnx file (a registered .onnx)
 * or the whole directory (a registered directory) matches it, the file's digest when nothing was
 * recorded; a mismatch is refused.
 */
async function verifiedDigest(file: string, dir: string, recorded: string | undefined, label: string): Promise<string> {
  const fileDigest = await sha256File(file);
  if (!recorded || recorded === fileDigest) return fileDigest;
  if (recorded === (await directorySha256(dir))) return recorded;
  throw new InputError(
    `${label}: the downloaded model's sha256 ${fileDigest.slice(0, 12)}… does not match the ${TAG.sha256} tag ${recorded.slice(0, 12)}… recorded at registration`,
    {
      code: 'MLV_DIGEST_MISMATCH',
      hint: 'the artifact changed after it was registered; register it again or investigate',
    },
  );
}
