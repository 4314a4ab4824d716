import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Finding the external programs some tests drive (Prometheus, HAProxy) and deciding what a test
 * does when one is missing: in CI (CI=true, as `.ci/run` runs) a missing program is a failure,
 * since `.ci/run` installs it; on a developer machine the tests skip with a message saying how to
 * install it.
 */

/** Where `.ci/run` caches what it extracts from Debian packages (MLV_CI_CACHE overrides). */
export function ciCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MLV_CI_CACHE && env.MLV_CI_CACHE !== '' ? env.MLV_CI_CACHE : path.join(os.homedir(), '.cache', 'mlv-ci');
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first candidate that is an executable file (an env value that is set must be one). */
export function findTool(
  envName: string,
  candidates: string[],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!executable(fromEnv)) throw new Error(`${envName}=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  return candidates.find(executable);
}

export interface ToolAvailability {
  /** Absolute path of the program, or undefined when it is missing. */
  binary: string | undefined;
  /**
   * For `describe.skipIf(tool.skip)`: true only when the program is missing outside CI. In CI
   * the tests run and fail in `start…()` with `missing`.
   */
  skip: boolean;
  /** Why it is missing and how to install it (empty when found). */
  missing: string;
}

export function availability(name: string, binary: string | undefined, howTo: string): ToolAvailability {
  const missing = binary ? '' : `${name} not found: ${howTo}`;
  const skip = !binary && process.env.CI !== 'true';
  if (skip) console.warn(`skipping the ${name} tests: ${missing}`);
  return { binary, skip, missing };
}

/** A TCP port free on 127.0.0.1 right now (for programs that cannot listen on port 0 and say which port they got). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `probe` every `everyMs` until it returns true; throws `what` after `timeoutMs`. */
export async function waitUntil(
  probe: () => Promise<boolean> | boolean,
  what: () => string,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Ties a started program to this process: it is killed if the tests exit first. The returned
 * `stop` ends it (SIGTERM, SIGKILL after 5 s) and removes its folder; calling it again is a no-op.
 */
export function ownProcess(proc: ChildProcess, dir: string): () => Promise<void> {
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  return () =>
    (stopped ??= (async () => {
      process.off('exit', killOnExit);
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    })());
}
