import type { ServeHost } from './host.js';

/**
 * The one place `mlv serve` gets a model version's file: the registry road's sha256-verified
 * cache (src/registry/model-files.ts), shared with `mlv smoke models:/…`.
 */
export interface FetchedVersion {
  name: string;
  version: string;
  onnxPath: string;
  sha256: string;
}

export async function fetchVersion(ctx: ServeHost, name: string, version: string): Promise<FetchedVersion> {
  const { cacheRoot, fetchModel } = await import('../registry/model-files.js');
  const fetched = await fetchModel(
    await ctx.mlflow(),
    { name, ref: { kind: 'version', version }, display: `${name} version ${version}` },
    {
      cacheDir: cacheRoot(ctx.env),
      signal: ctx.signal,
      debug: (m) => ctx.debug(m),
      warn: (m) => ctx.warn(m),
    },
  );
  return { name, version: fetched.version.version, onnxPath: fetched.onnxPath, sha256: fetched.sha256 };
}
