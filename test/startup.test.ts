import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandNames } from '../src/program.js';
import { mlvBin, repoRoot, tempDir } from './helpers/cli.js';

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
      const program = await buildProgram();
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

  // A resolve hook (off-thread, so it appends to a file) records every module file that loads.
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      if (r.url.startsWith('file:')) appendFileSync(process.env.MLV_TEST_MODULE_LOG, r.url + '\\n');
      return r;
    }`)}`;
  const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hook)});`)}`;

  function modulesLoadedBy(args: string[]): string[] {
    const log = path.join(tempDir('mlv-startup-'), 'modules.log');
    execFileSync(process.execPath, ['--import', register, mlvBin, ...args], {
      cwd: repoRoot,
      env: { ...process.env, MLV_TEST_MODULE_LOG: log, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))].sort();
  }
  /** The modules of dist/ that `mlv args…` loads, relative to dist/. */
  const distModulesLoadedBy = (args: string[]) =>
    modulesLoadedBy(args)
      .filter((url) => url.includes('/dist/'))
      .map((url) => url.split('/dist/')[1]!);

  it('mlv --help (every command registered) imports none of the heavy packages', () => {
    const packages = new Set(
      modulesLoadedBy(['--help']).flatMap((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? []),
    );
    expect(packages).toContain('commander'); // the probe sees packages
    for (const heavy of [
      'onnxruntime-node',
      'better-sqlite3',
      'undici',
      'prom-client',
      '@kubernetes/client-node',
      '@duckdb/node-api',
      'yaml',
      'protobufjs',
      'onnx-proto',
      'ora',
      '@inquirer/prompts',
    ]) {
      expect(packages, `${heavy} is imported at start-up`).not.toContain(heavy);
    }
  });

  it('mlv --version loads no command module', () => {
    const loaded = distModulesLoadedBy(['--version']);
    expect(loaded).toContain('program.js'); // the probe works
    expect(loaded.filter((m) => m.startsWith('commands/'))).toEqual([]);
  });

  it('mlv sample-size loads only its own command module (and the shared flag parsers)', () => {
    const loaded = distModulesLoadedBy([
      '--tracking-uri',
      'promote',
      'sample-size',
      '--baseline',
      '0.1',
      '--mde',
      '0.02',
    ]);
    expect(loaded.filter((m) => m.startsWith('commands/'))).toEqual(['commands/args.js', 'commands/sample-size.js']);
  });

  it.each([
    ['help', 'promote'],
    ['promote', '--help'],
  ])('mlv %s %s loads promote', (...args) => {
    const commands = distModulesLoadedBy(args).filter((m) => m.startsWith('commands/'));
    expect(commands).toContain('commands/promote.js');
    expect(commands).not.toContain('commands/register.js');
  });

  it('the events reader thread (dist/io/events/worker.js) loads only the reader: no statistics, streams or zlib', () => {
    // Its start-up is on the clock of `mlv analyze --events` with --threads: the static imports of
    // the built worker (type-only imports are gone from the JS), followed file by file.
    const dist = path.join(repoRoot, 'dist');
    const files = new Set<string>();
    const builtins = new Set<string>();
    const visit = (file: string) => {
      if (files.has(file)) return;
      files.add(file);
      const { importedFiles } = ts.preProcessFile(readFileSync(path.join(dist, file), 'utf8'), true, true);
      for (const { fileName } of importedFiles) {
        if (fileName.startsWith('.')) visit(path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName)));
        else builtins.add(fileName);
      }
    };
    visit('io/events/worker.js');
    expect(files).toContain('io/events/accumulator.js'); // the probe follows imports
    expect([...files].filter((f) => f.startsWith('core/stats/') || f.startsWith('terminal/'))).toEqual([]);
    expect(files).not.toContain('core/experiment/analyze.js');
    expect(files).not.toContain('io/input.js');
    expect([...builtins].sort()).toEqual(['node:fs/promises', 'node:worker_threads']);
  });

  it('each entry of the command table registers exactly the command it is named for', async () => {
    expect((await buildProgram()).commands.map((c) => c.name())).toEqual(commandNames);
    for (const name of commandNames) {
      const program = await buildProgram(['node', 'mlv', name, '--help']);
      expect(program.commands.map((c) => c.name())).toEqual([name]);
    }
  });
});
