import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBackend } from '../../src/rollout/backends/command.js';
import type { TrafficTarget } from '../../src/rollout/backends/types.js';
import { tempDir } from '../helpers/cli.js';

/**
 * The command backend against a real HAProxy (Debian's haproxy package; `.ci/run` installs it):
 * HAProxy on loopback in front of two tiny node:http backends, weights set through its runtime API
 * socket by the user's command, and real requests through HAProxy showing the split follows.
 */

const haproxyBin = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
const hasSocat = spawnSync('sh', ['-c', 'command -v socat']).status === 0;

let haproxy: ChildProcess | undefined;
const backends: http.Server[] = [];
let frontPort = 0;
let sock = '';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function backend(name: string): Promise<number> {
  const s = http.createServer((_, res) => res.writeHead(200, { connection: 'close' }).end(name));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  backends.push(s);
  return (s.address() as AddressInfo).port;
}

function get(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: frontPort, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

async function split(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const b = await get();
    counts[b] = (counts[b] ?? 0) + 1;
  }
  return counts;
}

// socat when present, else a node one-liner speaking to the runtime API socket.
const send = (cmd: string) =>
  hasSocat
    ? `echo "${cmd}" | socat stdio unix-connect:${sock}`
    : `${process.execPath} -e 'const s=require("net").connect(process.argv[1]);s.end(process.argv[2]+"\\n");s.pipe(process.stdout)' ${sock} "${cmd}"`;

describe.runIf(haproxyBin)('command backend driving real HAProxy', () => {
  beforeAll(async () => {
    const dir = tempDir('mlv-haproxy-');
    sock = path.join(dir, 'admin.sock');
    const [stable, canary] = [await backend('stable'), await backend('canary')];
    frontPort = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      `global
  stats socket ${sock} mode 600 level admin
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:${frontPort}
  default_backend be
backend be
  balance roundrobin
  server stable 127.0.0.1:${stable} weight 100
  server canary 127.0.0.1:${canary} weight 0
`,
    );
    haproxy = spawn(haproxyBin!, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(sock)).toBe(true);
  });
  afterAll(async () => {
    haproxy?.kill('SIGTERM');
    for (const s of backends) await new Promise<void>((r) => s.close(() => r()));
  });

  const t = (weight: number, phase: TrafficTarget['phase'] = 'progressing'): TrafficTarget => ({
    phase,
    weight,
    candidate: { version: '7', ref: '7' },
    stable: { version: '6', ref: '@production' },
  });

  it('sets the weights per step and real requests follow the split', async () => {
    const b = new CommandBackend(
      `${send('set weight be/canary {weight}')} && ${send('set weight be/stable {stable_weight}')}`,
      { verify: `${send('get weight be/canary')} | cut -d' ' -f1` },
    );
    expect(await split(40)).toEqual({ stable: 40 });
    for (const w of [25, 50]) {
      expect(await b.apply(t(w))).toBe(`command: weight ${w}`);
      const counts = await split(200);
      // Round robin with weights w : 100 − w is deterministic to within a request or two.
      expect(Math.abs((counts.canary ?? 0) - 2 * w)).toBeLessThanOrEqual(2);
    }
    await b.apply(t(0, 'rolled_back'));
    expect(await split(40)).toEqual({ stable: 40 });
    await b.apply(t(100, 'promoted'));
    expect(await split(40)).toEqual({ canary: 40 });
  });

  it('a failing command fails the step, with its exit code and last stderr line', async () => {
    const b = new CommandBackend(
      `${send('set weight be/nope {weight}')} | grep -q Done || { echo "no such server" >&2; exit 3; }`,
    );
    await expect(b.apply(t(5))).rejects.toThrow('the backend command exited 3: no such server');
    const v = new CommandBackend('true', { verify: 'echo 17' });
    await expect(v.apply(t(5))).rejects.toThrow('the verify command printed "17", not the weight just set (5)');
  });
});

describe('command backend substitution', () => {
  it.each([
    [{ weight: 5.25, phase: 'progressing' }, 'w=5.25 s=94.75 c=7 st=6'],
    [{ weight: 0, phase: 'rolled_back' }, 'w=0 s=100 c=7 st=6'],
    [{ weight: 100, phase: 'promoted' }, 'w=100 s=0 c=7 st=7'],
  ] as const)('%j', (x, expected) => {
    const vars = CommandBackend.vars({
      ...x,
      candidate: { version: '7', ref: '7' },
      stable: { version: '6', ref: '6' },
    });
    expect(CommandBackend.substitute('w={weight} s={stable_weight} c={candidate} st={stable}', vars)).toBe(expected);
  });
  it('passes the values in the environment too', async () => {
    const dir = tempDir('mlv-cmd-');
    const out = path.join(dir, 'env');
    await new CommandBackend(
      `echo "$MLV_WEIGHT $MLV_STABLE_WEIGHT $MLV_CANDIDATE_VERSION $MLV_STABLE_VERSION $MLV_PHASE" > ${out}`,
    ).apply({
      phase: 'progressing',
      weight: 25,
      candidate: { version: '7', ref: '7' },
      stable: { version: '6', ref: '6' },
    });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(out, 'utf8')).toBe('25 75 7 6 progressing\n');
  });
});
