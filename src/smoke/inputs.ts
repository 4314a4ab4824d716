import path from 'node:path';
import type { Context } from '../context.js';
import { parseModelsUri } from '../core/registry/refs.js';
import { generateInputs } from '../core/smoke/generate.js';
import { parseGoldenFile } from '../core/smoke/golden.js';
import type { ModelFacts } from '../core/smoke/report.js';
import { tensorsFromDocument, tensorsFromLines } from '../core/smoke/records.js';
import type { HostTensor, TensorSpec } from '../core/smoke/tensor.js';
import { InputError } from '../errors.js';
import { readInputText } from '../io/input.js';

/** What the smoke runner reads: the models (local or models:/…), the input file and the golden file. */

export interface LoadedModel extends ModelFacts {
  /** Absolute path of the .onnx file. */
  file: string;
}

/** Resolves MODEL (file, directory or models:/) and reads its declared inputs and outputs. */
export async function loadModel(ctx: Context, ref: string): Promise<LoadedModel> {
  const { readOnnxInfo, toTensorSpecs } = await import('../onnx/model-info.js');
  const { file, label, sha256 } = await locateModel(ctx, ref);
  const info = await readOnnxInfo(file).catch((err: unknown) => {
    // Name the model as the user did, not by the cache path.
    if (err instanceof InputError && label !== path.basename(file)) {
      throw new InputError(err.message.replace(path.basename(file), label), { code: err.code });
    }
    throw err;
  });
  return { ref, label, file, sha256, inputs: toTensorSpecs(info.inputs), outputs: toTensorSpecs(info.outputs) };
}

/** The .onnx file of MODEL: downloaded (and verified) for models:/…, else the local file or directory. */
async function locateModel(ctx: Context, ref: string): Promise<{ file: string; label: string; sha256: string }> {
  const uri = parseModelsUri(ref);
  if (!uri) {
    const { resolveLocalModel } = await import('../onnx/resolve.js');
    const { sha256File } = await import('../registry/artifact.js');
    const local = await resolveLocalModel(ref, ctx.cwd);
    return { file: local.file, label: local.label, sha256: await sha256File(local.file, ctx.signal) };
  }
  const { cacheRoot, fetchModel } = await import('../registry/model-files.js');
  const fetched = await fetchModel(
    await ctx.mlflow(),
    { ...uri, display: ref },
    {
      cacheDir: cacheRoot(ctx.env),
      signal: ctx.signal,
      debug: (m) => ctx.debug(m),
      warn: (m) => ctx.warn(m),
      downloading: (text) => {
        const spinner = ctx.spinner(text);
        return () => spinner.stop();
      },
    },
  );
  const label = uri.ref.kind === 'version' ? ref : `${ref} (version ${fetched.version.version})`;
  return { file: fetched.onnxPath, label, sha256: fetched.sha256 };
}

export async function readText(ctx: Context, file: string, flag: string): Promise<string> {
  return readInputText(file, { what: flag, cwd: ctx.cwd, stdin: ctx.stdin });
}

/** JSON, or JSON Lines when the name says so or the text is several JSON values, one a line. */
function parseJsonOrLines(text: string, label: string, preferLines: boolean): { doc: unknown } | { lines: unknown[] } {
  const asLines = () => {
    const lines: unknown[] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        lines.push(JSON.parse(line));
      } catch (err) {
        throw new InputError(`${label} line ${i + 1} is not valid JSON: ${(err as Error).message}`);
      }
    });
    if (lines.length === 0) throw new InputError(`${label} is empty`);
    return { lines };
  };
  if (preferLines) return asLines();
  try {
    return { doc: JSON.parse(text) };
  } catch (err) {
    const nonEmpty = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (nonEmpty.length > 1 && nonEmpty.every((l) => /^\s*\{.*\}\s*$/.test(l))) return asLines();
    if (text.trim() === '') throw new InputError(`${label} is empty`);
    throw new InputError(`${label} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The golden file of --expect-outputs. */
export async function readGoldenFile(ctx: Context, file: string): Promise<ReturnType<typeof parseGoldenFile>> {
  const label = `--expect-outputs ${file}`;
  const parsed = parseJsonOrLines(await readText(ctx, file, '--expect-outputs'), label, false);
  return parseGoldenFile('doc' in parsed ? parsed.doc : null, label);
}

export interface InputBatch {
  tensors: Record<string, HostTensor>;
  /** The --input file, `<golden> (recorded inputs)`, or `generated`. */
  source: string;
  /** The seed of generated inputs; null when they were read. */
  seed: number | null;
}

/** The inputs to run: --input, else the golden file's recorded inputs, else generated from the seed. */
export async function chooseInputs(
  ctx: Context,
  specs: TensorSpec[],
  opts: {
    input?: string | undefined;
    golden?: ReturnType<typeof parseGoldenFile> | undefined;
    goldenFile?: string | undefined;
    seed: number;
    batch: number;
    dims?: Record<string, number> | undefined;
  },
): Promise<InputBatch> {
  if (opts.input !== undefined) {
    const label = `--input ${opts.input}`;
    const text = await readText(ctx, opts.input, '--input');
    const parsed = parseJsonOrLines(text, label, /\.(jsonl|ndjson)$/i.test(opts.input));
    const tensors =
      'doc' in parsed ? tensorsFromDocument(parsed.doc, specs, label) : tensorsFromLines(parsed.lines, specs, label);
    return { tensors, source: opts.input, seed: null };
  }
  if (opts.golden?.inputsDocument) {
    ctx.debug(`replaying the inputs recorded in ${opts.goldenFile}`);
    return {
      tensors: tensorsFromDocument(opts.golden.inputsDocument, specs, `--expect-outputs ${opts.goldenFile} inputs`),
      source: `${opts.goldenFile} (recorded inputs)`,
      seed: null,
    };
  }
  return {
    tensors: generateInputs(specs, { seed: opts.seed, batch: opts.batch, dims: opts.dims }),
    source: 'generated',
    seed: opts.seed,
  };
}
