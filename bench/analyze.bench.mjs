#!/usr/bin/env node
// Benchmark of `mlv analyze --events` next to DuckDB running the same aggregation (per unit: the
// first exposure's variant, units seen in several variants left out, metric sums after the first
// exposure and the CUPED pre-period sum; then per variant n, Σy, Σy², Σx, Σx², Σxy — the query of
// templates/sql/postgres.sql, over the same JSON Lines file read with read_json).
//
//   node bench/analyze.bench.mjs                 1M rows / 100k units and 10M rows / 1M units
//   BENCH_QUICK=1 node bench/analyze.bench.mjs   only the 1M-row case (about a minute)
//   BENCH_RUNS=5                                 repeats per configuration (default 3)
//
// Every configuration is a whole child process (start-up included), run in turn, round-robin, so
// a busy machine slows all of them alike; wall time, rows/s and peak RSS (from /usr/bin/time -v,
// else the child's own process.resourceUsage()) are reported as min / median of the runs. The
// data files are generated once, seeded, into bench/out/ (git-ignored). Run `npm run build` first
// (npm run bench does).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readUsage, usageHook } from './usage.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.join(here, 'out');
const ROWS_PER_UNIT = 10; // 1 exposure + 3 "converted" + 6 "revenue" observations
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CORES = availableParallelism();

if (process.argv[2] === '--duckdb') {
  await duckdb(process.argv[3]);
  process.exit(0);
}

/** The DuckDB side, in its own process: load the file, run the query, print the rows as JSON. */
async function duckdb(file) {
  const { readFileSync } = await import('node:fs');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(
    `CREATE TEMP TABLE ev AS SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = {type: 'VARCHAR', experiment: 'VARCHAR', unit: 'VARCHAR', variant: 'VARCHAR', metric: 'VARCHAR', value: 'DOUBLE', ts: 'TIMESTAMP'})`,
  );
  await c.run(`CREATE TEMP VIEW exposures AS SELECT experiment, unit, variant, ts FROM ev WHERE type = 'exposure'`);
  await c.run(`CREATE TEMP VIEW metric_events AS SELECT unit, metric, value, ts FROM ev WHERE type = 'metric'`);
  const sql = readFileSync(path.join(root, 'templates', 'sql', 'postgres.sql'), 'utf8');
  const reader = await c.runAndReadAll(sql);
  const rows = reader.getRowObjectsJson();
  process.stdout.write(JSON.stringify(rows) + '\n');
}

function dataFile(units) {
  return path.join(out, `events-${units}.jsonl`);
}

async function generate(units) {
  const { mulberry32 } = await import(path.join(root, 'dist', 'core', 'smoke', 'random.js'));
  const file = dataFile(units);
  mkdirSync(out, { recursive: true });
  const tmp = file + '.tmp';
  const fd = openSync(tmp, 'w');
  const rand = mulberry32(20240501);
  const start = Date.UTC(2024, 4, 1);
  const DAY = 86_400_000;
  const BATCH = 10_000;
  let rows = 0;
  const t0 = Date.now();
  for (let b0 = 0; b0 < units; b0 += BATCH) {
    const batch = [];
    for (let i = b0; i < Math.min(units, b0 + BATCH); i++) {
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

const preload = usageHook(out);
const gnuTime = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-v', 'true']).status === 0;

/** Runs one configuration as a child process: wall seconds, CPU seconds, peak RSS in KiB, stdout. */
function measure(args) {
  const argv = [process.execPath, '--require', preload, ...args];
  const [cmd, rest] = gnuTime ? ['/usr/bin/time', ['-v', ...argv]] : [argv[0], argv.slice(1)];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, rest, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const fromTime = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
      const hook = readUsage(stderr);
      resolve({
        code,
        seconds,
        cpu: user && sys ? Number(user[1]) + Number(sys[1]) : hook.cpuMs / 1000,
        kb: fromTime ? Number(fromTime[1]) : hook.maxRssKb,
        stdout,
        stderr,
      });
    });
  });
}

const mlvArgs = (file, threads) => [
  path.join(root, 'bin', 'mlv.js'),
  'analyze',
  '--json',
  '--threads',
  String(threads),
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

/** n and Σy per variant and metric, from either side, to check they computed the same thing. */
function figures(config, stdout) {
  const j = JSON.parse(stdout);
  const f = {};
  if (config === 'duckdb') {
    for (const r of j) f[`${r.variant}/${r.metric}`] = [Number(r.n), Number(r.conversions ?? r.sum)];
  } else {
    for (const m of j.metrics) {
      for (const a of m.arms) f[`${a.variant}/${m.name}`] = [a.n, m.type === 'mean' ? a.mean * a.n : a.conversions];
    }
  }
  return f;
}

function agree(a, b) {
  const keys = Object.keys(a).sort();
  if (keys.join() !== Object.keys(b).sort().join()) return false;
  return keys.every((k) => a[k][0] === b[k][0] && Math.abs(a[k][1] - b[k][1]) <= 1e-9 * Math.abs(b[k][1]));
}

const stats = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return { min: s[0], median: s[Math.floor(s.length / 2)] };
};

async function benchCase(units, targets) {
  const file = dataFile(units);
  if (!existsSync(file)) await generate(units);
  else console.log(`using cached ${path.relative(root, file)}`);
  const rows = units * ROWS_PER_UNIT;
  const configs = [
    ['mlv --threads 1', mlvArgs(file, 1), 'mlv'],
    [`mlv --threads ${CORES}`, mlvArgs(file, CORES), 'mlv'],
    [`DuckDB (${CORES} threads)`, [fileURLToPath(import.meta.url), '--duckdb', file], 'duckdb'],
  ];
  const results = configs.map(() => []);
  const loadBefore = loadavg()[0];
  let reference;
  for (let run = 0; run < RUNS; run++) {
    for (const [i, [name, args, kind]] of configs.entries()) {
      const r = await measure(args);
      if (r.code !== 0 && !(kind === 'mlv' && r.code === 1)) {
        console.error(r.stderr);
        throw new Error(`${name} exited ${r.code}`);
      }
      const f = figures(kind, r.stdout);
      reference ??= f;
      if (!agree(f, reference))
        throw new Error(`${name} computed other figures: ${JSON.stringify(f)} vs ${JSON.stringify(reference)}`);
      results[i].push(r);
    }
  }
  console.log(
    `\n${rows.toLocaleString('en-US')} rows, ${units.toLocaleString('en-US')} units (${RUNS} runs each; min / median; the same n and sums from all three):`,
  );
  const wall = results.map((rs) => stats(rs.map((r) => r.seconds)));
  const rss = results.map((rs) => stats(rs.map((r) => r.kb / 1024)));
  const cpu = results.map((rs) => stats(rs.map((r) => r.cpu)));
  configs.forEach(([name], i) => {
    console.log(
      `  ${name.padEnd(22)} wall ${wall[i].min.toFixed(2)} / ${wall[i].median.toFixed(2)} s` +
        `  ${(rows / wall[i].min / 1e6).toFixed(2)} / ${(rows / wall[i].median / 1e6).toFixed(2)} M rows/s` +
        `  peak RSS ${rss[i].min.toFixed(0)} / ${rss[i].median.toFixed(0)} MiB` +
        (Number.isFinite(cpu[i].min) ? `  CPU ${cpu[i].min.toFixed(2)} / ${cpu[i].median.toFixed(2)} s` : ''),
    );
  });
  // Ratios per run (each run's configurations ran one after another), then min / median.
  const ratio = (i) => stats(results[i].map((r, k) => r.seconds / results[2][k].seconds));
  for (const i of [0, 1]) {
    const q = ratio(i);
    console.log(
      `  ${configs[i][0]} / DuckDB wall time: ${q.min.toFixed(2)} / ${q.median.toFixed(2)}` +
        (i === 1 && targets.ratio ? `  (target ≤ ${targets.ratio})` : ''),
    );
  }
  if (targets.rss)
    console.log(`  mlv --threads ${CORES} peak RSS ${rss[1].median.toFixed(0)} MiB (target ≤ ${targets.rss} MiB)`);
  if (targets.rowsPerSecond) {
    console.log(
      `  mlv --threads ${CORES}: ${(rows / wall[1].median / 1e6).toFixed(2)} M rows/s median (target ≥ ${targets.rowsPerSecond / 1e6} M rows/s)`,
    );
  }
  const loadAfter = loadavg()[0];
  console.log(
    `  machine: ${CORES} CPUs, load average ${loadBefore.toFixed(1)} before / ${loadAfter.toFixed(1)} after` +
      (Math.max(loadBefore, loadAfter) > CORES
        ? ' — busy: other processes share these cores, so times are pessimistic'
        : ''),
  );
}

await benchCase(100_000, { ratio: 0.6, rss: 300 });
if (process.env.BENCH_QUICK) console.log('\n(BENCH_QUICK: the 10M-row case skipped)');
else await benchCase(1_000_000, { rowsPerSecond: 2_500_000 });
