import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';

/**
 * Where a MODEL argument's .onnx file is: a local file, or a directory in MLflow's model layout
 * (its MLmodel file's `onnx` flavor names the file). `models:/…` references are downloaded by
 * src/registry/model-files.ts into the cache and then land here.
 */

export interface ResolvedModel {
  /** The MODEL argument as given (what the report calls the model). */
  ref: string;
  /** Absolute path of the .onnx file. */
  file: string;
  /** How messages name the model: the file's path relative to the working directory when shorter. */
  label: string;
}

/**
 * The `onnx` flavor's model file in an MLmodel document: `data:` as mlflow.onnx writes it
 * (older writers used `onnx_model:`). Only the two-level `flavors: onnx:` block is read, so a
 * full YAML parser is not needed. Undefined when there is no onnx flavor.
 */
export function onnxFileFromMlmodel(text: string): string | undefined {
  let inFlavors = false;
  let flavorIndent = -1; // indent of the flavor names under `flavors:`
  let flavor = '';
  let keyIndent = -1; // indent of the current flavor's own keys
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      inFlavors = /^flavors:\s*$/.test(line);
      flavorIndent = -1;
      continue;
    }
    const key = /^\s+([\w.-]+):\s*(.*?)\s*$/.exec(line);
    if (!inFlavors || !key) continue;
    if (flavorIndent < 0) flavorIndent = indent;
    if (indent === flavorIndent) {
      flavor = key[1]!;
      keyIndent = -1;
      continue;
    }
    if (indent < flavorIndent || flavor !== 'onnx') continue;
    if (keyIndent < 0) keyIndent = indent;
    if (indent === keyIndent && (key[1] === 'data' || key[1] === 'onnx_model')) {
      const value = key[2]!.replace(/^(['"])(.*)\1$/, '$2');
      if (value && value !== 'null') return value;
    }
  }
  return undefined;
}

function labelFor(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

/**
 * A local MODEL argument: an .onnx file or an MLflow model directory. `display` names it in
 * messages when `ref` is not what the user typed (a download directory for models:/…).
 */
export async function resolveLocalModel(ref: string, cwd: string, display = ref): Promise<ResolvedModel> {
  const target = path.resolve(cwd, ref);
  let info;
  try {
    info = await stat(target);
  } catch {
    throw new InputError(`model ${ref} does not exist`, {
      hint: 'MODEL is an .onnx file, an MLflow model directory, or models:/NAME/VERSION|@alias|v1.2.0',
    });
  }
  if (info.isFile()) return { ref, file: target, label: labelFor(target, cwd) };
  if (!info.isDirectory()) throw new InputError(`model ${ref} is neither a file nor a directory`);

  let mlmodel: string | undefined;
  try {
    mlmodel = await readFile(path.join(target, 'MLmodel'), 'utf8');
  } catch {
    mlmodel = undefined;
  }
  let name: string | undefined;
  if (mlmodel !== undefined) {
    name = onnxFileFromMlmodel(mlmodel);
    if (name === undefined) {
      const flavors = [...mlmodel.matchAll(/^ {2}([\w.-]+):\s*$/gm)].map((m) => m[1]).join(', ');
      throw new InputError(
        `${display} is an MLflow model without an onnx flavor${flavors ? ` (flavors: ${flavors})` : ''}`,
        {
          hint: 'log the model with mlflow.onnx.log_model, or pass the .onnx file itself',
        },
      );
    }
  } else {
    // Not an MLflow layout: accept a directory holding exactly one .onnx file.
    const onnxFiles = (await readdir(target)).filter((f) => f.endsWith('.onnx'));
    if (onnxFiles.length !== 1) {
      throw new InputError(
        `${display} has no MLmodel file and ${onnxFiles.length === 0 ? 'no .onnx file' : `${onnxFiles.length} .onnx files`}`,
        { hint: 'pass the .onnx file itself' },
      );
    }
    name = onnxFiles[0]!;
  }
  const file = path.resolve(target, name);
  if (path.relative(target, file).startsWith('..')) {
    throw new InputError(`${display}: MLmodel points outside the model directory (${name})`);
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch {
    throw new InputError(`${display}: MLmodel names ${name}, which is not in the directory`);
  }
  return { ref, file, label: labelFor(file, cwd) };
}
