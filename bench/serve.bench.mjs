#!/usr/bin/env node
// Benchmark of `mlv serve`: HTTP load with autocannon (keep-alive) at concurrency 1, 16 and 64 on
// the fixture classifier and the slow fixture model, next to
//   (a) a bare node:http server answering a constant JSON (the ceiling of the HTTP layer) and
//   (b) a bare onnxruntime-node loop (the ceiling of inference, batch 1, one thread);
// then the classifier with a shadow at 100 %, and a route swap under load (must fail 0 requests).
// Prints requests/s, p50, p99 and peak RSS per row, and the ratios the targets are stated in.
// Needs `npm run build` first (npm run bench does it). Runs on its own: node bench/serve.bench.mjs
//   BENCH_SERVE_SECONDS=10 node bench/serve.bench.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const mlvBin = path.join(root, 'bin', 'mlv.js');
const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 5);
const CONCURRENCY = [1, 16, 64];

const home = mkdtempSync(path.join(tmpdir(), 'mlv-bench-serve-'));
const env = { ...process.env, MLV_HOME: path.join(home, '.mlv'), NO_COLOR: '1', CI: 'true', MLFLOW_TRACKING_URI: '' };
const fixture = (f) => path.join(root, 'fixtures/models', f);

function mlv(args) {
  const r = spawnSync(process.execPath, [mlvBin, ...args], { cwd: home, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mlv ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
for (const [file, name] of [
  ['classifier-v1.onnx', 'churn'],
  ['classifier-v2.onnx', 'churn'],
  ['slow.onnx', 'slow'],
]) {
  mlv(['register', fixture(file), '--name', name]);
}

const routeFile = (name, r) => {
  const file = path.join(home, `${name}-route.json`);
  writeFileSync(file + '.tmp', JSON.stringify({ model: name, ...r }));
  renameSync(file + '.tmp', file);
  return file;
};

/** Starts a server process; resolves its URL from the first JSON line on stdout. */
function start(args, opts = {}) {
  const child = spawn(process.execPath, args, { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`did not start: ${err}`)), 30_000);
    child.stdout.on('data', (b) => {
      out += b;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        const loaded = err.split('\n').filter((l) => l.startsWith('loaded '));
        if (loaded.length > 0) console.log(`  (${loaded.join('; ')})`);
        resolve({ url: JSON.parse(line).url, child, stderr: () => err, ...opts });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

/** Peak RSS (VmHWM) of a process, MB. */
function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function stop(server) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.once('exit', resolve);
    server.child.kill('SIGTERM');
  });
}

const WRK = spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined && !process.env.BENCH_AUTOCANNON;
const wrkScript = path.join(home, 'post.lua');

/** Load at `connections` for `seconds`: wrk when installed (µs latencies, a lighter client), else autocannon. */
function load(url, connections, body, seconds = SECONDS) {
  return WRK ? loadWrk(url, connections, body, seconds) : loadAutocannon(url, connections, body, seconds);
}

function loadWrk(url, connections, body, seconds) {
  writeFileSync(
    wrkScript,
    `wrk.method = "POST"
wrk.body = ${JSON.stringify(body)}
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  wrk.headers["X-Unit-Id"] = "user-" .. n
  return wrk.format()
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"us":%d,"p50":%d,"p99":%d,"errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
`,
  );
  const threads = Math.min(2, connections);
  return new Promise((resolve, reject) => {
    const child = spawn(
      'wrk',
      ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '-s', wrkScript, url],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.on('error', reject);
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) return reject(new Error(`wrk printed no result: ${out}`));
      const r = JSON.parse(line.slice(7));
      resolve({
        requests: { average: r.requests / (r.us / 1e6) },
        latency: { p50: r.p50 / 1000, p99: r.p99 / 1000 },
        errors: r.errors,
        timeouts: 0,
        non2xx: r.non2xx,
      });
    });
  });
}

function loadAutocannon(url, connections, body, seconds) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        pipelining: 1,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-unit-id': 'user-[<id>]' },
        idReplacement: true,
        body,
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
}

const rows = [];
function record(label, c, r, rss) {
  const row = {
    label,
    c,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failed: r.errors + r.timeouts + r.non2xx,
    rss,
  };
  rows.push(row);
  console.log(
    `${label.padEnd(34)} c=${String(c).padEnd(3)} ${row.rps.toFixed(0).padStart(7)} req/s  p50 ${row.p50.toFixed(3).padStart(7)} ms  p99 ${row.p99.toFixed(3).padStart(7)} ms  failed ${row.failed}  peak RSS ${Number.isFinite(rss) ? rss.toFixed(0) + ' MB' : '-'}`,
  );
  return row;
}

const classifierBody = JSON.stringify({ inputs: [[0.1, 0.2, 0.3, 0.4]] });
const slowBody = JSON.stringify({ inputs: [Array.from({ length: 256 }, (_, i) => (i % 17) / 17)] });

// (a) bare node:http
const bareHttp = path.join(home, 'bare-http.mjs');
writeFileSync(
  bareHttp,
  `import http from 'node:http';
const body = JSON.stringify({ predictions: { label: [0], probabilities: [[0.6, 0.4]] }, variant: 'stable', version: '1' });
const s = http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }); res.end(body); });
});
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + s.address().port })));
process.on('SIGTERM', () => process.exit(0));
`,
);
console.log(`mlv serve benchmark: ${SECONDS} s per row, ${WRK ? 'wrk' : 'autocannon'} keep-alive, same machine\n`);
const bare = {};
{
  const s = await start([bareHttp]);
  for (const c of CONCURRENCY)
    bare[c] = record('bare node:http (constant JSON)', c, await load(s.url, c, classifierBody), peakRss(s.child.pid));
  await stop(s);
}

// (b) bare onnxruntime-node loop
const bareOrt = path.join(root, 'bench', 'out', 'bare-ort-loop.mjs');
spawnSync('mkdir', ['-p', path.dirname(bareOrt)]);
writeFileSync(
  bareOrt,
  `import * as ort from 'onnxruntime-node';
const [file, input, width, seconds] = process.argv.slice(2);
const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 4 });
const feeds = { [input]: new ort.Tensor('float32', new Float32Array(Number(width)).fill(0.3), [1, Number(width)]) };
for (let i = 0; i < 50; i++) await s.run(feeds);
const ms = []; const end = performance.now() + Number(seconds) * 1000;
while (performance.now() < end) { const t = performance.now(); await s.run(feeds); ms.push(performance.now() - t); }
ms.sort((a, b) => a - b);
console.log(JSON.stringify({ rps: ms.length / Number(seconds), p50: ms[Math.floor(ms.length * 0.5)], p99: ms[Math.floor(ms.length * 0.99)], rss: process.resourceUsage().maxRSS / 1024 }));
`,
);
for (const [label, file, input, width] of [
  ['bare onnxruntime loop: classifier', 'classifier-v1.onnx', 'features', 4],
  ['bare onnxruntime loop: slow', 'slow.onnx', 'x', 256],
]) {
  const r = spawnSync(process.execPath, [bareOrt, fixture(file), input, String(width), String(Math.min(3, SECONDS))], {
    encoding: 'utf8',
  });
  const o = JSON.parse(r.stdout);
  rows.push({ label, c: 1, ...o, failed: 0 });
  console.log(
    `${label.padEnd(34)} c=1   ${o.rps.toFixed(0).padStart(7)} run/s  p50 ${o.p50.toFixed(3).padStart(6)} ms  p99 ${o.p99.toFixed(3).padStart(6)} ms  peak RSS ${o.rss.toFixed(0)} MB`,
  );
}

const serveArgs = (name, route, extra = []) => [
  mlvBin,
  '--json',
  'serve',
  name,
  '--port',
  '0',
  '--route',
  route,
  ...extra,
];
const results = {};
for (const [label, name, body, version] of [
  ['mlv serve: classifier', 'churn', classifierBody, '1'],
  ['mlv serve: slow', 'slow', slowBody, '1'],
]) {
  const s = await start(serveArgs(name, routeFile(name, { stable: { version } })));
  results[name] = {};
  for (const c of CONCURRENCY)
    results[name][c] = record(label, c, await load(`${s.url}/invocations`, c, body), peakRss(s.child.pid));
  await stop(s);
}

// Shadow at 100 % on the classifier.

{
  const route = routeFile('churn', { stable: { version: '1' }, shadow: { version: '2', percent: 100 } });
  const s = await start(serveArgs('churn', route));
  record(
    'mlv serve: classifier + shadow 100%',
    16,
    await load(`${s.url}/invocations`, 16, classifierBody),
    peakRss(s.child.pid),
  );
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const sum = (name) =>
    metrics
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  console.log(`  shadow compared ${sum('mlv_shadow_requests_total')}, dropped ${sum('mlv_shadow_dropped_total')}`);
  await stop(s);
}

// A route swap under load: stable 1 → 2 → 1 while c=16 keeps going.
let swap;
{
  const route = routeFile('churn', { revision: 1, stable: { version: '1' } });
  const s = await start(serveArgs('churn', route, ['--refresh', '100ms']));
  const seconds = Math.max(4, SECONDS);
  const t1 = setTimeout(() => routeFile('churn', { revision: 2, stable: { version: '2' } }), (seconds * 1000) / 3);
  const t2 = setTimeout(() => routeFile('churn', { revision: 3, stable: { version: '1' } }), (seconds * 2000) / 3);
  swap = record(
    'mlv serve: route swap 1→2→1',
    16,
    await load(`${s.url}/invocations`, 16, classifierBody, seconds),
    peakRss(s.child.pid),
  );
  clearTimeout(t1);
  clearTimeout(t2);
  const swaps = (s.stderr().match(/serving route revision/g) ?? []).length;
  console.log(`  swaps applied during the run: ${swaps}`);
  await stop(s);
}

// The ratios the targets are stated in, measured side by side: both servers up at once, loaded in
// alternating slices, the median of the per-pair ratios (a busy machine shifts both alike).
const PAIRS = Number(process.env.BENCH_SERVE_PAIRS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function sideBySide(label, a, b, body) {
  const ratios = [];
  const p99s = [];
  for (let i = 0; i < PAIRS; i++) {
    const ra = await load(a, 16, body, 2);
    const rb = await load(b, 16, body, 2);
    ratios.push(rb.requests.average / ra.requests.average);
    p99s.push(rb.latency.p99 / Math.max(ra.latency.p99, 0.001));
  }
  console.log(
    `  ${label}: throughput ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}; p99 ratios ${p99s.map((r) => r.toFixed(2)).join(', ')}`,
  );
  return { ratio: median(ratios), p99x: median(p99s) };
}
console.log(`\nside by side (c=16, ${PAIRS} alternating pairs of 2 s):`);
let ratio, p99x, shadowCost;
{
  const b = await start([bareHttp]);
  const s = await start(serveArgs('churn', routeFile('churn', { stable: { version: '1' } })));
  ({ ratio, p99x } = await sideBySide(
    'mlv serve classifier / bare node:http',
    b.url,
    `${s.url}/invocations`,
    classifierBody,
  ));
  const sh = await start(
    serveArgs(
      'churn',
      routeFile('churn-shadow', { model: 'churn', stable: { version: '1' }, shadow: { version: '2', percent: 100 } }),
    ),
  );
  const r = await sideBySide(
    'with shadow 100 % / without',
    `${s.url}/invocations`,
    `${sh.url}/invocations`,
    classifierBody,
  );
  shadowCost = 1 - r.ratio;
  await Promise.all([stop(b), stop(s), stop(sh)]);
}
const rssMax = Math.max(...rows.filter((r) => r.label.startsWith('mlv serve')).map((r) => r.rss));
console.log(`
targets (classifier, c=16):
  throughput vs bare node:http  ${(ratio * 100).toFixed(0)} %   (target ≥ 65 %)
  p99 vs bare node:http         ${p99x.toFixed(2)}×   (target ≤ 2×)
  peak RSS of mlv serve         ${rssMax.toFixed(0)} MB (target ≤ 150 MB)
  shadow 100 % cost             ${(shadowCost * 100).toFixed(0)} %   (target ≤ 25 %)
  route swap failed requests    ${swap.failed}      (target 0)`);
