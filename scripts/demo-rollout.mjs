#!/usr/bin/env node
// `npm run demo:rollout`: progressive rollouts on the embedded registry, as a tutorial — a healthy
// candidate walked through 10 → 50 → 100 % and promoted, then a slow one rolled back by itself
// at the first bad measurement. Real `mlv serve`, real HTTP traffic from this script, no setup.
//
// It runs the real CLI (bin/mlv.js) in a fresh temporary MLV_HOME, so it never touches ./.mlv or a
// configured MLflow server (MLFLOW_TRACKING_URI is removed from its environment).
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { bin, bold, chapter, demoHome, dim, green, keep, models, red, root, shown as shownIn } from './demo-kit.mjs';

const { home, store, env } = demoHome('mlv-demo-rollout-');
const shown = (args) => shownIn(args, home);

/**
 * Runs `mlv ARGS`, echoing the command; fails the demo on an unexpected exit code. Asynchronous, so
 * the traffic this script sends keeps flowing while a command runs.
 */
async function mlv(args, { expect = 0, note } = {}) {
  console.log(`\n${bold('$')} ${bold(`mlv ${shown(args)}`)}`);
  const child = spawn(process.execPath, [bin, ...args], { cwd: home, env, stdio: 'inherit' });
  const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c ?? 128)));
  if (code !== expect) fail(`expected exit code ${expect} from \`mlv ${shown(args)}\`, got ${code}`);
  if (note) console.log(dim(`  ↳ exit code ${code}: ${note}`));
}

let server;
let traffic;
let stopping = false;
function fail(message) {
  console.error(red(`\ndemo: ${message}`));
  cleanup();
  process.exit(1);
}
function cleanup() {
  stopping = true;
  traffic?.stop();
  if (server && server.exitCode === null) server.kill('SIGTERM');
  if (!keep) rmSync(home, { recursive: true, force: true });
}
process.on('SIGINT', () => fail('interrupted'));

/** `mlv serve NAME` in the background; resolves with its URL. */
function serve(name) {
  const args = ['--json', 'serve', name, '--port', '0', '--refresh', '200ms'];
  console.log(`\n${bold('$')} ${bold(`mlv ${shown(args)} &`)}`);
  server = spawn(process.execPath, [bin, ...args], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.on('data', (b) => process.stdout.write(dim(b.toString())));
  return new Promise((resolve) => {
    let out = '';
    server.stdout.on('data', (b) => {
      out += b.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) resolve(JSON.parse(line).url);
    });
    server.once('exit', (code) => stopping || fail(`mlv serve exited (${code})`));
  });
}

/** Requests from many users, a few at a time, until stopped (what production traffic would be). */
function startTraffic(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let stop = false;
  let n = 0;
  const one = () =>
    new Promise((resolve) => {
      const req = http.request(
        `${url}/invocations`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-unit-id': `user-${n++}` } },
        (res) => res.resume().on('end', resolve),
      );
      req.on('error', resolve);
      req.end(JSON.stringify({ inputs: [[Math.random(), Math.random(), Math.random(), Math.random()]] }));
    });
  const workers = Array.from({ length: 4 }, async () => {
    while (!stop) await one();
  });
  return {
    stop() {
      stop = true;
      return Promise.all(workers).then(() => agent.destroy());
    },
  };
}

/** A classifier with the fixture's signature that spends several ms per request: the bad candidate. */
async function writeSlowClassifier() {
  const { encodeModel, slowClassifierSpec } = await import(path.join(root, 'dist/onnx/builder.js'));
  const file = path.join(home, 'classifier-v3-slow.onnx');
  writeFileSync(file, encodeModel(slowClassifierSpec(64)));
  return file;
}

const started = Date.now();
console.log(bold('mlv demo — progressive rollouts with health analysis and automatic rollback'));
console.log(dim(`An embedded registry in ${store}; mlv serve on a loopback port; traffic from this script.`));

const NAME = 'churn';
chapter('Two versions in the registry, v1 in production', 'The registry workflow of `npm run demo`, in three lines.');
await mlv(['register', path.join(models, 'classifier-v1.onnx'), '--name', NAME, '--semver', '1.0.0']);
await mlv(['register', path.join(models, 'classifier-v2.onnx'), '--name', NAME, '--semver', '1.1.0']);
await mlv(['promote', NAME, 'v1.0.0', '--to', 'production', '--yes']);

chapter('Serve it', 'The route says who takes traffic; mlv serve polls it, so a rollout only has to change the route.');
await mlv(['route', 'set', NAME, '--stable', '@production']);
const url = await serve(NAME);
traffic = startTraffic(url);
console.log(dim(`  ↳ traffic: 4 concurrent users → ${url}/invocations`));

const quick = ['--step-duration', '4s', '--interval', '1s', '--min-requests', '10', '--metrics-url', `${url}/metrics`];
chapter(
  'Start a rollout of v1.1.0',
  'Everything is checked before anything is written: the refs are READY, the analysis is valid, the',
  'backend (the route) answers. The built-in checks: candidate error rate ≤ 1 %, p99 ≤ 200 ms, drift',
  'against stable ≤ 0.1, and an always-valid sequential test that its error rate is not worse than',
  "stable's. Steps are seconds here so the demo is short; in production they are minutes.",
);
await mlv(['rollout', 'start', NAME, '--candidate', 'v1.1.0', '--steps', '10,50,100', ...quick, '--max-drift', '1']);

chapter(
  'Drive it',
  'rollout run measures every interval, advances when a step passes and promotes at the end: the',
  '@production alias moves through the same code path as `mlv promote` (audit trail included).',
);
await mlv(['rollout', 'run', NAME], { note: 'promoted' });
await mlv(['rollout', 'history', NAME]);
await mlv(['route', 'show', NAME]);

chapter(
  'A bad candidate',
  'v1.2.0 answers correctly but slowly. Its p99 limit is 5 ms here; the rollout must pull it back',
  'by itself, at the first measurement that crosses it, and say why with the numbers.',
);
await mlv(['register', await writeSlowClassifier(), '--name', NAME, '--semver', '1.2.0']);
await mlv([
  'rollout',
  'start',
  NAME,
  '--candidate',
  'v1.2.0',
  '--steps',
  '25,100',
  ...quick,
  '--max-p99-ms',
  '5',
  '--max-drift',
  '1',
]);
await mlv(['rollout', 'run', NAME], { expect: 1, note: 'rolled back: all traffic is on stable again' });
await mlv(['rollout', 'history', NAME]);
await mlv(['show', NAME]);

await traffic.stop();
traffic = undefined;
stopping = true;
server.kill('SIGTERM');
await new Promise((resolve) => (server.exitCode === null ? server.once('exit', resolve) : resolve()));
console.log(`\n${green('✓')} ${bold(`demo complete in ${Math.round((Date.now() - started) / 1000)} s`)}`);
cleanup();
