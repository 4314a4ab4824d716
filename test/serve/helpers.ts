import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { mlvBin, repoRoot, runMlv, tempDir } from '../helpers/cli.js';

/** Helpers of the `mlv serve` end-to-end tests: spawn the built binary, talk HTTP to it. */

export const fixture = (f: string) => path.join(repoRoot, 'fixtures/models', f);

export interface Registry {
  url: string;
  home: string;
}

export async function register(reg: Registry, file: string, name: string): Promise<void> {
  const r = await runMlv(['register', fixture(file), '--name', name], {
    cwd: reg.home,
    env: { MLFLOW_TRACKING_URI: reg.url },
  });
  if (r.code !== 0) throw new Error(`mlv register ${file} failed (${r.code}): ${r.stderr}`);
}

/** Writes a route file atomically (a serve polling it never reads half a file). */
export function writeRoute(file: string, route: Record<string, unknown>): string {
  writeFileSync(file + '.tmp', JSON.stringify(route));
  renameSync(file + '.tmp', file);
  return file;
}

export interface Served {
  url: string;
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `mlv --json serve NAME --port 0 …` against the registry; resolves once it prints its URL. */
export function serve(reg: Registry, name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [mlvBin, '--json', 'serve', name, '--port', '0', ...args], {
    cwd: reg.home,
    env: {
      ...process.env,
      NO_COLOR: '1',
      CI: 'true',
      HOME: reg.home,
      MLV_HOME: path.join(reg.home, '.mlv'),
      MLFLOW_TRACKING_URI: reg.url,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mlv serve did not start: ${err}`));
    }, 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      const first = out === '' || !out.includes('\n');
      out += b.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line && first) {
        clearTimeout(timer);
        resolve({
          url: (JSON.parse(line) as { url: string }).url,
          child,
          stderr: () => err,
          stdout: () => out,
          stop: () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`mlv serve exited with ${code}: ${err}`));
    });
  });
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): any;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** One HTTP request over a keep-alive agent (faster than fetch for thousands of requests). */
export function request(
  url: string,
  opts: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'),
        agent,
        headers: { 'content-type': 'application/json', ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Runs `fn` over `items` with at most `limit` at a time; results in order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (x: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export const ROW = [0.1, 0.2, 0.3, 0.4];
export const invoke = (url: string, unit?: string, body: unknown = { inputs: [ROW] }) =>
  request(`${url}/invocations`, {
    body: JSON.stringify(body),
    headers: unit === undefined ? {} : { 'x-unit-id': unit },
  });

/** Parsed Prometheus text: sample name{labels} → value. */
export function parseMetrics(text: string): {
  names: Set<string>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
} {
  const names = new Set<string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const help = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    if (help) {
      names.add(help[1]!);
      continue;
    }
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { names, samples };
}

export const sum = (
  metrics: ReturnType<typeof parseMetrics>,
  name: string,
  where: Record<string, string> = {},
): number =>
  metrics.samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);

export { tempDir };
