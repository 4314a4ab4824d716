import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, NotFoundError, RemoteError, type MlvError } from '../errors.js';
import type { ErrorResponse, HttpTransport } from './http.js';
import { list, parseFileInfo, type FileInfo } from './types.js';

/**
 * Artifacts through MLflow's artifact proxy (`mlflow server --serve-artifacts`):
 * `PUT|GET|DELETE /api/2.0/mlflow-artifacts/artifacts/<path>` and the listing
 * `GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>`.
 *
 * Every transfer streams: a file goes from disk to socket and from socket to disk in chunks, so
 * a 1 GB model never sits in memory. A download lands in a temporary file next to its
 * destination and is renamed into place only when complete.
 *
 * Remote paths are proxy paths (`2/<run>/artifacts/model/MLmodel`) or `mlflow-artifacts:` URIs.
 */

const PROXY = '/api/2.0/mlflow-artifacts/artifacts';
const CONCURRENCY = 4;

export interface TransferOptions {
  signal?: AbortSignal;
  /** Called as bytes move (transferred so far, total when known). */
  onProgress?: (bytes: number, total: number | undefined) => void;
}

export interface TransferredFile {
  /** The remote proxy path. */
  remotePath: string;
  localPath: string;
  bytes: number;
}

export interface TransferResult {
  files: TransferredFile[];
  bytes: number;
}

/**
 * `mlflow-artifacts:/2/<run>/artifacts/model` → `2/<run>/artifacts/model` (the URI path without its
 * leading slash, SUMMARY.md §2), also for `mlflow-artifacts://host:port/…`; a bare proxy path is
 * normalized. Other schemes (s3:, file:, runs:/, models:/) are not proxy locations: an InputError
 * (resolve runs:/ and models:/ with MlflowClient.resolveArtifactUri first).
 */
export function artifactUriToProxyPath(uriOrPath: string): string {
  let p = uriOrPath.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(p)?.[1]?.toLowerCase();
  if (scheme === 'mlflow-artifacts') {
    p = p.slice('mlflow-artifacts:'.length);
    // mlflow-artifacts://host:port/path names the server explicitly; the path is what matters.
    if (p.startsWith('//')) p = p.replace(/^\/\/[^/]*/, '');
  } else if (scheme !== undefined && scheme.length > 1) {
    throw new InputError(
      `artifact location ${uriOrPath} is not an mlflow-artifacts: URI; mlv moves artifacts only through MLflow's artifact proxy`,
      {
        code: 'MLV_ARTIFACT_LOCATION',
        hint:
          scheme === 'runs' || scheme === 'models'
            ? 'resolve it first (MlflowClient.resolveArtifactUri)'
            : 'start the tracking server with --serve-artifacts so that new runs store artifacts under mlflow-artifacts:/',
      },
    );
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    decoded = p;
  }
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..') || decoded.includes('\\') || decoded.includes('\0')) {
    throw new InputError(`artifact path ${uriOrPath} must not contain '..', backslashes or NUL`, {
      code: 'MLV_ARTIFACT_PATH',
    });
  }
  return segments.join('/');
}

/** `a/b c/d` → `/api/2.0/mlflow-artifacts/artifacts/a/b%20c/d`. */
function proxyUrlPath(proxyPath: string): string {
  return proxyPath === '' ? PROXY : `${PROXY}/${proxyPath.split('/').map(encodeURIComponent).join('/')}`;
}

function joinRemote(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export class ArtifactsClient {
  constructor(private readonly http: HttpTransport) {}

  /** Lists one directory: entries with `path` = the name inside it. A missing directory (or a file) lists as `[]`, as in MLflow. */
  async list(remoteDir = '', opts: { signal?: AbortSignal } = {}): Promise<FileInfo[]> {
    const dir = artifactUriToProxyPath(remoteDir);
    const body = await this.http.json({
      method: 'GET',
      path: PROXY,
      query: dir === '' ? {} : { path: dir },
      retry: 'idempotent',
      signal: opts.signal,
      label: `list artifacts ${dir || '/'}`,
    });
    return list(body, 'files').map(parseFileInfo);
  }

  /** Every file below `remoteDir`, depth first, with paths relative to it. */
  async *walk(
    remoteDir = '',
    opts: { signal?: AbortSignal } = {},
  ): AsyncGenerator<{ path: string; size: number | undefined }> {
    const root = artifactUriToProxyPath(remoteDir);
    const pending: string[] = [''];
    while (pending.length > 0) {
      const rel = pending.shift()!;
      const entries = await this.list(joinRemote(root, rel), opts);
      for (const entry of entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
        const name = safeEntryName(entry.path, joinRemote(root, rel), this.http.server);
        const childRel = joinRemote(rel, name);
        if (entry.is_dir) pending.push(childRel);
        else yield { path: childRel, size: entry.file_size };
      }
    }
  }

  /** Streams a local file to `remotePath` (PUT; overwrites, so it is retried). */
  async uploadFile(localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<TransferredFile> {
    const remote = artifactUriToProxyPath(remotePath);
    if (remote === '')
      throw new InputError(`artifact path for ${localPath} must not be empty`, { code: 'MLV_ARTIFACT_PATH' });
    const size = await fileSize(localPath);
    await this.http.json({
      method: 'PUT',
      path: proxyUrlPath(remote),
      body: () => ({ stream: readWithProgress(localPath, size, opts.onProgress), length: size }),
      retry: 'idempotent',
      signal: opts.signal,
      label: `upload of ${remote}`,
    });
    return { remotePath: remote, localPath, bytes: size };
  }

  /** Uploads every file below `localDir` to `remoteDir`, keeping the relative layout. */
  async uploadDirectory(localDir: string, remoteDir: string, opts: TransferOptions = {}): Promise<TransferResult> {
    const root = artifactUriToProxyPath(remoteDir);
    const files = await localFiles(localDir);
    let done = 0;
    const results = await pool(files, CONCURRENCY, async (rel) => {
      const r = await this.uploadFile(path.join(localDir, ...rel.split('/')), joinRemote(root, rel), {
        ...pick(opts),
        onProgress: undefined,
      });
      done += r.bytes;
      opts.onProgress?.(done, undefined);
      return r;
    });
    return { files: results, bytes: results.reduce((n, f) => n + f.bytes, 0) };
  }

  /**
   * Streams `remotePath` into `localPath`: written to a temporary file in the same directory and
   * renamed over `localPath` when complete, so a failed download leaves what was there before.
   */
  async downloadFile(remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<TransferredFile> {
    const remote = artifactUriToProxyPath(remotePath);
    if (remote === '')
      throw new InputError('artifact path to download must not be empty', { code: 'MLV_ARTIFACT_PATH' });
    const target = path.resolve(localPath);
    const dir = path.dirname(target);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw localError(err, `could not create directory ${dir}`);
    }
    const temp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.mlv-partial`);
    const server = this.http.server;
    try {
      const bytes = await this.http.send<number>({
        method: 'GET',
        path: proxyUrlPath(remote),
        retry: 'idempotent',
        signal: opts.signal,
        label: `download of ${remote}`,
        onError: (e) => artifactError(e, remote, server),
        read: async (res) => {
          const total = contentLength(res.headers['content-length']);
          let written = 0;
          let localFailure: unknown;
          const out = createWriteStream(temp, { flags: 'w' });
          out.on('error', (err) => {
            localFailure ??= err;
          });
          const counter = counting((n) => {
            written += n;
            opts.onProgress?.(written, total);
          });
          try {
            await pipeline(res.body, counter, out);
          } catch (err) {
            if (localFailure !== undefined) throw localError(localFailure, `could not write ${temp}`);
            throw err; // the connection: the transport decides whether to retry
          }
          if (total !== undefined && written !== total) {
            throw new RemoteError(
              `download of ${remote} from MLflow at ${server} ended after ${written} of ${total} bytes`,
              {
                code: 'MLV_REMOTE_TRUNCATED',
              },
            );
          }
          return written;
        },
      });
      try {
        await rename(temp, target);
      } catch (err) {
        throw localError(err, `could not move the downloaded file to ${target}`);
      }
      return { remotePath: remote, localPath: target, bytes };
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Downloads every file below `remoteDir` into `localDir`. An empty or missing directory is a not-found error. */
  async downloadDirectory(remoteDir: string, localDir: string, opts: TransferOptions = {}): Promise<TransferResult> {
    const root = artifactUriToProxyPath(remoteDir);
    const entries: { path: string; size: number | undefined }[] = [];
    for await (const f of this.walk(root, pick(opts))) entries.push(f);
    if (entries.length === 0) {
      throw new NotFoundError(`no artifacts under ${root || '/'} on MLflow at ${this.http.server}`);
    }
    const total = entries.reduce((n, f) => n + (f.size ?? 0), 0);
    let done = 0;
    const results = await pool(entries, CONCURRENCY, async (f) => {
      const r = await this.downloadFile(
        joinRemote(root, f.path),
        path.join(localDir, ...f.path.split('/')),
        pick(opts),
      );
      done += r.bytes;
      opts.onProgress?.(done, total);
      return r;
    });
    return { files: results, bytes: results.reduce((n, f) => n + f.bytes, 0) };
  }

  /** Deletes one artifact (200 also when it did not exist, as in MLflow). */
  async delete(remotePath: string, opts: { signal?: AbortSignal; detached?: boolean } = {}): Promise<void> {
    const remote = artifactUriToProxyPath(remotePath);
    if (remote === '') throw new InputError('artifact path to delete must not be empty', { code: 'MLV_ARTIFACT_PATH' });
    await this.http.json({
      method: 'DELETE',
      path: proxyUrlPath(remote),
      retry: 'idempotent',
      signal: opts.signal,
      ...(opts.detached ? { detached: true } : {}),
      label: `delete of ${remote}`,
    });
  }
}

/**
 * A missing file: MLflow answers the download with 500 INTERNAL_ERROR whose message holds the
 * server's filesystem path (SUMMARY.md §7). Report "not found" without that path. A proxy that
 * is switched off (`--no-serve-artifacts`) gets its own hint instead of retries.
 */
function artifactError(e: ErrorResponse, remote: string, server: string): { error: MlvError } | undefined {
  const missing = /no such file|not found|does not exist|nosuchkey|errno 2\b/i;
  if (e.status === 404 || (e.status === 500 && missing.test(e.message))) {
    return { error: new NotFoundError(`artifact ${remote} not found on MLflow at ${server}`) };
  }
  if (/serve-artifacts/i.test(e.message)) {
    return {
      error: new RemoteError(`MLflow at ${server} does not serve artifacts (HTTP ${e.status})`, {
        code: 'MLV_REMOTE_NO_ARTIFACT_PROXY',
        status: e.status,
        hint: 'start the tracking server with --serve-artifacts',
      }),
    };
  }
  return undefined;
}

/** A listing entry must be one plain name: a server must not steer downloads outside the target directory. */
function safeEntryName(name: string, dir: string, server: string): string {
  const base = name.includes('/') ? name.slice(name.lastIndexOf('/') + 1) : name;
  if (base === '' || base === '.' || base === '..' || base.includes('\\') || base.includes('\0')) {
    throw new RemoteError(
      `MLflow at ${server} listed an unsafe artifact name ${JSON.stringify(name)} under ${dir || '/'}`,
      {
        code: 'MLV_REMOTE_PROTOCOL',
      },
    );
  }
  return base;
}

function readWithProgress(file: string, size: number, onProgress: TransferOptions['onProgress']): Readable {
  const stream = createReadStream(file);
  if (!onProgress) return stream;
  let sent = 0;
  const counter = counting((n) => {
    sent += n;
    onProgress(sent, size);
  });
  // Errors reach undici through `counter`; pipeline also closes the file if undici gives up.
  pipeline(stream, counter).catch(() => undefined);
  return counter;
}

/** A pass-through that reports the size of every chunk (no 'data' listener: backpressure stays intact). */
function counting(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

async function fileSize(file: string): Promise<number> {
  let s;
  try {
    s = await stat(file);
  } catch (err) {
    throw localError(err, `cannot read ${file}`);
  }
  if (!s.isFile()) throw new InputError(`${file} must be a regular file`, { code: 'MLV_INPUT' });
  return s.size;
}

/** Files below `dir` (following symlinks to files), as sorted `/`-separated relative paths. */
async function localFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (err) {
      throw localError(err, `cannot read directory ${path.join(dir, rel)}`);
    }
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const s = await stat(path.join(dir, childRel)).catch(() => undefined);
        isDir = s?.isDirectory() ?? false;
        isFile = s?.isFile() ?? false;
        if (isDir) continue; // do not follow directory links (cycles)
      }
      if (isDir) await visit(childRel);
      else if (isFile) out.push(childRel);
    }
  };
  await visit('');
  return out.sort();
}

function localError(err: unknown, what: string): InputError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'ENOSPC'
          ? 'no space left on device'
          : (code ?? (err instanceof Error ? err.message : String(err)));
  return new InputError(`${what}: ${reason}`, { cause: err });
}

function contentLength(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

function pick(opts: TransferOptions): { signal?: AbortSignal } {
  return opts.signal ? { signal: opts.signal } : {};
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure stops new work and is thrown. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}
