import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeModel, slowClassifierSpec } from '../../src/onnx/builder.js';
import { mlvBin } from '../helpers/cli.js';
import { invoke } from '../serve/helpers.js';

/** Helpers of the rollout end-to-end tests: a slow classifier, a load loop, a killable mlv. */

/** The slow classifier (src/onnx/builder.ts) written into `dir`: the candidate whose latency degrades. */
export function writeSlowClassifier(dir: string, layers = 64): string {
  const file = path.join(dir, 'slow-classifier.onnx');
  writeFileSync(file, encodeModel(slowClassifierSpec(layers)));
  return file;
}

/** Requests with distinct units at `concurrency` until stopped; counts statuses. */
export function load(url: string, concurrency = 4) {
  let stop = false;
  let i = 0;
  const statuses: Record<number, number> = {};
  const workers = Array.from({ length: concurrency }, async () => {
    while (!stop) {
      try {
        const r = await invoke(url, `u${i++}`);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      } catch {
        statuses[0] = (statuses[0] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    statuses,
    async stop() {
      stop = true;
      await Promise.all(workers);
    },
  };
}

/** `mlv …` as a child process we can kill (runMlv waits for the end). */
export function spawnMlv(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const child = spawn(process.execPath, [mlvBin, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', CI: 'true', HOME: cwd, MLV_HOME: path.join(cwd, '.mlv'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}
