#!/usr/bin/env node
// Start-up of short commands next to a bare `node -e 0`, measured side by side: each round runs
// the anchor and every command once, in a rotating order, so a machine that speeds up or slows
// down moves all of them alike. Reports wall and CPU time (user + system, read by the child at
// exit) as min / median, the ratio of medians and the median of the per-round ratios.
// Targets (issue 12): `mlv --version` within 1.5× the anchor, `mlv sample-size …` within 2×.
// Needs `npm run build` first (npm run bench does it). Runs on its own: node bench/startup.bench.mjs
//   BENCH_STARTUP_ROUNDS=40 node bench/startup.bench.mjs
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readUsage, usageHook } from './usage.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const bin = path.join(root, 'bin', 'mlv.js');
const ROUNDS = Number(process.env.BENCH_STARTUP_ROUNDS ?? 20);
const WARMUP = 2;

if (!existsSync(path.join(root, 'dist', 'main.js'))) {
  console.error('bench/startup.bench.mjs needs the build: run `npm run build` first');
  process.exit(2);
}
const out = path.join(here, 'out');
const hook = usageHook(out);

const anchor = { label: 'node -e 0', args: ['-e', '0'] };
const cases = [
  { label: 'mlv --version', args: [bin, '--version'], target: 1.5 },
  {
    label: 'mlv sample-size --baseline 0.1 --mde 0.02',
    args: [bin, 'sample-size', '--baseline', '0.1', '--mde', '0.02'],
    target: 2,
  },
  { label: 'mlv --help', args: [bin, '--help'] },
];
const all = [anchor, ...cases];

function runOnce(c) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', hook, ...c.args], {
    cwd: out,
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.label} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return { wall, cpu: readUsage(r.stderr).cpuMs };
}

const samples = new Map(all.map((c) => [c, []]));
for (let round = -WARMUP; round < ROUNDS; round++) {
  const offset = ((round % all.length) + all.length) % all.length;
  for (let k = 0; k < all.length; k++) {
    const c = all[(k + offset) % all.length];
    const s = runOnce(c);
    if (round >= 0) samples.get(c).push(s);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const min = (xs) => Math.min(...xs);
const ms = (x) => `${x.toFixed(1)} ms`.padStart(9);
const base = samples.get(anchor);

console.log(`start-up, ${ROUNDS} interleaved rounds (+${WARMUP} warm-up), node ${process.version}`);
console.log(
  `${'command'.padEnd(44)} ${'wall min'.padStart(9)} ${'median'.padStart(9)} ${'cpu min'.padStart(9)} ${'median'.padStart(9)}  ratio (cpu, wall)`,
);
for (const c of all) {
  const s = samples.get(c);
  const wall = s.map((x) => x.wall);
  const cpu = s.map((x) => x.cpu);
  let ratio = 'anchor';
  if (c !== anchor) {
    const rCpu = median(cpu) / median(base.map((x) => x.cpu));
    const rWall = median(wall) / median(base.map((x) => x.wall));
    const paired = median(s.map((x, i) => x.cpu / base[i].cpu));
    ratio = `${rCpu.toFixed(2)}× (paired ${paired.toFixed(2)}×), ${rWall.toFixed(2)}×`;
    if (c.target) ratio += `  target ≤ ${c.target}× ${Math.max(rCpu, rWall) <= c.target ? 'ok' : 'MISSED'}`;
  }
  console.log(
    `${c.label.padEnd(44)} ${ms(min(wall))} ${ms(median(wall))} ${ms(min(cpu))} ${ms(median(cpu))}  ${ratio}`,
  );
}
