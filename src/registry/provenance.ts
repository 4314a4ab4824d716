import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseManifest, type Dependencies } from '../core/registry/manifest.js';
import { createdBy, userName } from '../core/registry/provenance.js';
import { inputError } from '../io/input.js';
import type { Artifact } from './artifact.js';

/** Manifests looked for, in this order, when --requirements is not given. */
export const MANIFESTS = ['requirements.txt', 'pyproject.toml', 'package.json'] as const;

export interface FoundDependencies {
  deps: Dependencies;
  /** The file they came from, relative to cwd when below it. */
  source: string;
}

/**
 * Dependency versions: from `--requirements FILE` (any of the manifest formats), else from the
 * first manifest found inside a model directory, else in the working directory. Undefined when
 * there is none.
 */
export async function readDependencies(opts: {
  requirements: string | undefined;
  artifact: Artifact;
  cwd: string;
}): Promise<FoundDependencies | undefined> {
  const rel = (p: string) => {
    const r = path.relative(opts.cwd, p);
    return r.startsWith('..') || path.isAbsolute(r) ? p : r;
  };
  if (opts.requirements !== undefined) {
    const file = path.resolve(opts.cwd, opts.requirements);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw inputError('--requirements', opts.requirements, err);
    }
    return { deps: parseManifest(file, text), source: rel(file) };
  }
  const dirs =
    opts.artifact.kind === 'directory' || opts.artifact.kind === 'mlflow-model'
      ? [opts.artifact.path, opts.cwd]
      : [opts.cwd];
  for (const dir of dirs) {
    for (const name of MANIFESTS) {
      const file = path.join(dir, name);
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      return { deps: parseManifest(file, text), source: rel(file) };
    }
  }
  return undefined;
}

/** The local account name (os.userInfo can throw in containers without a passwd entry). */
function osUser(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

/** Who is acting: the CI job, else the user. */
export function whoAmI(env: NodeJS.ProcessEnv): { user: string; createdBy: string } {
  const user = userName(env, osUser());
  return { user, createdBy: createdBy(env, user) };
}
