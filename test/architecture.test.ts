import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli.js';

/**
 * No command imports another command: what two commands share lives below src/commands/
 * (src/registry/move.ts, src/registry/pick.ts, src/smoke/run.ts …). A command file is one that
 * registers a command (`export function registerX`); helpers such as args.ts may be shared.
 * (The ESLint config holds the other layer rules.)
 */

const commandsDir = path.join(repoRoot, 'src/commands');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** Every module specifier of static imports, re-exports and dynamic import() calls. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\1/g)) out.push(m[2]!);
  return out;
}

describe('architecture', () => {
  it('no file in src/commands/ imports another command file', () => {
    const files = tsFiles(commandsDir);
    const isCommand = new Set(
      files.filter((f) => /export\s+function\s+register[A-Z]\w*\s*\(/.test(readFileSync(f, 'utf8'))),
    );
    expect(isCommand.size).toBeGreaterThanOrEqual(8); // the scan finds the commands it guards
    const offences: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
        if (target !== file && isCommand.has(target)) {
          offences.push(`${path.relative(repoRoot, file)} imports ${spec}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  it('the scan sees static and dynamic imports', () => {
    expect(
      specifiers(`import { a } from './promote.js';\nconst { b } = await import('./smoke.js');\nimport './x.js';`),
    ).toEqual(['./promote.js', './smoke.js', './x.js']);
  });
});
