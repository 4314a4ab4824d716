import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli.js';

/**
 * Start-up stays fast only if the heavy modules load inside the commands that need them.
 * Builds the whole program (every command registered) the way `mlv --help` does, then lists the
 * CommonJS packages that got loaded (ESM imports of CJS packages land in require.cache).
 */
function packagesLoadedBy(script: string): string[] {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  const files = JSON.parse(out) as string[];
  const names = new Set<string>();
  for (const f of files) {
    const m = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(f);
    if (m) names.add(m[1]!.split(path.sep).join('/'));
  }
  return [...names].sort();
}

describe('start-up', () => {
  it('building the program loads none of undici, better-sqlite3, onnxruntime-node, protobufjs, ora, inquirer', () => {
    const loaded = packagesLoadedBy(`
      import { createRequire } from 'node:module';
      const { buildProgram } = await import('./dist/program.js');
      const program = buildProgram();
      program.helpInformation();
      for (const c of program.commands) c.helpInformation();
      console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));
    `);
    // The probe sees CommonJS packages: commander is one, so an empty list would mean a broken probe.
    expect(loaded).toContain('commander');
    for (const heavy of [
      'undici',
      'better-sqlite3',
      'onnxruntime-node',
      'onnxruntime-common',
      'protobufjs',
      'onnx-proto',
      'ora',
      '@inquirer/prompts',
    ]) {
      expect(loaded, `${heavy} is loaded at start-up`).not.toContain(heavy);
    }
  });
});
