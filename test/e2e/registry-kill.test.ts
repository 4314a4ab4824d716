import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisterResult } from '../../src/commands/register.js';
import { mlvBin, runMlv, tempDir } from '../helpers/cli.js';
import { clientFor, spawnMlvServer, type SpawnedServer } from './registry-helpers.js';

/**
 * `mlv register` killed with SIGKILL in the middle of uploading a large artifact leaves no
 * half-registered version, and running the same command again succeeds.
 *
 * A small proxy between the CLI and `mlv server` forwards the upload until STALL_AT bytes have
 * passed and then stops forwarding, so the kill is known to land mid-upload.
 */

const SIZE = 48 * 1024 * 1024;
const STALL_AT = 8 * 1024 * 1024;

interface Proxy {
  url: string;
  /** Resolves once an artifact upload has been stalled after STALL_AT bytes. */
  stalled: Promise<number>;
  stall: boolean;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const { hostname, port } = new URL(target);
  let onStall!: (n: number) => void;
  const proxy: Proxy = {
    url: '',
    stall: true,
    stalled: new Promise<number>((resolve) => (onStall = resolve)),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
  // No keep-alive towards mlv server, so that stopping it does not wait for idle proxy sockets.
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const up = http.request(
      { host: hostname, port, method: req.method, path: req.url, headers: req.headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    // The CLI was killed: abort the upstream request as a dropped connection would.
    req.on('close', () => {
      if (!req.complete) up.destroy();
    });
    const isUpload = req.method === 'PUT' && (req.url ?? '').includes('/model/weights.bin');
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      if (isUpload && proxy.stall && seen >= STALL_AT) return;
      seen += chunk.length;
      up.write(chunk);
      if (isUpload && proxy.stall && seen >= STALL_AT) {
        req.pause();
        onStall(seen);
      }
    });
    req.on('end', () => up.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.keepAliveTimeout = 1000;
  return proxy;
}

describe('mlv register killed mid-upload', () => {
  let server: SpawnedServer;
  let proxy: Proxy;
  let dir: string;
  let artifact: string;
  let digest: string;

  beforeAll(async () => {
    server = await spawnMlvServer();
    proxy = await startProxy(server.url);
    dir = tempDir('mlv-e2e-kill-');
    // A directory artifact with one large file (not ONNX: no model parsing, just bytes).
    const modelDir = path.join(dir, 'model');
    (await import('node:fs')).mkdirSync(modelDir);
    artifact = modelDir;
    const fd = openSync(path.join(modelDir, 'weights.bin'), 'w');
    const block = Buffer.alloc(1024 * 1024);
    const hash = createHash('sha256');
    for (let i = 0; i < SIZE / block.length; i++) {
      block.fill(i % 251);
      writeSync(fd, block);
      hash.update(block);
    }
    closeSync(fd);
    // The directory digest: sha256 over "<sha256 of file>  <relative path>\n" lines.
    digest = createHash('sha256')
      .update(`${hash.digest('hex')}  weights.bin\n`)
      .digest('hex');
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('leaves no version behind, and a retry registers it', async () => {
    const args = [
      mlvBin,
      '--tracking-uri',
      proxy.url,
      'register',
      artifact,
      '--name',
      'big',
      '--semver',
      '1.0.0',
      '--metric',
      'auc=0.9',
    ];
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: { ...process.env, MLFLOW_TRACKING_URI: '', MLV_HOME: '', NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    const forwarded = await proxy.stalled;
    expect(forwarded).toBeGreaterThanOrEqual(STALL_AT);
    expect(forwarded).toBeLessThan(SIZE);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const client = clientFor(server.url);
    try {
      // The registered model may exist (it is created after the upload, so here it should not),
      // but no version of it may.
      const model = await client.findRegisteredModel('big');
      expect(model).toBeNull();
      const versions = [];
      for await (const v of client.iterateModelVersions({ filter: "name='big'" })) versions.push(v);
      expect(versions).toEqual([]);

      proxy.stall = false;
      const retry = await runMlv(
        [
          '--json',
          '--tracking-uri',
          proxy.url,
          'register',
          artifact,
          '--name',
          'big',
          '--semver',
          '1.0.0',
          '--metric',
          'auc=0.9',
        ],
        {
          cwd: dir,
          timeoutMs: 120_000,
        },
      );
      expect(retry.stderr).not.toContain('error');
      expect(retry.code).toBe(0);
      const out = retry.json<RegisterResult>();
      expect(out).toMatchObject({
        name: 'big',
        version: '1',
        semver: '1.0.0',
        sha256: digest,
        created: true,
        status: 'READY',
      });
      expect(out.artifact).toEqual({ kind: 'directory', size_bytes: SIZE, files: 1 });
      const files = await client.listArtifacts(out.source);
      expect(files).toEqual([{ path: 'weights.bin', is_dir: false, file_size: SIZE }]);
      const mv = await client.getModelVersion('big', '1');
      expect(mv.tags.find((t) => t.key === 'mlv.sha256')?.value).toBe(digest);
    } finally {
      await client.close();
    }
  }, 120_000);
});
