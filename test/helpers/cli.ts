import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const mlvBin = path.join(repoRoot, 'bin', 'mlv.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws if it is not exactly one JSON document). */
  json<T = any>(): T;
}

export function tempDir(prefix = 'mlv-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/**
 * Runs the built `bin/mlv.js` (run `npm run build` first; `npm test` does) with a clean
 * environment: temp HOME, NO_COLOR, no inherited MLflow variables, CI set so nothing prompts.
 */
export function runMlv(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MLFLOW_') && !k.startsWith('MLV_') && k !== 'FORCE_COLOR') base[k] = v;
  }
  const cwd = opts.cwd ?? tempDir();
  const env = { ...base, HOME: cwd, NO_COLOR: '1', CI: 'true', ...opts.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mlvBin, ...args], { cwd, env, stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      resolve({
        code,
        signal,
        stdout,
        stderr: Buffer.concat(err).toString(),
        json: () => JSON.parse(stdout),
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}
