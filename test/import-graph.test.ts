import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli.js';

/**
 * The import graph of src/: every static import, `export … from`, `import('…')` call and
 * `import('…')` type (TypeScript's own pre-processor reads them, so comments and strings don't
 * count). Type-only edges count too: a type cycle is still two modules that can't be read apart.
 *
 *   main.ts → program.ts → commands/ → run.ts, context.ts → registry, smoke, io, serve, rollout,
 *   onnx, mlflow, server, terminal, signals.ts → core/ → errors.ts
 *
 * eslint.config.js (rule mlv/layers) reports the same directions at the import; this test sees the
 * whole graph, so it also catches cycles.
 */
const src = path.join(repoRoot, 'src');

const middle = ['registry', 'smoke', 'io', 'serve', 'rollout', 'onnx', 'mlflow', 'server', 'terminal'];

/** A higher rank may import a lower one; equal ranks only within the middle layer (and no cycle). */
function rank(file: string): number {
  const top = file.split('/')[0]!;
  if (file === 'main.ts') return 6;
  if (file === 'program.ts') return 5;
  if (top === 'commands') return 4;
  if (file === 'run.ts' || file === 'context.ts') return 3;
  if (middle.includes(top) || file === 'signals.ts') return 2;
  if (top === 'core') return 1;
  if (file === 'errors.ts') return 0;
  throw new Error(`src/${file} is in no layer: add its folder to test/import-graph.test.ts and eslint/layers.js`);
}

/**
 * Edges tolerated for now, each owned by a change in flight. Remove a line when its edge goes;
 * the last test fails if a line here names an edge that no longer exists.
 */
const tolerated: [string, string, string][] = [
  // TODO(registry): the smoke runner takes what it uses (cwd, signal, spinner, warn), not the command Context.
  ['smoke/run.ts', 'context.ts', 'registry'],
  ['smoke/inputs.ts', 'context.ts', 'registry'],
];
const isTolerated = (from: string, to: string) => tolerated.some(([a, b]) => a === from && b === to);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(src, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

const files = sourceFiles(src);
const known = new Set(files);

/** src-relative file → the src-relative files it imports. */
const graph = new Map<string, string[]>();
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(path.join(src, file), 'utf8'), true, true);
  const targets = importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
  graph.set(file, [...new Set(targets)]);
}
const edges = [...graph].flatMap(([from, tos]) => tos.map((to) => [from, to] as const));

/** Tarjan's strongly connected components with more than one file (or a file importing itself). */
function cycles(g: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (g.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import graph of src/', () => {
  it('reads the imports it should (the probe works)', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(graph.get('main.ts')).toContain('program.ts');
    // program.ts loads its commands with import('./commands/…'): dynamic imports are edges too.
    expect(graph.get('program.ts')).toContain('commands/sample-size.ts');
    expect(edges.length).toBeGreaterThan(100);
  });

  it('every relative import names a file of src/', () => {
    const outside = edges.filter(([, to]) => !known.has(to)).map(([from, to]) => `${from} → ${to}`);
    expect(outside).toEqual([]);
  });

  it('has no cycle, type-only imports included', () => {
    const withoutTolerated = new Map(
      [...graph].map(([from, tos]) => [from, tos.filter((to) => !isTolerated(from, to))]),
    );
    expect(cycles(withoutTolerated)).toEqual([]);
    // Without the tolerated edges the check above is blind to nothing: it sees real cycles.
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
  });

  it('has no cycle between the folders of src/ either (mlflow/ → server/ rules out server/ → mlflow/)', () => {
    const folder = (f: string) => (f.includes('/') ? f.slice(0, f.indexOf('/') + 1) : f);
    const folders = new Map<string, string[]>();
    for (const [from, to] of edges) {
      if (isTolerated(from, to) || folder(from) === folder(to)) continue;
      const list = folders.get(folder(from)) ?? [];
      if (!list.includes(folder(to))) list.push(folder(to));
      folders.set(folder(from), list);
    }
    expect(folders.get('mlflow/')).toContain('server/'); // the folder graph is read
    expect(cycles(folders)).toEqual([]);
  });

  it('points inward: commands → registry/io/onnx/mlflow/server/terminal/… → core → errors.ts', () => {
    const upward: string[] = [];
    for (const [from, to] of edges) {
      if (isTolerated(from, to) || !known.has(to)) continue;
      const [a, b] = [rank(from), rank(to)];
      const lateral = a === b && (a === 2 || (a === 1 && to.startsWith('core/')) || to === 'commands/args.ts');
      const contextFromRun = from === 'run.ts' && to === 'context.ts';
      if (a > b || lateral || contextFromRun) continue;
      upward.push(`${from} → ${to}`);
    }
    expect(upward).toEqual([]);
  });

  it('core/ imports nothing outside core/ but errors.ts, and no package but semver', () => {
    const leaks: string[] = [];
    for (const file of files.filter((f) => f.startsWith('core/'))) {
      const { importedFiles } = ts.preProcessFile(readFileSync(path.join(src, file), 'utf8'), true, true);
      for (const { fileName } of importedFiles) {
        if (!fileName.startsWith('.') && !/^semver(\/|$)/.test(fileName)) leaks.push(`${file} → ${fileName}`);
      }
    }
    for (const [from, to] of edges) {
      if (from.startsWith('core/') && !to.startsWith('core/') && to !== 'errors.ts') leaks.push(`${from} → ${to}`);
    }
    expect(leaks).toEqual([]);
  });

  it('nothing but program.ts imports a command file (commands share only commands/args.ts)', () => {
    const users = edges
      .filter(([from, to]) => to.startsWith('commands/') && !isTolerated(from, to))
      .filter(([from, to]) => from !== 'program.ts' && !(from.startsWith('commands/') && to === 'commands/args.ts'))
      .map(([from, to]) => `${from} → ${to}`);
    expect(users).toEqual([]);
  });

  it('tolerates only edges that still exist', () => {
    const gone = tolerated
      .filter(([from, to]) => !graph.get(from)?.includes(to))
      .map(([a, b, who]) => `${a} → ${b} (${who})`);
    expect(gone, 'remove these lines from `tolerated`').toEqual([]);
  });
});
