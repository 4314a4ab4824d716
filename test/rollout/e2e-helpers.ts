import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeModel, type NodeSpec } from '../../src/onnx/builder.js';
import { mlvBin } from '../helpers/cli.js';
import { invoke } from '../serve/helpers.js';

/** Helpers of the rollout end-to-end tests: a slow classifier, a load loop, a killable mlv. */

/**
 * A classifier with the fixture classifier's signature (features [N, 4] → label, probabilities)
 * that spends a few milliseconds per row in a chain of 512×512 MatMul/Tanh layers: the "slow
 * candidate" whose latency degrades.
 */
export function writeSlowClassifier(dir: string, layers = 64): string {
  const size = 512;
  const w = (n: number, m: number, seed: number) =>
    Array.from({ length: n * m }, (_, k) => Math.sin(k * 0.37 + seed) / Math.sqrt(n));
  const nodes: NodeSpec[] = [{ op: 'MatMul', inputs: ['features', 'Win'], outputs: ['h'] }];
  let prev = 'h';
  for (let l = 0; l < layers; l++) {
    nodes.push({ op: 'MatMul', inputs: [prev, 'W'], outputs: [`m${l}`] });
    nodes.push({ op: 'Tanh', inputs: [`m${l}`], outputs: [`t${l}`] });
    prev = `t${l}`;
  }
  nodes.push({ op: 'MatMul', inputs: [prev, 'Wout'], outputs: ['logits'] });
  nodes.push({ op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: 1 } });
  nodes.push({ op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } });
  const file = path.join(dir, 'slow-classifier.onnx');
  writeFileSync(
    file,
    encodeModel({
      graphName: 'slow_classifier',
      inputs: [{ name: 'features', elemType: 'float', shape: ['N', 4] }],
      outputs: [
        { name: 'label', elemType: 'int64', shape: ['N'] },
        { name: 'probabilities', elemType: 'float', shape: ['N', 2] },
      ],
      initializers: [
        { name: 'Win', elemType: 'float', dims: [4, size], data: w(4, size, 1) },
        { name: 'W', elemType: 'float', dims: [size, size], data: w(size, size, 2) },
        { name: 'Wout', elemType: 'float', dims: [size, 2], data: w(size, 2, 3) },
      ],
      nodes,
    }),
  );
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
