#!/usr/bin/env node
// Benchmark of `mlv smoke`: how much it adds over onnxruntime-node itself.
//   1. throughput: `mlv smoke --json` next to a bare onnxruntime-node loop (same model, same
//      generated inputs, same threads, same warm-up and iterations); the ratio is the figure.
//      Also the whole command's wall time next to a bare "load + run" script.
//   2. peak memory (max RSS) of smoking a ~100 MB model (generated once into bench/out/), next
//      to the bare script's on the same model.
// Needs `npm run build` first (npm run bench does it). Runs on its own: node bench/smoke.bench.mjs
//   BENCH_SMOKE_ROUNDS=5 BENCH_SMOKE_ITERATIONS=500 node bench/smoke.bench.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readUsage, usageHook } from './usage.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.join(here, 'out');
const dist = path.join(root, 'dist');
const ROUNDS = Number(process.env.BENCH_SMOKE_ROUNDS ?? 3);
const ITERATIONS = Number(process.env.BENCH_SMOKE_ITERATIONS ?? 300);
const WARMUP = 20;
const THREADS = 1;

if (!existsSync(path.join(dist, 'commands', 'smoke.js'))) {
  console.error('bench/smoke.bench.mjs needs the build: run `npm run build` first');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const hook = usageHook(out);

/** The bare loop: what a hand-written onnxruntime-node script would do, inputs made by mlv's generator. */
const bareScript = path.join(out, 'bare-ort.mjs');
writeFileSync(
  bareScript,
  `import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { readOnnxInfoSync, toTensorSpecs } from ${JSON.stringify(pathToFileURL(path.join(dist, 'onnx/model-info.js')).href)};
import { generateInputs } from ${JSON.stringify(pathToFileURL(path.join(dist, 'core/smoke/generate.js')).href)};
const [file, batch, iterations, warmup, threads, specsFrom] = process.argv.slice(2);
const t0 = performance.now();
const session = await ort.InferenceSession.create(file, { intraOpNumThreads: Number(threads), interOpNumThreads: 1, logSeverityLevel: 4 });
// Input specs: from onnxruntime's own metadata, unless told to read them like mlv does.
const specs = specsFrom === 'proto'
  ? toTensorSpecs(readOnnxInfoSync(file).inputs)
  : session.inputMetadata.map((m) => ({ name: m.name, type: m.type, typeText: '', shape: m.shape.map((d) => (typeof d === 'number' ? d : String(d))) }));
const tensors = generateInputs(specs, { seed: 0, batch: Number(batch) });
const feeds = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, new ort.Tensor(t.type, t.data, t.dims)]));
for (let i = 0; i < Number(warmup); i++) await session.run(feeds);
const ms = [];
for (let i = 0; i < Number(iterations); i++) {
  const s = performance.now();
  await session.run(feeds);
  ms.push(performance.now() - s);
}
const total = ms.reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ throughput: (Number(batch) * ms.length * 1000) / total, wall_ms: performance.now() - t0 }));
`,
);

function child(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', hook, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = performance.now() - t0;
  const { maxRssKb } = readUsage(r.stderr);
  if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, wall_ms: wall, maxrss_mb: maxRssKb / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function compare(model, batch) {
  const smoke = [];
  const bare = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate, so drift in machine load hits both alike.
    const b = child([bareScript, model, String(batch), String(ITERATIONS), String(WARMUP), String(THREADS)]);
    bare.push({ ...JSON.parse(b.stdout), process_ms: b.wall_ms, maxrss_mb: b.maxrss_mb });
    const s = child([
      path.join(root, 'bin/mlv.js'),
      'smoke',
      model,
      '--json',
      '--batch',
      String(batch),
      '--iterations',
      String(ITERATIONS),
      '--warmup',
      String(WARMUP),
      '--threads',
      String(THREADS),
    ]);
    const report = JSON.parse(s.stdout);
    smoke.push({ throughput: report.throughput_rows_per_s, process_ms: s.wall_ms, maxrss_mb: s.maxrss_mb });
  }
  const st = median(smoke.map((x) => x.throughput));
  const bt = median(bare.map((x) => x.throughput));
  const sw = median(smoke.map((x) => x.process_ms));
  const bw = median(bare.map((x) => x.process_ms));
  console.log(
    `${path.relative(root, model)} (batch ${batch}, ${ITERATIONS} runs, ${THREADS} thread, median of ${ROUNDS}):\n` +
      `  throughput  mlv smoke ${f(st)} rows/s · bare onnxruntime-node ${f(bt)} rows/s · ratio ${f(st / bt, 3)}\n` +
      `  process     mlv smoke ${f(sw)} ms · bare script ${f(bw)} ms (load, inputs, warm-up, timed runs; smoke also hashes, checks and reports)`,
  );
  return {
    model: path.relative(root, model),
    batch,
    smoke_rows_per_s: st,
    bare_rows_per_s: bt,
    ratio: st / bt,
    smoke_process_ms: sw,
    bare_process_ms: bw,
  };
}

/** ~100 MB of float32 weights: 25 layers of 1024×1024 (MatMul + Tanh), written once. */
async function bigModel() {
  const file = path.join(out, 'smoke-100mb.onnx');
  if (existsSync(file)) return file;
  const { encodeModel } = await import(pathToFileURL(path.join(dist, 'onnx/builder.js')).href);
  const size = 1024;
  const layers = 25;
  const initializers = [];
  const nodes = [];
  let prev = 'x';
  for (let l = 0; l < layers; l++) {
    const w = new Float32Array(size * size);
    for (let i = 0; i < w.length; i++) w[i] = Math.sin(i * 0.618 + l) / 32;
    initializers.push({ name: `W${l}`, elemType: 'float', dims: [size, size], data: w });
    const last = l === layers - 1;
    nodes.push({ op: 'MatMul', inputs: [prev, `W${l}`], outputs: [`h${l}`] });
    nodes.push({ op: 'Tanh', inputs: [`h${l}`], outputs: [last ? 'y' : `t${l}`] });
    prev = `t${l}`;
  }
  const bytes = encodeModel({
    graphName: 'big',
    inputs: [{ name: 'x', elemType: 'float', shape: ['N', size] }],
    outputs: [{ name: 'y', elemType: 'float', shape: ['N', size] }],
    initializers,
    nodes,
  });
  writeFileSync(file + '.tmp', bytes);
  renameSync(file + '.tmp', file);
  return file;
}

const results = { throughput: [], memory: null };
results.throughput.push(compare(path.join(root, 'fixtures/models/classifier-v1.onnx'), 64));
results.throughput.push(compare(path.join(root, 'fixtures/models/slow.onnx'), 16));

const big = await bigModel();
const sizeMb = statSync(big).size / 1e6;
const memIterations = 20;
const smokeMem = child([
  path.join(root, 'bin/mlv.js'),
  'smoke',
  big,
  '--json',
  '--batch',
  '8',
  '--iterations',
  String(memIterations),
  '--warmup',
  '2',
  '--threads',
  String(THREADS),
]);
const bareMem = child([bareScript, big, '8', String(memIterations), '2', String(THREADS)]);
const bareProtoMem = child([bareScript, big, '8', String(memIterations), '2', String(THREADS), 'proto']);
results.memory = {
  model_mb: sizeMb,
  smoke_maxrss_mb: smokeMem.maxrss_mb,
  bare_maxrss_mb: bareMem.maxrss_mb,
  bare_with_proto_read_maxrss_mb: bareProtoMem.maxrss_mb,
  smoke_process_ms: smokeMem.wall_ms,
  bare_process_ms: bareMem.wall_ms,
};
console.log(
  `${path.relative(root, big)} (${f(sizeMb, 1)} MB, batch 8, ${memIterations} runs):\n` +
    `  peak RSS    mlv smoke ${f(smokeMem.maxrss_mb)} MB · bare onnxruntime-node ${f(bareMem.maxrss_mb)} MB · ratio ${f(smokeMem.maxrss_mb / bareMem.maxrss_mb, 2)}\n` +
    `  process     mlv smoke ${f(smokeMem.wall_ms)} ms · bare script ${f(bareMem.wall_ms)} ms`,
);
writeFileSync(path.join(out, 'smoke-bench.json'), JSON.stringify(results, null, 2) + '\n');
