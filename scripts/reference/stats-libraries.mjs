// Accuracy of simple-statistics and @stdlib against the scipy reference values mlv's tests use,
// next to mlv's own src/core/stats, and the start-up cost of loading each (README, Development).
// Not part of the build: the libraries go into a scratch folder, never into this repository.
//   mkdir /tmp/statslibs && cd /tmp/statslibs && npm init -y && npm install simple-statistics@7.12.1 \
//     @stdlib/stats-base-dists-t-cdf @stdlib/stats-base-dists-t-quantile @stdlib/stats-base-dists-normal-cdf \
//     @stdlib/stats-base-dists-normal-quantile @stdlib/math-base-special-betainc @stdlib/math-base-special-gammainc
//   npx --prefix REPO esbuild REPO/test/stats/reference-values.generated.ts --format=esm --outfile=ref.mjs
//   (cd REPO && npm run build) && MLV_REPO=REPO node REPO/scripts/reference/stats-libraries.mjs
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const ref = await import(pathToFileURL(`${process.cwd()}/ref.mjs`).href);
// The libraries live in the scratch folder (the working directory), not beside this script.
const load = async (name) => {
  const m = await import(pathToFileURL(createRequire(`${process.cwd()}/`).resolve(name)).href);
  return m.default ?? m;
};
const ss = await import(pathToFileURL(createRequire(`${process.cwd()}/`).resolve('simple-statistics')).href);
const tcdf = await load('@stdlib/stats-base-dists-t-cdf');
const tq = await load('@stdlib/stats-base-dists-t-quantile');
const ncdf = await load('@stdlib/stats-base-dists-normal-cdf');
const nq = await load('@stdlib/stats-base-dists-normal-quantile');
const betainc = await load('@stdlib/math-base-special-betainc');
const gammainc = await load('@stdlib/math-base-special-gammainc');
const repo = process.env.MLV_REPO ?? process.cwd();
const mlv = await import(`${repo}/dist/core/stats/index.js`);

const rel = (a, e) => (e === 0 ? Math.abs(a) : Math.abs(a - e) / Math.abs(e));
function stats(cases, f) {
  const errs = [];
  for (const c of cases) {
    const exp = Array.isArray(c.expected) ? c.expected[0] : c.expected;
    let v;
    try {
      v = f(...c.args);
    } catch {
      v = NaN;
    }
    errs.push(Number.isFinite(v) || !Number.isFinite(exp) ? (v === exp ? 0 : rel(v, exp)) : Infinity);
  }
  errs.sort((a, b) => a - b);
  return {
    n: errs.length,
    max: errs[errs.length - 1],
    median: errs[Math.floor(errs.length / 2)],
    over1e10: errs.filter((e) => !(e <= 1e-10)).length,
  };
}
const table = {
  'normal cdf': [
    ref.norm_cdf,
    { mlv: mlv.normalCdf, 'simple-statistics': ss.cumulativeStdNormalProbability, stdlib: (x) => ncdf(x, 0, 1) },
  ],
  'normal quantile': [
    ref.norm_ppf,
    { mlv: mlv.normalQuantile, 'simple-statistics': ss.probit, stdlib: (p) => nq(p, 0, 1) },
  ],
  't cdf': [ref.t_cdf, { mlv: mlv.tCdf, stdlib: tcdf }],
  't sf (tails)': [ref.t_sf, { mlv: mlv.tSf, stdlib: (t, df) => 1 - tcdf(t, df) }],
  't quantile': [ref.t_ppf, { mlv: mlv.tQuantile, stdlib: tq }],
  'incomplete beta': [
    ref.betainc,
    { mlv: (a, b, x) => mlv.regularizedBeta(x, a, b), stdlib: (a, b, x) => betainc(x, a, b) },
  ],
  'incomplete gamma': [ref.gammainc, { mlv: (a, x) => mlv.regularizedGammaP(a, x), stdlib: (a, x) => gammainc(x, a) }],
};
for (const [name, [cases, libs]] of Object.entries(table)) {
  for (const [lib, f] of Object.entries(libs)) {
    const s = stats(cases, f);
    console.log(
      `${name.padEnd(18)} ${lib.padEnd(18)} n=${s.n} max rel err ${s.max.toExponential(1)}  median ${s.median.toExponential(1)}  cases >1e-10: ${s.over1e10}`,
    );
  }
}
// Start-up: a fresh node loading each module, median of 15 runs, minus `node -e 0`.
const time = (code) => {
  const runs = [];
  for (let i = 0; i < 15; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: process.cwd() });
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return runs.sort((a, b) => a - b)[7];
};
const base = time('0');
for (const [lib, code] of [
  ['mlv src/core/stats', `await import('${repo}/dist/core/stats/index.js')`],
  ['simple-statistics', "await import('simple-statistics')"],
  [
    '@stdlib (6 packages)',
    "await Promise.all(['@stdlib/stats-base-dists-t-cdf','@stdlib/stats-base-dists-t-quantile','@stdlib/stats-base-dists-normal-cdf','@stdlib/stats-base-dists-normal-quantile','@stdlib/math-base-special-betainc','@stdlib/math-base-special-gammainc'].map((m) => import(m)))",
  ],
]) {
  console.log(
    `start-up ${lib.padEnd(22)} +${(time(code) - base).toFixed(1)} ms over node -e 0 (${base.toFixed(1)} ms)`,
  );
}
