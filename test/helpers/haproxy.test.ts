import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './cli.js';
import { haproxy, startHaproxy, type RunningHaproxy } from './haproxy.js';
import { load } from './load.js';

// The helper and scripts/haproxy-weight.mjs against a real HAProxy: real requests through it to
// two node:http servers, the split following the weights set over the runtime API.
//
// Tolerance: `balance roundrobin` is HAProxy's weighted round robin (fwrr), deterministic and
// interleaved: over N consecutive picks a server gets N·w/W within a few picks, whatever the
// concurrency (one HAProxy thread picks in order). We allow ±1 % of N (10 of 1000). A random
// split would not pass reliably: at w/W = 1/4 its count has σ = √(1000·¼·¾) ≈ 13.7, so it lands
// outside ±10 about 47 % of the time (2·(1 − Φ(10/13.7)) = 0.465, R: 2*pnorm(-10/sqrt(187.5))).
const TOLERANCE = 10;

function backend(name: string): Promise<http.Server> {
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'X-Mlv-Variant': name }).end(name));
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}
const urlOf = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

function weightScript(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/haproxy-weight.mjs'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(haproxy.skip)('test/helpers/haproxy (real HAProxy)', () => {
  let stable: http.Server;
  let canary: http.Server;
  let hap: RunningHaproxy;

  beforeAll(async () => {
    [stable, canary] = await Promise.all([backend('stable'), backend('canary')]);
    hap = await startHaproxy({ stable: urlOf(stable), canary: urlOf(canary), weights: { stable: 75, canary: 25 } });
  });
  afterAll(async () => {
    await hap?.stop();
    await Promise.all([stable, canary].map((s) => new Promise((r) => s?.close(r))));
  });

  const through = (requests: number) => load({ url: `${hap.url}/invocations`, requests, concurrency: 8 });

  it('splits real requests by the configured weights, then by weights set over the runtime API', async () => {
    const first = await through(1000);
    expect(first).toMatchObject({ completed: 1000, errors: 0, byStatus: { '200': 1000 } });
    expect(Math.abs(first.byVariant.canary! - 250)).toBeLessThanOrEqual(TOLERANCE);
    expect(first.byVariant.stable! + first.byVariant.canary!).toBe(1000);

    await hap.setWeight('canary', 50);
    await hap.setWeight('be/stable', 50);
    expect(await hap.getWeight('canary')).toBe(50);
    const second = await through(1000);
    expect(Math.abs(second.byVariant.canary! - 500)).toBeLessThanOrEqual(TOLERANCE);

    await hap.setWeight('canary', 0);
    expect((await through(200)).byVariant).toEqual({ stable: 200 });
  });

  it('refuses what HAProxy refuses, with its answer', async () => {
    await expect(hap.setWeight('be/nosuch', 5)).rejects.toThrow(/set weight be\/nosuch 5: No such server/);
    await expect(hap.setWeight('canary', 300)).rejects.toThrow(/0–256/);
  });

  it('scripts/haproxy-weight.mjs sets pairs of weights (rounding decimals), reads one back, and exits non-zero on an error', async () => {
    const set = await weightScript(hap.socket, 'be/canary', '24.6', 'be/stable', '75.4');
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(await hap.getWeight('canary')).toBe(25);
    expect(await hap.getWeight('stable')).toBe(75);
    expect(await weightScript(hap.socket, 'be/canary')).toMatchObject({ code: 0, stdout: '25\n' });
    const split = await through(400);
    expect(Math.abs(split.byVariant.canary! - 100)).toBeLessThanOrEqual(TOLERANCE);

    const missing = await weightScript(hap.socket, 'be/nosuch', '5');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/set weight be\/nosuch 5: No such server/);
    expect((await weightScript(hap.socket, 'be/canary', 'lots')).code).toBe(2);
    expect((await weightScript(hap.socket, 'canary', '5')).code).toBe(2);
    const down = await weightScript(path.join(path.dirname(hap.socket), 'none.sock'), 'be/canary', '5');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/ENOENT/);
  });

  it('templates/haproxy/haproxy.cfg is a valid configuration without warnings', async () => {
    const check = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(haproxy.binary!, ['-c', '-f', path.join(repoRoot, 'templates/haproxy/haproxy.cfg')]);
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(check.out).toMatch(/Configuration file is valid/);
    expect(check.out).not.toMatch(/WARNING|ALERT/);
    expect(check.code).toBe(0);
  });
});
