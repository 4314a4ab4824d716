/**
 * `mlv server` end to end: the built CLI (bin/mlv.js) as a child process, on a loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mlvBin, runMlv, tempDir } from '../helpers/cli.js';
import { rawRequest } from './helpers.js';

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the server said it is listening. */
  listening: Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function cwd(): string {
  const d = tempDir('mlv-cli-server-');
  dirs.push(d);
  return d;
}

function startCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Running {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MLFLOW_') && !k.startsWith('MLV_') && k !== 'FORCE_COLOR') env[k] = v;
  }
  const child = spawn(process.execPath, [mlvBin, ...args], {
    cwd: opts.cwd,
    env: { ...env, HOME: opts.cwd, NO_COLOR: '1', CI: 'true', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  let onListening: () => void;
  const listening = new Promise<void>((r) => (onListening = r));
  // Listening = the stderr status line, plus the stdout JSON line with --json (two pipes, any order).
  const check = () => {
    if (err.includes('mlv server listening on ') && (!args.includes('--json') || out.includes('\n'))) onListening();
  };
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    check();
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    check();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, listening, exit };
}

describe('mlv server', () => {
  it('--json --port 0: prints {url, store} once listening, serves the API, and Ctrl-C stops it with exit 0', async () => {
    const dir = cwd();
    const store = path.join(dir, 'registry');
    const srv = startCli(['--json', 'server', '--port', '0', '--store', 'registry'], { cwd: dir });
    await srv.listening;
    const info = JSON.parse(srv.stdout().trim()) as { url: string; store: string };
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.store).toBe(store);
    expect(srv.stderr()).toContain(`mlv server listening on ${info.url} (store: ${store})`);

    expect((await rawRequest(info.url, 'GET', '/health')).text).toBe('OK');
    const created = await rawRequest(info.url, 'POST', '/api/2.0/mlflow/registered-models/create', {
      body: JSON.stringify({ name: 'from-cli' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(created.status).toBe(200);
    expect(existsSync(path.join(store, 'mlv.db'))).toBe(true);

    srv.child.kill('SIGINT');
    expect(await srv.exit).toEqual({ code: 0, signal: null });
    expect(srv.stderr()).toContain('mlv server stopping');
    // exactly one JSON document on stdout
    expect(srv.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('SIGTERM is a normal stop too, and the store keeps what was written', async () => {
    const dir = cwd();
    const srv = startCli(['--json', 'server', '--port', '0'], { cwd: dir, env: { MLV_HOME: 'home-store' } });
    await srv.listening;
    const info = JSON.parse(srv.stdout().trim()) as { url: string; store: string };
    expect(info.store).toBe(path.join(dir, 'home-store'));
    await rawRequest(info.url, 'POST', '/api/2.0/mlflow/registered-models/create', {
      body: JSON.stringify({ name: 'kept' }),
      headers: { 'Content-Type': 'application/json' },
    });
    srv.child.kill('SIGTERM');
    expect((await srv.exit).code).toBe(0);

    const again = startCli(['--json', 'server', '--port', '0'], { cwd: dir, env: { MLV_HOME: 'home-store' } });
    await again.listening;
    const url = (JSON.parse(again.stdout().trim()) as { url: string }).url;
    const got = await rawRequest(url, 'GET', '/api/2.0/mlflow/registered-models/get?name=kept');
    expect(got.status).toBe(200);
    again.child.kill('SIGINT');
    expect((await again.exit).code).toBe(0);
  });

  it('defaults to ./.mlv and prints nothing on stdout without --json', async () => {
    const dir = cwd();
    const srv = startCli(['server', '--port', '0'], { cwd: dir });
    await srv.listening;
    expect(srv.stderr()).toContain(`(store: ${path.join(dir, '.mlv')})`);
    srv.child.kill('SIGINT');
    expect((await srv.exit).code).toBe(0);
    expect(srv.stdout()).toBe('');
  });

  it('warns that a non-loopback bind has no authentication', async () => {
    const srv = startCli(['server', '--host', '0.0.0.0', '--port', '0'], { cwd: cwd() });
    await srv.listening;
    expect(srv.stderr()).toMatch(/listening on 0\.0\.0\.0: the registry has no authentication/);
    srv.child.kill('SIGINT');
    expect((await srv.exit).code).toBe(0);
  });

  it('a port in use exits 2 with a hint', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runMlv(['server', '--port', String(port)], { cwd: cwd() });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: port ${port} is in use on 127.0.0.1`);
      expect(r.stderr).toContain('hint: pass --port <n> for another port, or --port 0 for any free one');
      expect(r.stdout).toBe('');
    } finally {
      blocker.close();
    }
  });

  it.each([['70000'], ['abc']])('--port %s is a usage error (exit 2)', async (port) => {
    const r = await runMlv(['server', '--port', port], { cwd: cwd() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port must be a whole number from 0 to 65535');
  });

  it.each([
    ['a file', (store: string) => writeFileSync(store, 'not a directory\n'), 'EEXIST'],
    [
      'a directory whose mlv.db is not a database',
      (store: string) => {
        mkdirSync(store);
        writeFileSync(path.join(store, 'mlv.db'), 'x'.repeat(4096));
      },
      'file is not a database',
    ],
  ])('a store that is %s exits 2 naming it, for mlv server and the embedded default', async (_what, make, why) => {
    const dir = cwd();
    const store = path.join(dir, 'store');
    make(store);
    for (const r of [
      await runMlv(['server', '--port', '0', '--store', store], { cwd: dir }),
      await runMlv(['show'], { cwd: dir, env: { MLV_HOME: store } }),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: cannot open the registry store ${store}: `);
      expect(r.stderr).toContain(why);
      expect(r.stderr).toContain('hint: point MLV_HOME (or mlv server --store) at a writable directory');
      expect(r.stderr).not.toContain('internal error');
      expect(r.stdout).toBe('');
    }
  });

  it('an unusable --host exits 2', async () => {
    const r = await runMlv(['server', '--host', '203.0.113.7', '--port', '0'], { cwd: cwd() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--host 203.0.113.7 is not an address of this machine');
  });
});
