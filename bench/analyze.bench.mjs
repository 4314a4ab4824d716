#!/usr/bin/env node
// Benchmark of `mlv analyze --events`: rows per second and peak memory on a 10-million-row
// JSON Lines file (1 million units, 2 arms, 2 metrics), generated once and cached in bench/out/.
//   BENCH_UNITS=100000 node bench/analyze.bench.mjs    a smaller run (10 rows per unit)
// Peak RSS comes from /usr/bin/time -v when it exists, and else from the child's own
// process.resourceUsage().maxRSS, written at exit by a preloaded hook.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeSync, closeSync, renameSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageHook } from './usage.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.join(here, 'out');
const UNITS = Number(process.env.BENCH_UNITS ?? 1_000_000);
const ROWS_PER_UNIT = 10; // 1 exposure + 3 "converted" + 6 "revenue" observations
const file = path.join(out, `events-${UNITS}.jsonl`);

/** mulberry32: a seeded generator, so the file is the same on every machine. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate() {
  mkdirSync(out, { recursive: true });
  const tmp = file + '.tmp';
  const fd = openSync(tmp, 'w');
  const rand = rng(20240501);
  const start = Date.UTC(2024, 4, 1);
  const DAY = 86_400_000;
  const BATCH = 10_000;
  let rows = 0;
  const t0 = Date.now();
  for (let b0 = 0; b0 < UNITS; b0 += BATCH) {
    const batch = [];
    for (let i = b0; i < Math.min(UNITS, b0 + BATCH); i++) {
      const unit = 'usr_' + (Math.imul(i + 1, 2654435761) >>> 0).toString(16).padStart(8, '0');
      const treat = rand() < 0.5;
      const variant = treat ? 'treatment' : 'control';
      const exp = start + Math.floor(rand() * 14 * DAY);
      // The log is only roughly in time order: each line is written up to a minute late.
      const late = () => Math.floor(rand() * 60_000);
      batch.push([
        exp + late(),
        `{"type":"exposure","experiment":"checkout","unit":"${unit}","variant":"${variant}","ts":"${new Date(exp).toISOString()}"}`,
      ]);
      const propensity = Math.exp(rand() * 2 - 1); // a per-unit spending level: CUPED's covariate
      const pConv = treat ? 0.036 : 0.033;
      for (let k = 0; k < 3; k++) {
        const ts = exp + Math.floor(rand() * 7 * DAY);
        const v = rand() < pConv ? 1 : 0;
        batch.push([
          ts + late(),
          `{"type":"metric","unit":"${unit}","metric":"converted","value":${v},"ts":"${new Date(ts).toISOString()}"}`,
        ]);
      }
      for (let k = 0; k < 6; k++) {
        // the first revenue row is pre-period activity (before exposure)
        const ts = k === 0 ? exp - Math.floor(rand() * 10 * DAY) - 1 : exp + Math.floor(rand() * 7 * DAY);
        const lift = treat && k > 0 ? 1.02 : 1;
        const v = Math.round(propensity * rand() * 2000 * lift) / 100;
        batch.push([
          ts + late(),
          `{"type":"metric","unit":"${unit}","metric":"revenue","value":${v},"ts":"${new Date(ts).toISOString()}"}`,
        ]);
      }
    }
    batch.sort((x, y) => x[0] - y[0]);
    rows += batch.length;
    writeSync(fd, batch.map((r) => r[1]).join('\n') + '\n');
  }
  closeSync(fd);
  renameSync(tmp, file);
  console.log(
    `generated ${rows.toLocaleString('en-US')} rows (${(statSync(file).size / 1e9).toFixed(2)} GB) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${path.relative(root, file)}`,
  );
}

function run() {
  const preload = usageHook(out);
  const args = [
    '--require',
    preload,
    path.join(root, 'bin', 'mlv.js'),
    'analyze',
    '--json',
    '--events',
    file,
    '--experiment',
    'checkout',
    '--metric',
    'converted',
    '--metric',
    'revenue:mean',
    '--cuped',
  ];
  const gnuTime = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-v', 'true']).status === 0;
  const [cmd, argv] = gnuTime ? ['/usr/bin/time', ['-v', process.execPath, ...args]] : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const fromTime = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const fromHook = /MAXRSS_KB=(\d+)/.exec(stderr);
      const kb = Number((fromTime ?? fromHook)?.[1] ?? NaN);
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
      const cpu = user && sys ? Number(user[1]) + Number(sys[1]) : NaN;
      resolve({
        code,
        seconds,
        cpu,
        kb,
        source: fromTime ? '/usr/bin/time -v' : fromHook ? 'process.resourceUsage()' : 'unknown',
        stdout,
        stderr,
      });
    });
  });
}

if (!existsSync(file)) generate();
else console.log(`using cached ${path.relative(root, file)}`);
const rows = UNITS * ROWS_PER_UNIT;
const loadBefore = loadavg()[0];
const r = await run();
if (r.code !== 0 && r.code !== 1) {
  console.error(r.stderr);
  console.error(`mlv analyze exited ${r.code}`);
  process.exit(1);
}
let summary;
try {
  const j = JSON.parse(r.stdout);
  summary = `verdict ${j.verdict}; arms ${j.srm.counts.join(' / ')}`;
} catch {
  summary = 'unparseable JSON output';
}
console.log(`mlv analyze --events: ${rows.toLocaleString('en-US')} rows in ${r.seconds.toFixed(2)} s`);
console.log(
  `  throughput  ${(rows / r.seconds / 1e6).toFixed(2)} M rows/s (target ≥ 1.00, whole process incl. start-up)`,
);
if (Number.isFinite(r.cpu)) {
  console.log(
    `  CPU time    ${r.cpu.toFixed(2)} s user+sys → ${(rows / r.cpu / 1e6).toFixed(2)} M rows per CPU-second (fairer on a busy machine)`,
  );
}
console.log(`  peak RSS    ${(r.kb / 1024).toFixed(0)} MiB (${r.source}; target well under 1024)`);
console.log(`  result      ${summary}`);
console.log(
  `  machine     ${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} before / ${loadavg()[0].toFixed(1)} after` +
    (loadBefore > cpus().length
      ? ' — busy: other processes share these cores, so the numbers above are pessimistic'
      : ''),
);
