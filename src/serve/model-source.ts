import type { Context } from '../context.js';

/**
 * The one place `mlv serve` gets a model version's file: through the registry's sha256-verified
 * cache. (Swap in the registry road's `fetchModel` here when it lands; nothing else changes.)
 */
export interface FetchedVersion {
  name: string;
  version: string;
  onnxPath: string;
  sha256: string;
}

export async function fetchVersion(ctx: Context, name: string, version: string): Promise<FetchedVersion> {
  const { resolveModel } = await import('../onnx/registry-model.js');
  const { sha256File } = await import('../onnx/resolve.js');
  const r = await resolveModel(ctx, `models:/${name}/${version}`);
  return {
    name,
    version: r.registry?.version ?? version,
    onnxPath: r.file,
    sha256: r.sha256 ?? (await sha256File(r.file)),
  };
}
