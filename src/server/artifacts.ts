/**
 * Artifact files of an embedded store, under `<store>/artifacts/` — the root that MLflow calls
 * the artifacts destination: `mlflow-artifacts:/2/<run>/artifacts/model/MLmodel` is the file
 * `<store>/artifacts/2/<run>/artifacts/model/MLmodel`.
 *
 * Every path is confined to the root: `..`, absolute paths and NUL are refused before any file
 * is touched, and symlinks that lead outside the root are refused on use.
 * Uploads are streamed into a hidden temp file next to the target and renamed into place only
 * once complete and fsynced: a killed upload never leaves a partial file at the target path.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidParameter, MlflowApiError } from './errors.js';

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** Temp files of uploads in progress (or killed): never listed, never served. */
export const UPLOAD_TEMP_PREFIX = '.mlv-upload-';

const invalidPath = () => invalidParameter('Invalid path');

export class ArtifactStore {
  private constructor(
    readonly root: string,
    private readonly realRoot: string,
  ) {}

  static async open(root: string): Promise<ArtifactStore> {
    await mkdir(root, { recursive: true });
    return new ArtifactStore(root, await realpath(root));
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, ...rel.split('/'));
  }

  private inside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.realRoot + path.sep);
  }

  /** Refuses a path whose deepest existing ancestor resolves (through symlinks) outside the root. */
  private async confine(abs: string): Promise<void> {
    let p = abs;
    for (;;) {
      try {
        if (!this.inside(await realpath(p))) throw invalidPath();
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
        const parent = path.dirname(p);
        if (parent === p) throw invalidPath();
        p = parent;
      }
    }
  }

  /** Streams `body` to `rel`, replacing any file there atomically. */
  async upload(rel: string, body: Readable): Promise<void> {
    if (rel === '') throw invalidPath();
    const target = this.abs(rel);
    const dir = path.dirname(target);
    await this.confine(dir);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw invalidParameter(`Cannot write artifact ${rel}: a parent path is a file`);
      }
      throw err;
    }
    await this.confine(dir);
    await removeStaleTemps(dir);
    const temp = path.join(dir, `${UPLOAD_TEMP_PREFIX}${randomBytes(8).toString('hex')}.tmp`);
    let renamed = false;
    try {
      // flush: fsync before close, so the rename never publishes a file whose bytes are not on disk.
      await pipeline(body, createWriteStream(temp, { flags: 'wx', flush: true }));
      try {
        await rename(temp, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
          throw invalidParameter(`Cannot write artifact ${rel}: it is a directory`);
        }
        throw err;
      }
      renamed = true;
    } finally {
      if (!renamed) await unlink(temp).catch(() => undefined);
    }
  }

  /**
   * The file to send for `rel`, or MLflow's error for a missing one: a 500 INTERNAL_ERROR, as
   * MLflow answers (without the server's filesystem path, which MLflow leaks).
   */
  async fileFor(rel: string): Promise<{ file: string; size: number }> {
    const missing = () =>
      new MlflowApiError(
        'INTERNAL_ERROR',
        `The following failures occurred while downloading one or more artifacts:\n##### File ${rel} #####\n[Errno 2] No such file or directory: '${rel}'`,
      );
    const base = path.posix.basename(rel);
    if (rel === '' || base.startsWith(UPLOAD_TEMP_PREFIX)) throw missing();
    const file = this.abs(rel);
    await this.confine(file);
    try {
      const st = await stat(file);
      if (!st.isFile()) throw missing();
      return { file, size: st.size };
    } catch (err) {
      if (err instanceof MlflowApiError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw missing();
      throw err;
    }
  }

  /** Entries of the directory `rel` (names only), sorted; [] for a missing path or a file. */
  async list(rel: string): Promise<FileInfo[]> {
    const dir = this.abs(rel);
    await this.confine(dir);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw err;
    }
    const out: FileInfo[] = [];
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith(UPLOAD_TEMP_PREFIX)) continue;
      const full = path.join(dir, e.name);
      try {
        if (e.isSymbolicLink() && !this.inside(await realpath(full))) continue;
        const st = await stat(full);
        if (st.isDirectory()) out.push({ path: e.name, is_dir: true });
        else if (st.isFile()) out.push({ path: e.name, is_dir: false, file_size: st.size });
      } catch {
        // vanished or dangling: not listed
      }
    }
    return out;
  }

  /** Deletes a file or a directory tree; deleting what is not there succeeds (as in MLflow). */
  async delete(rel: string): Promise<void> {
    if (rel === '') throw invalidPath();
    const target = this.abs(rel);
    await this.confine(path.dirname(target));
    await rm(target, { recursive: true, force: true });
  }
}

/** Temp files older than this are leftovers of a killed upload (a live one is always written to). */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/** Removes the leftovers of killed uploads in `dir`, so they do not pile up. Best effort. */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(UPLOAD_TEMP_PREFIX));
  } catch {
    return;
  }
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      if ((await stat(file)).mtimeMs < cutoff) await unlink(file);
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** Content-Type for a download, as MLflow's `_guess_mime_type` decides it. */
export function guessContentType(file: string): string {
  const name = path.posix.basename(file);
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1) : name;
  if (TEXT_EXTENSIONS.has(ext)) return 'text/plain';
  return MIME_TYPES[ext.toLowerCase()] ?? 'application/octet-stream';
}

const TEXT_EXTENSIONS = new Set([
  'txt',
  'log',
  'err',
  'cfg',
  'conf',
  'cnf',
  'cf',
  'ini',
  'properties',
  'prop',
  'hocon',
  'toml',
  'yaml',
  'yml',
  'xml',
  'json',
  'js',
  'py',
  'py3',
  'csv',
  'tsv',
  'md',
  'rst',
  'MLmodel',
  'mlproject',
]);

const MIME_TYPES: Record<string, string> = {
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  pkl: 'application/octet-stream',
  bin: 'application/octet-stream',
  onnx: 'application/octet-stream',
};
