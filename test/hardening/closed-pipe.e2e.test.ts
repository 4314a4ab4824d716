import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/onnx/builder.js';
import { mlvBin, runMlv, tempDir } from '../helpers/cli.js';
import { clientFor, fixture } from '../e2e/registry-helpers.js';

/**
 * Issue 11, D14: a reader that stops early (`mlv --help | head -30`, `grep -m1`) is no crash.
 * Every command that can print more than a pipe buffer (64 KiB) runs with its stdout closed
 * after the first line: no stack trace, no "internal error", exit 141 (what a shell reports for
 * SIGPIPE, see README "Exit codes") when output was lost, and the registry unchanged or complete.
 */

interface Cut {
  code: number | null;
  firstLine: string;
  stderr: string;
}

/** Runs mlv and closes the read end of its stdout after the first line (or at once with `atOnce`). */
function runCut(args: string[], cwd: string, atOnce = false): Promise<Cut> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1', CI: 'true', MLFLOW_TRACKING_URI: '', MLV_HOME: '' };
    const child = spawn(process.execPath, [mlvBin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    if (atOnce) child.stdout.destroy();
    else {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) child.stdout.destroy();
      });
    }
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, firstLine: out.split('\n')[0]!, stderr });
    });
  });
}

function expectQuiet(r: Cut): void {
  expect(r.stderr).not.toContain('EPIPE');
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain('internal error');
}

const COMMANDS = ['register', 'show', 'compare', 'promote', 'rollback', 'smoke', 'sample-size', 'analyze', 'server'];

describe.concurrent('--help with a closed stdout', () => {
  it.each([[[]], ...COMMANDS.map((c) => [[c]])])('mlv %j --help', async (cmd) => {
    const dir = tempDir();
    const cut = await runCut([...cmd, '--help'], dir);
    expectQuiet(cut);
    expect(cut.firstLine).toMatch(/^Usage: mlv/);
    expect([0, 141]).toContain(cut.code);
    // closed before the first write: the write fails for sure
    const closed = await runCut([...cmd, '--help'], dir, true);
    expectQuiet(closed);
    expect(closed.code).toBe(141);
  });
});

describe('large outputs with stdout closed after the first line', () => {
  const dir = tempDir('mlv-pipe-');
  const VERSIONS = 250;

  beforeAll(async () => {
    // 1000 long params per version: compare --all prints them all
    const params = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`p${i}`, `${i}-${'x'.repeat(100)}`]));
    writeFileSync(path.join(dir, 'p1.json'), JSON.stringify(params));
    writeFileSync(path.join(dir, 'p2.json'), JSON.stringify({ ...params, p0: 'changed' }));
    for (const [i, m] of [
      [1, 'classifier-v1.onnx'],
      [2, 'classifier-v2.onnx'],
    ] as const) {
      const r = await runMlv(['register', fixture(m), '--name', 'wide', '--params-file', `p${i}.json`], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    // a model with many versions, written straight into the store
    const first = await runMlv(['--json', 'register', fixture('classifier-v1.onnx'), '--name', 'many'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const { source, run_id } = first.json<{ source: string; run_id: string }>();
    const { startServer } = await import('../../src/server/index.js');
    const server = await startServer({ storeDir: path.join(dir, '.mlv'), host: '127.0.0.1', port: 0 });
    const client = clientFor(server.url);
    try {
      for (let i = 2; i <= VERSIONS; i++) {
        await client.createModelVersion({ name: 'many', source, runId: run_id, tags: { 'mlv.semver': `1.0.${i}` } });
      }
    } finally {
      await client.close();
      await server.close();
    }
    // an A/B test with many arms
    const rows = ['variant,metric,n,conversions', 'control,conv,10000,500'];
    for (let i = 1; i <= 200; i++) rows.push(`v${i},conv,10000,${480 + (i % 50)}`);
    writeFileSync(path.join(dir, 'arms.csv'), rows.join('\n') + '\n');
    // a model with many outputs
    const outputs = Array.from({ length: 700 }, (_, i) => `out_${i}`);
    writeFileSync(
      path.join(dir, 'many-outputs.onnx'),
      encodeModel({
        graphName: 'many_outputs',
        inputs: [{ name: 'x', elemType: 'float', shape: ['batch', 2] }],
        outputs: outputs.map((name) => ({ name, elemType: 'float', shape: ['batch', 2] })),
        nodes: outputs.map((name) => ({ op: 'Identity', inputs: ['x'], outputs: [name] })),
      }),
    );
  }, 120_000);

  it.each([
    [['--json', 'show', 'many', '--limit', '0']],
    [['compare', 'wide', '1', '2', '--all']],
    [['--json', 'compare', 'wide', '1', '2', '--all']],
    [['--json', 'analyze', '--summary', 'arms.csv', '--correction', 'none']],
    [['--json', 'smoke', 'many-outputs.onnx', '--iterations', '1', '--warmup', '0']],
  ])('mlv %j', async (args) => {
    const [full, cut, closed] = await Promise.all([
      runMlv(args, { cwd: dir }),
      runCut(args, dir),
      runCut(args, dir, true),
    ]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout.length).toBeGreaterThan(65536);
    expectQuiet(cut);
    expect(cut.firstLine).toBe(full.stdout.split('\n')[0]);
    // The reader may have drained the pipe before it closed it: then nothing was lost (0).
    expect([0, 141]).toContain(cut.code);
    expectQuiet(closed);
    expect(closed.code).toBe(141);
  });

  it('register with stdout closed at once: exit 141, and the version is complete', async () => {
    const cut = await runCut(['--json', 'register', fixture('multi-input.onnx'), '--name', 'closed'], dir, true);
    expectQuiet(cut);
    expect(cut.code).toBe(141);
    const show = await runMlv(['--json', 'show', 'closed'], { cwd: dir });
    const versions = show.json<{ versions: { status: string; run_id: string }[] }>().versions;
    expect(versions.map((v) => v.status)).toEqual(['READY']);
  });
});
