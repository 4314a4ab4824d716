import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { condaYaml, onnxMlmodel, onnxRequirements, pythonEnvYaml } from '../core/registry/mlmodel.js';
import { InputError } from '../errors.js';
import type { OnnxInfo } from '../onnx/model-info.js';

/**
 * The model artifact on disk: what it is, its digest, and the files to upload under the run's
 * `model/` directory.
 */

export type ArtifactKind = 'onnx' | 'file' | 'directory' | 'mlflow-model';

export interface ArtifactFile {
  /** POSIX path relative to the artifact root (the file name for a single file). */
  rel: string;
  abs: string;
  size: number;
}

export interface Artifact {
  /** The path as given, resolved. */
  path: string;
  kind: ArtifactKind;
  /** Files in byte order of their relative path. */
  files: ArtifactFile[];
  sizeBytes: number;
}

/** Reads what `input` is. InputError (exit 2) when it is missing, empty or unreadable. */
export async function inspectArtifact(input: string, cwd: string): Promise<Artifact> {
  const abs = path.resolve(cwd, input);
  let st;
  try {
    st = await stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new InputError(`model path ${input} does not exist`, {
        hint: 'pass an .onnx file, a model file or a model directory',
      });
    throw new InputError(`cannot read model path ${input}: ${(err as Error).message}`);
  }
  if (st.isFile()) {
    const kind: ArtifactKind = abs.toLowerCase().endsWith('.onnx') ? 'onnx' : 'file';
    return { path: abs, kind, files: [{ rel: path.basename(abs), abs, size: st.size }], sizeBytes: st.size };
  }
  if (!st.isDirectory()) throw new InputError(`model path ${input} is neither a file nor a directory`);
  const files = await listFiles(abs);
  if (files.length === 0) throw new InputError(`model directory ${input} is empty`);
  const kind: ArtifactKind = files.some((f) => f.rel === 'MLmodel') ? 'mlflow-model' : 'directory';
  return { path: abs, kind, files, sizeBytes: files.reduce((s, f) => s + f.size, 0) };
}

/** Every regular file below `root` (symlinks followed when they point at files), sorted by relative path. */
async function listFiles(root: string): Promise<ArtifactFile[]> {
  const out: ArtifactFile[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = await stat(abs).catch(() => undefined);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
        if (isDir) continue; // directory symlinks could loop; the digest covers regular files only
      }
      if (isDir) await walk(abs, rel);
      else if (isFile) out.push({ rel, abs, size: (await stat(abs)).size });
    }
  };
  await walk(root, '');
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)));
}

/** sha256 of a file's bytes, streamed (what `sha256sum FILE` prints); InputError when it cannot be read. */
export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) {
      hash.update(chunk as Buffer);
    }
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new InputError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return hash.digest('hex');
}

/**
 * The artifact's sha256, streamed (a large model is never held in memory):
 *  - a file: sha256 of its bytes (what `sha256sum FILE` prints);
 *  - a directory: sha256 over one line per file, in byte order of the relative POSIX path:
 *    `<sha256 of the file's bytes>  <relative path>\n` — i.e. the sha256 of the output of
 *    `find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum`. Names and contents both
 *    count; timestamps, permissions and empty directories do not.
 */
export async function artifactSha256(artifact: Artifact, signal?: AbortSignal): Promise<string> {
  if (artifact.kind === 'onnx' || artifact.kind === 'file') return sha256File(artifact.path, signal);
  return filesSha256(artifact.files, signal);
}

/** The directory digest of artifactSha256 for a directory on disk (a downloaded model, say). */
export async function directorySha256(root: string, signal?: AbortSignal): Promise<string> {
  return filesSha256(await listFiles(root), signal);
}

async function filesSha256(files: readonly ArtifactFile[], signal?: AbortSignal): Promise<string> {
  const outer = createHash('sha256');
  for (const f of files) outer.update(`${await sha256File(f.abs, signal)}  ${f.rel}\n`);
  return outer.digest('hex');
}

/** One file to upload, relative to the run's artifact root. */
export interface UploadItem {
  /** `model/model.onnx`. */
  path: string;
  /** A file on disk (streamed), or generated content. */
  file?: string;
  content?: string;
  size: number;
}

export const MODEL_DIR = 'model';

/**
 * What to upload under `model/`:
 *  - an .onnx file → MLflow's ONNX layout: model.onnx, MLmodel (onnx + python_function flavors,
 *    signature from the graph), requirements.txt, conda.yaml, python_env.yaml;
 *  - an MLflow model directory (has MLmodel) or any other directory → its files as they are;
 *  - any other file → the file under its own name.
 */
export function uploadPlan(
  artifact: Artifact,
  opts: {
    runId: string;
    now: Date;
    onnx?: { info: OnnxInfo; signature: { inputs: string | null; outputs: string | null } };
    metadata: Record<string, string>;
    modelId?: string;
  },
): UploadItem[] {
  if (artifact.kind === 'onnx' && opts.onnx) {
    const opset = opts.onnx.info.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
    const requirements = onnxRequirements(opset);
    const mlmodel = onnxMlmodel({
      dataFile: 'model.onnx',
      runId: opts.runId,
      modelUuid: randomBytes(16).toString('hex'),
      sizeBytes: artifact.sizeBytes,
      createdAt: opts.now,
      signature: opts.onnx.signature,
      opset,
      metadata: opts.metadata,
      ...(opts.modelId ? { modelId: opts.modelId } : {}),
    });
    const text = (p: string, content: string): UploadItem => ({
      path: `${MODEL_DIR}/${p}`,
      content,
      size: Buffer.byteLength(content),
    });
    return [
      { path: `${MODEL_DIR}/model.onnx`, file: artifact.path, size: artifact.sizeBytes },
      text('MLmodel', mlmodel),
      text('requirements.txt', requirements),
      text('conda.yaml', condaYaml(requirements)),
      text('python_env.yaml', pythonEnvYaml()),
    ];
  }
  return artifact.files.map((f) => ({ path: `${MODEL_DIR}/${f.rel}`, file: f.abs, size: f.size }));
}
