import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBackend } from '../../src/rollout/backends/command.js';
import type { TrafficTarget } from '../../src/rollout/backends/types.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { haproxy, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';

/**
 * The command backend against a real HAProxy (Debian's haproxy package; `.ci/run` installs it):
 * HAProxy on loopback in front of two tiny node:http backends, weights set through its runtime API
 * socket by the user's command (socat when installed, else scripts/haproxy-weight.mjs), and real
 * requests through HAProxy showing the split follows.
 */

const hasSocat = spawnSync('sh', ['-c', 'command -v socat']).status === 0;
const weightScript = path.join(repoRoot, 'scripts/haproxy-weight.mjs');

let hap: RunningHaproxy;
const backends: http.Server[] = [];

async function backend(name: string): Promise<string> {
  const s = http.createServer((_, res) => res.writeHead(200, { connection: 'close' }).end(name));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  backends.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function get(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${hap.url}/`, { agent: false }, (res) => {
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

describe.skipIf(haproxy.skip)('command backend driving real HAProxy', () => {
  beforeAll(async () => {
    hap = await startHaproxy({ stable: await backend('stable'), canary: await backend('canary') });
  });
  afterAll(async () => {
    await hap?.stop();
    for (const s of backends) await new Promise<void>((r) => s.close(() => r()));
  });

  const t = (weight: number, phase: TrafficTarget['phase'] = 'progressing'): TrafficTarget => ({
    phase,
    weight,
    candidate: { version: '7', ref: '7' },
    stable: { version: '6', ref: '@production' },
  });

  const viaSocat = () =>
    new CommandBackend(
      `echo "set weight be/canary {weight}" | socat stdio unix-connect:${hap.socket} && echo "set weight be/stable {stable_weight}" | socat stdio unix-connect:${hap.socket}`,
      { verify: `echo "get weight be/canary" | socat stdio unix-connect:${hap.socket} | cut -d' ' -f1` },
    );
  const viaScript = () =>
    new CommandBackend(`node ${weightScript} ${hap.socket} be/canary {weight} be/stable {stable_weight}`, {
      verify: `node ${weightScript} ${hap.socket} be/canary`,
    });

  it.each([
    ['scripts/haproxy-weight.mjs', viaScript, true],
    ['socat', viaSocat, hasSocat],
  ] as const)(
    'sets the weights per step through %s and real requests follow the split',
    async (how, make, available) => {
      if (!available) return expect(how).toBe('socat'); // socat is optional; the script path always runs
      const b = make();
      await b.apply(t(0, 'rolled_back'));
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
    },
  );

  it('a failing command fails the step, with its exit code and last stderr line', async () => {
    const b = new CommandBackend(
      `node ${weightScript} ${hap.socket} be/nope {weight} || { echo "no such server" >&2; exit 3; }`,
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
