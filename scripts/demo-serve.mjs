#!/usr/bin/env node
// `npm run demo:serve`: `mlv serve` on the embedded registry, as a tutorial. Registers two versions
// of the bundled ONNX classifier, routes 20 % of units to the candidate (a canary), serves them
// over HTTP, reports conversions, mirrors traffic to a shadow, reads /metrics, and hands the event
// log to `mlv analyze --events` — printing every command and request.
//
// It runs the real CLI (bin/mlv.js) in a fresh temporary MLV_HOME on 127.0.0.1 only, so it never
// touches ./.mlv or a configured MLflow server (MLFLOW_* variables are removed).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { bin, bold, chapter, demoHome, dim, green, keep, models, red, shown as shownIn } from './demo-kit.mjs';

const { home, store, env } = demoHome('mlv-demo-serve-', { CI: 'true' });
const logs = path.join(home, 'logs');
const shown = (args) => shownIn(args, home);

let server;
function fail(message) {
  console.error(red(`\ndemo: ${message}`));
  server?.kill('SIGKILL');
  cleanup();
  process.exit(1);
}

function mlv(args, { expect = 0 } = {}) {
  console.log(`\n${bold('$')} ${bold(`mlv ${shown(args)}`)}`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: home, env, stdio: 'inherit' });
  if ((r.status ?? 128) !== expect) fail(`expected exit code ${expect} from \`mlv ${shown(args)}\`, got ${r.status}`);
}

function cleanup() {
  if (!keep) rmSync(home, { recursive: true, force: true });
  else console.log(dim(`\nkept ${home}`));
}

async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Runs `fn` over `items`, `limit` at a time. */
async function each(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function revision(url, want) {
  for (let i = 0; i < 100; i++) {
    const ready = await (await fetch(`${url}/v2/health/ready`)).json();
    if (ready.route_revision === want) return ready;
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`the server never picked up route revision ${want}`);
}

console.log(bold('mlv serve demo — a canary split and a shadow, logged for mlv analyze'));
console.log(dim(`An embedded registry in ${store}; every port is on 127.0.0.1.`));

const NAME = 'churn';
chapter('Register two versions', 'Version 1 is in production; version 2 is the candidate.');
mlv(['register', path.join(models, 'classifier-v1.onnx'), '--name', NAME, '--semver', '1.0.0']);
mlv(['register', path.join(models, 'classifier-v2.onnx'), '--name', NAME, '--semver', '1.1.0']);

chapter(
  'Route 20 % of units to the candidate',
  'The route is a tag on the registered model, so every `mlv serve` (on any machine) sees it.',
  'A unit is in the candidate iff its GrowthBook v2 bucket is below 0.20 — the same unit, every time.',
);
mlv(['route', 'set', NAME, '--stable', '1', '--candidate', '2', '--weight', '20']);

chapter(
  'Serve it',
  '`mlv serve` loads both versions, warms them up, smoke-checks their outputs, then listens.',
  'It re-reads the route every --refresh and swaps new versions in without dropping a request.',
);
const serveArgs = ['--json', 'serve', NAME, '--port', '0', '--log-dir', logs, '--refresh', '300ms'];
console.log(`\n${bold('$')} ${bold(`mlv ${shown(serveArgs)} &`)}`);
server = spawn(process.execPath, [bin, ...serveArgs], { cwd: home, env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve) => {
  let out = '';
  server.stdout.on('data', (b) => {
    out += b;
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (line) resolve(JSON.parse(line).url);
  });
  server.on('exit', (code) => fail(`mlv serve exited with ${code}`));
});

chapter(
  'One request, MLflow scoring protocol',
  'The answer says which variant and version answered: in the body and in headers.',
);
console.log(
  `\n${bold('$')} ${bold(`curl -s ${url}/invocations -H 'X-Unit-Id: user-42' -H 'Content-Type: application/json' -d '{"inputs": [[0.1, 0.2, 0.3, 0.4]]}'`)}`,
);
const one = await post(`${url}/invocations`, { inputs: [[0.1, 0.2, 0.3, 0.4]] }, { 'x-unit-id': 'user-42' });
console.log(JSON.stringify(one.body));
console.log(
  dim(`  X-Mlv-Variant: ${one.headers.get('x-mlv-variant')}   X-Mlv-Version: ${one.headers.get('x-mlv-version')}`),
);

chapter(
  'Traffic from 2000 users, and their conversions',
  'Each answered unit is logged once as an exposure; conversions come back later through POST /feedback.',
  'Here the candidate converts a little better (a simulation: 12 % vs 10 %).',
);
const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
const variantOf = new Map();
await each(users, 16, async (u) => {
  const r = await post(
    `${url}/invocations`,
    { inputs: [[Math.random(), Math.random(), Math.random(), Math.random()]] },
    { 'x-unit-id': u },
  );
  variantOf.set(u, r.body.variant);
});
const counts = {};
for (const v of variantOf.values()) counts[v] = (counts[v] ?? 0) + 1;
console.log(
  `  answered: ${Object.entries(counts)
    .map(([v, n]) => `${v} ${n} (${((100 * n) / users.length).toFixed(1)} %)`)
    .join(', ')}`,
);
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const conversions = users
  .filter((u) => rand() < (variantOf.get(u) === 'candidate' ? 0.12 : 0.1))
  .map((unit) => ({ unit, metric: 'converted', value: 1 }));
console.log(
  `\n${bold('$')} ${bold(`curl -s ${url}/feedback -d '[{"unit": "user-3", "metric": "converted", "value": 1}, …]'`)}`,
);
console.log(JSON.stringify((await post(`${url}/feedback`, conversions)).body));

chapter(
  'Shadow the candidate instead',
  'A shadow gets a copy of every request after the answer is sent; only the comparison is kept',
  '(largest absolute difference per output, class agreement, latency). Answers still come from stable.',
  "A new --experiment keeps these exposures apart from the canary's.",
);
mlv([
  'route',
  'set',
  NAME,
  '--stable',
  '1',
  '--shadow',
  '2',
  '--shadow-percent',
  '100',
  '--experiment',
  'churn-shadow',
]);
await revision(url, 2);
await each(
  Array.from({ length: 300 }, (_, i) => `visitor-${i}`),
  8,
  (u) =>
    post(
      `${url}/invocations`,
      { inputs: [[Math.random(), Math.random(), Math.random(), Math.random()]] },
      { 'x-unit-id': u },
    ),
);
await new Promise((r) => setTimeout(r, 300));
console.log(
  `\n${bold('$')} ${bold(`curl -s ${url}/metrics | grep -E '^mlv_(requests_total|shadow_(requests|agreement)_total|route_weight)'`)}`,
);
const metrics = await (await fetch(`${url}/metrics`)).text();
for (const line of metrics.split('\n')) {
  if (/^mlv_(requests_total|shadow_(requests|agreement)_total|route_weight)/.test(line)) console.log(line);
}

chapter('Stop the server', 'SIGTERM: stop accepting, finish requests in progress, flush the event log, exit 0.');
server.removeAllListeners('exit');
const exited = new Promise((resolve) => server.once('exit', resolve));
server.kill('SIGTERM');
const code = await exited;
if (code !== 0) fail(`mlv serve exited with ${code} after SIGTERM`);
console.log(
  dim(
    `  exit code 0; log files: ${readdirSync(logs)
      .filter((f) => f.endsWith('.jsonl'))
      .join(', ')}`,
  ),
);

chapter(
  'Analyze the canary from the log',
  'The log is exactly what `mlv analyze --events` reads: exposures and metric rows, one JSON object a line.',
  'The route sent 20 % of units to the candidate, so that is the split to check (sample ratio mismatch).',
);
const files = readdirSync(logs)
  .filter((f) => f.endsWith('.jsonl'))
  .map((f) => path.join(logs, f));
mlv(
  [
    'analyze',
    '--events',
    ...files,
    '--experiment',
    NAME,
    '--metric',
    'converted',
    '--control-variant',
    'stable',
    '--expected-split',
    '80/20',
  ],
  {
    expect: 0,
  },
);

console.log(`\n${green('✓')} ${bold('demo complete')}`);
cleanup();
