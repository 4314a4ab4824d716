import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { availability, findTool, freePort, ownProcess, waitUntil } from './tools.js';

/**
 * A real HAProxy (Debian's package) for tests: one frontend on a free 127.0.0.1 port, one backend
 * `be` balancing roundrobin between the servers `stable` and `canary` by weight, and the runtime
 * API on a unix socket (`stats socket <tmp>/admin.sock mode 600 level admin`), driven with node:net.
 *
 *   const hap = await startHaproxy({ stable: 'http://127.0.0.1:4001', canary: 'http://127.0.0.1:4002', weights: { stable: 100, canary: 0 } });
 *   await hap.setWeight('canary', 25);      // `set weight be/canary 25`
 *   hap.url                                  // http://127.0.0.1:PORT
 *   hap.socket                               // for `node scripts/haproxy-weight.mjs ${hap.socket} be/canary {weight}`
 *   await hap.stop();
 *
 * The binary: MLV_TEST_HAPROXY, else /usr/sbin/haproxy, else /usr/bin/haproxy. Use
 * `describe.skipIf(haproxy.skip)`: missing → skipped locally, a failure in CI.
 */

export const haproxy = availability(
  'haproxy',
  findTool('MLV_TEST_HAPROXY', ['/usr/sbin/haproxy', '/usr/bin/haproxy']),
  'run .ci/run (or: apt-get update && apt-get install -y haproxy)',
);

export type HaproxyServer = 'stable' | 'canary';

export interface StartHaproxyOptions {
  /** Where the two servers listen: `http://127.0.0.1:PORT` or `127.0.0.1:PORT`. */
  stable: string;
  canary: string;
  /** Initial weights, 0–256 (default stable 100, canary 0). */
  weights?: { stable: number; canary: number };
}

export interface RunningHaproxy {
  /** `http://127.0.0.1:PORT`, the frontend. */
  url: string;
  port: number;
  /** The runtime API socket (admin level). */
  socket: string;
  /** The generated haproxy.cfg. */
  config: string;
  /** `set weight be/<server> <weight>`; throws with HAProxy's answer when it is not empty (an error). */
  setWeight(server: HaproxyServer | `be/${string}`, weight: number): Promise<void>;
  /** The current weight of a server (`get weight be/<server>`). */
  getWeight(server: HaproxyServer | `be/${string}`): Promise<number>;
  /** Any runtime API command; resolves with HAProxy's answer. */
  command(cmd: string): Promise<string>;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const address = (url: string) => {
  const u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`);
  return `${u.hostname}:${u.port}`;
};

export function haproxyConfig(o: {
  port: number;
  socket: string;
  stable: string;
  canary: string;
  weights: { stable: number; canary: number };
}): string {
  return [
    'global',
    `  stats socket ${o.socket} mode 600 level admin`,
    // One thread: picks stay strictly in roundrobin order, and HAProxy takes one core at most.
    '  nbthread 1',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    'frontend fe',
    `  bind 127.0.0.1:${o.port}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    `  server stable ${address(o.stable)} weight ${o.weights.stable}`,
    `  server canary ${address(o.canary)} weight ${o.weights.canary}`,
    '',
  ].join('\n');
}

/** Sends one command to an HAProxy runtime API socket and resolves with the whole answer. */
export function runtimeCommand(socket: string, cmd: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    const chunks: Buffer[] = [];
    conn.setTimeout(timeoutMs, () => conn.destroy(new Error(`haproxy ${socket}: no answer to "${cmd}"`)));
    conn.on('connect', () => conn.end(`${cmd}\n`));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('error', reject);
    conn.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString());
    });
  });
}

const serverName = (s: string) => (s.includes('/') ? s : `be/${s}`);

export async function startHaproxy(opts: StartHaproxyOptions): Promise<RunningHaproxy> {
  const binary = haproxy.binary;
  if (!binary) throw new Error(haproxy.missing);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlv-haproxy-'));
  const socket = path.join(dir, 'admin.sock');
  const cfgFile = path.join(dir, 'haproxy.cfg');
  const weights = opts.weights ?? { stable: 100, canary: 0 };

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = haproxyConfig({ port, socket, stable: opts.stable, canary: opts.canary, weights });
    writeFileSync(cfgFile, config);
    let output = '';
    // -db: stay in the foreground, no daemon; -f: our config only.
    const proc = spawn(binary, ['-db', '-f', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-4000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    try {
      await waitUntil(
        async () =>
          exited ||
          (await runtimeCommand(socket, 'show info', 1000).then(
            () => true,
            () => false,
          )),
        () => `haproxy's runtime API at ${socket}; its output: ${output}`,
        10_000,
      );
    } catch (err) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    if (exited) {
      if (attempt < 3 && /cannot bind|address already in use/i.test(output)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`haproxy exited at start (code ${proc.exitCode}): ${output}`);
    }
    const stop = ownProcess(proc, dir);
    const command = (cmd: string) => runtimeCommand(socket, cmd);
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      socket,
      config,
      command,
      async setWeight(server, weight) {
        if (!Number.isInteger(weight) || weight < 0 || weight > 256)
          throw new Error(`haproxy weights are whole numbers 0–256, got ${weight}`);
        const answer = (await command(`set weight ${serverName(server)} ${weight}`)).trim();
        if (answer !== '') throw new Error(`haproxy: set weight ${serverName(server)} ${weight}: ${answer}`);
      },
      async getWeight(server) {
        const answer = (await command(`get weight ${serverName(server)}`)).trim();
        // "25 (initial 100)"
        const m = /^(\d+)\b/.exec(answer);
        if (!m) throw new Error(`haproxy: get weight ${serverName(server)}: ${answer}`);
        return Number(m[1]);
      },
      stop,
    };
  }
}
