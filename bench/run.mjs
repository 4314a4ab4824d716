#!/usr/bin/env node
// Runs every bench/*.bench.mjs in name order (or only those whose name contains an argument):
//   npm run bench               all benchmarks
//   npm run bench -- analyze    only bench/analyze.bench.mjs
// Each file is run as its own child process so one benchmark's memory does not disturb the next.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error(`no bench/*.bench.mjs file${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(2);
}

let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, [path.join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`${f}: exited ${r.status ?? r.signal}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
