#!/usr/bin/env node
// Benchmark of the registry commands.
//   1. start-up: `mlv --version`, `mlv show` (embedded registry: includes opening the SQLite store
//      and serving it in-process) and `mlv show` against a running `mlv server`, next to a bare
//      `node -e 0`; the median wall time of N runs each.
//   2. requests per register and wall time of a whole `mlv register` of a 1 MiB ONNX model with 10
//      params and 10 metrics against `mlv server` on loopback, next to the anchor: a `python` process
//      doing the same with the MLflow 3.6 client against a real MLflow server takes about 1.6 s on a
//      quiet machine (9 requests); the target is 4× faster, 0.4 s.
//   3. `mlv register` of a 1 MB and a 200 MB artifact against a running `mlv server` and against the
//      embedded registry: wall time, throughput and the CLI process's peak memory (maxRSS), which must
//      stay flat as the artifact grows (uploads and hashing stream). Also the idempotent retry of the
//      200 MB registration (hashing only, nothing uploaded).
// Needs `npm run build` first (npm run bench does it). Runs on its own: node bench/registry.bench.mjs
//   BENCH_REGISTRY_RUNS=21 BENCH_REGISTRY_ROUNDS=3 BENCH_REGISTRY_BIG_MB=200 node bench/registry.bench.mjs
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.join(here, 'out');
const bin = path.join(root, 'bin', 'mlv.js');
const RUNS = Number(process.env.BENCH_REGISTRY_RUNS ?? 11);
const ROUNDS = Number(process.env.BENCH_REGISTRY_ROUNDS ?? 3);
const BIG_MB = Number(process.env.BENCH_REGISTRY_BIG_MB ?? 200);

if (!existsSync(path.join(root, 'dist', 'commands', 'register.js'))) {
  console.error('bench/registry.bench.mjs needs the build: run `npm run build` first');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const hook = path.join(out, 'maxrss-hook.cjs');
writeFileSync(
  hook,
  "process.on('exit', () => { try { require('fs').writeSync(2, '\\nMAXRSS_KB=' + process.resourceUsage().maxRSS + '\\n'); } catch {} });\n",
);

const work = mkdtempSync(path.join(os.tmpdir(), 'mlv-bench-registry-'));
const baseEnv = { ...process.env, NO_COLOR: '1', CI: 'true' };
for (const k of Object.keys(baseEnv)) if (k.startsWith('MLFLOW_') || k === 'MLV_HOME') delete baseEnv[k];

/** Runs node ARGS once; wall ms, exit code, maxRSS of the child in MB. */
function run(args, { env = {}, cwd = work } = {}) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['-r', hook, ...args], {
    cwd,
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - t0;
  const rss = /MAXRSS_KB=(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, rssMb: rss ? Number(rss[1]) / 1024 : NaN, stdout: r.stdout, stderr: r.stderr ?? '' };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Writes SIZE bytes of a repeating but position-dependent pattern (not compressible to nothing). */
function makeFile(file, bytes) {
  if (existsSync(file) && statSync(file).size === bytes) return file;
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(1 << 20);
  for (let i = 0, left = bytes; left > 0; i++) {
    for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
    const n = Math.min(left, block.length);
    writeSync(fd, block, 0, n);
    left -= n;
  }
  closeSync(fd);
  return file;
}

/** A 1 MiB ONNX model: y = x · W with one 512×512 float32 weight. */
async function oneMibModel() {
  const file = path.join(out, 'registry-1mib.onnx');
  if (existsSync(file)) return file;
  const { encodeModel } = await import(pathToFileURL(path.join(root, 'dist/onnx/builder.js')).href);
  const size = 512;
  const w = new Float32Array(size * size);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(i * 0.618) / 32;
  writeFileSync(
    file,
    encodeModel({
      graphName: 'one_mib',
      inputs: [{ name: 'x', elemType: 'float', shape: ['N', size] }],
      outputs: [{ name: 'y', elemType: 'float', shape: ['N', size] }],
      initializers: [{ name: 'W', elemType: 'float', dims: [size, size], data: w }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
    }),
  );
  return file;
}

async function startServer(store) {
  const child = spawn(process.execPath, [bin, '--json', 'server', '--port', '0', '--store', store], {
    env: baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (b) => {
      text += b;
      const line = text.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).url);
    });
    child.on('exit', (code) => reject(new Error(`mlv server exited ${code}`)));
  });
  return { url, stop: () => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM'))) };
}

const results = {
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpus: os.cpus().length,
  startup: {},
  register: [],
};

// ---- 1. start-up -----------------------------------------------------------------------------
console.log(`start-up: median of ${RUNS} runs (wall time of the whole process)`);
const server = await startServer(path.join(work, 'server-store'));
const embeddedHome = path.join(work, 'embedded');
mkdirSync(embeddedHome);
// One registered model in each, so `show` has something to list.
const tiny = makeFile(path.join(work, 'tiny.bin'), 1024);
run([bin, 'register', tiny, '--name', 'bench-show', '--semver', '1.0.0'], {
  env: { MLV_HOME: path.join(embeddedHome, '.mlv') },
  cwd: embeddedHome,
});
run([bin, '--tracking-uri', server.url, 'register', tiny, '--name', 'bench-show', '--semver', '1.0.0']);

const startup = [
  ['node -e 0', ['-e', '0'], {}],
  ['mlv --version', [bin, '--version'], {}],
  [
    'mlv show (embedded registry)',
    [bin, 'show'],
    { env: { MLV_HOME: path.join(embeddedHome, '.mlv') }, cwd: embeddedHome },
  ],
  ['mlv show (mlv server)', [bin, '--tracking-uri', server.url, 'show'], {}],
  ['mlv show NAME (mlv server)', [bin, '--tracking-uri', server.url, 'show', 'bench-show'], {}],
];
for (const [label, args, opts] of startup) {
  run(args, opts); // warm the file cache
  const samples = Array.from({ length: RUNS }, () => run(args, opts));
  const ms = median(samples.map((s) => s.ms));
  const rss = median(samples.map((s) => s.rssMb));
  results.startup[label] = {
    median_ms: Number(ms.toFixed(1)),
    min_ms: Number(Math.min(...samples.map((s) => s.ms)).toFixed(1)),
    max_rss_mb: Number(rss.toFixed(1)),
  };
  console.log(
    `  ${label.padEnd(30)} ${fmt(ms).padStart(6)} ms median   ${fmt(Math.min(...samples.map((s) => s.ms))).padStart(6)} ms min   ${fmt(rss, 0).padStart(4)} MB maxRSS`,
  );
}

// ---- 2. one register of a 1 MiB model: requests and wall time -----------------------------------
const PYTHON_ANCHOR_MS = 1600;
const TARGET_MS = PYTHON_ANCHOR_MS / 4;
{
  const onnx = await oneMibModel();
  const kv = (prefix, n, value) =>
    Array.from({ length: n }, (_, i) => [`--${prefix}`, `${prefix}${i}=${value(i)}`]).flat();
  const args = (name, semver, verbose = false) => [
    bin,
    ...(verbose ? ['-v'] : []),
    '--tracking-uri',
    server.url,
    '--json',
    'register',
    onnx,
    '--name',
    name,
    '--semver',
    semver,
    ...kv('param', 10, (i) => `v${i}`),
    ...kv('metric', 10, (i) => (i + 1) / 100),
  ];
  // The request log of -v (one line per request the client sends, retries included).
  const count = (r) => r.stderr.split('\n').filter((l) => /^(GET|POST|PUT|PATCH|DELETE) http/.test(l)).length;
  const first = run(args('bench-1mib-first', '1.0.0', true));
  const next = run(args('bench-1mib-first', '1.1.0', true));
  const samples = Array.from({ length: Math.max(RUNS, 5) }, (_, i) => run(args(`bench-1mib-${i}`, '1.0.0')).ms);
  const again = Array.from({ length: Math.max(RUNS, 5) }, (_, i) => run(args(`bench-1mib-${i}`, '1.1.0')).ms);
  const ms = median(samples);
  const msNext = median(again);
  results.register_1mib = {
    requests_first_version: count(first),
    requests_next_version: count(next),
    median_ms_first_version: Number(ms.toFixed(0)),
    median_ms_next_version: Number(msNext.toFixed(0)),
    python_mlflow_anchor_ms: PYTHON_ANCHOR_MS,
    target_ms: TARGET_MS,
  };
  console.log(`\nregister of a 1 MiB .onnx with 10 params and 10 metrics → mlv server (median of ${samples.length})`);
  console.log(
    `  requests per register      ${count(first)} (first version)   ${count(next)} (next version)   anchor: MLflow Python client 9`,
  );
  console.log(
    `  wall time, whole process   ${fmt(ms).padStart(5)} ms (first version)   ${fmt(msNext).padStart(5)} ms (next version)   anchor: python + MLflow client ≈ ${PYTHON_ANCHOR_MS} ms → target ≤ ${TARGET_MS} ms (${fmt(PYTHON_ANCHOR_MS / msNext, 1)}× faster)`,
  );
}

// ---- 3. register -----------------------------------------------------------------------------
const sizes = [
  ['1 MB', 1 << 20, ROUNDS],
  [`${BIG_MB} MB`, BIG_MB << 20, Math.max(1, Math.min(ROUNDS, 2))],
];
console.log(`\nregister: median of the rounds; maxRSS is the mlv CLI process (embedded: it also serves the registry)`);
for (const [label, bytes, rounds] of sizes) {
  const file = makeFile(path.join(out, `registry-bench-${bytes}.bin`), bytes);
  for (const target of ['mlv server', 'embedded']) {
    const samples = [];
    for (let i = 0; i < rounds; i++) {
      const name = `bench-${bytes}-${i}`;
      const opts =
        target === 'embedded' ? { env: { MLV_HOME: path.join(embeddedHome, '.mlv') }, cwd: embeddedHome } : {};
      const prefix = target === 'embedded' ? [bin] : [bin, '--tracking-uri', server.url];
      samples.push(
        run([...prefix, '--json', 'register', file, '--name', name, '--semver', '1.0.0', '--metric', 'auc=0.9'], opts),
      );
      if (i === 0 && bytes > 1 << 20) {
        const retry = run([...prefix, '--json', 'register', file, '--name', name, '--semver', '1.0.0'], opts);
        if (JSON.parse(retry.stdout).created !== false) throw new Error('the retry registered a new version');
        results.register.push({
          size: label,
          target,
          kind: 'idempotent retry',
          median_ms: Number(retry.ms.toFixed(0)),
          max_rss_mb: Number(retry.rssMb.toFixed(1)),
        });
        console.log(
          `  ${label.padStart(6)} → ${target.padEnd(10)} retry (same sha256 + semver: hash only)  ${fmt(retry.ms).padStart(6)} ms   ${fmt(retry.rssMb).padStart(4)} MB maxRSS`,
        );
      }
    }
    const ms = median(samples.map((s) => s.ms));
    const rss = Math.max(...samples.map((s) => s.rssMb));
    const mbps = bytes / (1 << 20) / (ms / 1000);
    results.register.push({
      size: label,
      target,
      kind: 'new version',
      rounds,
      median_ms: Number(ms.toFixed(0)),
      mib_per_s: Number(mbps.toFixed(1)),
      max_rss_mb: Number(rss.toFixed(1)),
    });
    console.log(
      `  ${label.padStart(6)} → ${target.padEnd(10)} new version  ${fmt(ms).padStart(6)} ms   ${fmt(mbps, 1).padStart(6)} MiB/s   ${fmt(rss).padStart(4)} MB maxRSS`,
    );
  }
}

await server.stop();
rmSync(work, { recursive: true, force: true });
writeFileSync(path.join(out, 'registry.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\n(${results.platform}, ${results.cpus} CPUs, node ${results.node}; written to bench/out/registry.json)`);
