import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  ftruncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startServer, type TestServer } from './helpers.js';

/**
 * A 300 MB artifact goes up and comes back down through the client in a CHILD process, which
 * reports its peak RSS (process.resourceUsage().maxRSS). A client that buffered the file would
 * peak above 300 MB; a streaming one stays near Node's baseline.
 */

const SIZE = 300 * 1024 * 1024;
// Measured: Node + the client alone peak at ~60 MB; a transfer adds ~60 MB of not-yet-collected
// chunk buffers, the same for 300 MB and 1 GB. Buffering the file would need > SIZE.
const RSS_LIMIT_MB = 170;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let work: string;
let big: string;
let bigSha: string;
let server: TestServer;
let uploadSha: string | undefined;
let uploadBytes = 0;

/** Compiles src/mlflow (and src/errors.ts) to plain ESM JS the child can import. */
function buildClient(into: string): void {
  const sources = [
    ...readdirSync(path.join(repoRoot, 'src/mlflow'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `src/mlflow/${f}`),
    'src/errors.ts',
  ];
  for (const rel of sources) {
    const out = ts.transpileModule(readFileSync(path.join(repoRoot, rel), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: rel,
    });
    const dest = path.join(into, rel.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
  writeFileSync(path.join(into, 'package.json'), JSON.stringify({ type: 'module', version: '0.0.0-test' }));
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(into, 'node_modules'), 'dir');
  writeFileSync(
    path.join(into, 'transfer.mjs'),
    `import { MlflowClient } from './src/mlflow/client.js';
const [mode, url, local, remote] = process.argv.slice(2);
const client = new MlflowClient({ trackingUri: url, auth: undefined, tls: { rejectUnauthorized: true }, timeoutMs: 60000, maxRetries: 0, backoffFactor: 0 });
const started = Date.now();
const r = mode === 'upload' ? await client.uploadFile(local, remote)
  : mode === 'download' ? await client.downloadFile(remote, local)
  : { bytes: 0 };
await client.close();
console.log(JSON.stringify({ bytes: r.bytes, ms: Date.now() - started, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
`,
  );
}

function runChild(args: string[]): Promise<{ bytes: number; ms: number; maxRssMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(work, 'transfer.mjs'), ...args], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!));
    });
  });
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), h);
  return h.digest('hex');
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'mlv-stream-'));
  buildClient(work);
  // Sparse-ish: zeros with a distinct 4 KiB block every 32 MiB, so content errors show up in the hash.
  big = path.join(work, 'big.bin');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, SIZE);
  for (let at = 0; at < SIZE; at += 32 * 1024 * 1024) writeSync(fd, Buffer.alloc(4096, (at >> 25) + 1), 0, 4096, at);
  closeSync(fd);
  bigSha = await sha256(big);
  server = await startServer(
    async (q, res, raw) => {
      if (q.method === 'PUT') {
        const h = createHash('sha256');
        uploadBytes = 0;
        for await (const chunk of raw) {
          uploadBytes += (chunk as Buffer).length;
          h.update(chunk as Buffer);
        }
        uploadSha = h.digest('hex');
        return sendJson(res, 200, {});
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) });
      await pipeline(createReadStream(big), res);
    },
    { streamBodies: true },
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('streaming a 300 MB artifact', () => {
  it('has a baseline far below the limit (the client loaded, nothing transferred)', async () => {
    const r = await runChild(['baseline', server.url, '', '']);
    console.log(`baseline: child peak RSS ${r.maxRssMb.toFixed(0)} MB`);
    expect(r.maxRssMb).toBeLessThan(RSS_LIMIT_MB - 50);
  });

  it('uploads with bounded memory', async () => {
    const r = await runChild(['upload', server.url, big, '1/run/artifacts/big.bin']);
    console.log(`upload: ${SIZE / 2 ** 20} MiB in ${r.ms} ms, child peak RSS ${r.maxRssMb.toFixed(0)} MB`);
    expect(r.bytes).toBe(SIZE);
    expect(uploadBytes).toBe(SIZE);
    expect(uploadSha).toBe(bigSha);
    expect(r.maxRssMb).toBeLessThan(RSS_LIMIT_MB);
  }, 120_000);

  it('downloads with bounded memory into the destination', async () => {
    const dest = path.join(work, 'down', 'big.bin');
    const r = await runChild(['download', server.url, dest, '1/run/artifacts/big.bin']);
    console.log(`download: ${SIZE / 2 ** 20} MiB in ${r.ms} ms, child peak RSS ${r.maxRssMb.toFixed(0)} MB`);
    expect(r.bytes).toBe(SIZE);
    expect(statSync(dest).size).toBe(SIZE);
    expect(await sha256(dest)).toBe(bigSha);
    expect(readdirSync(path.dirname(dest))).toEqual(['big.bin']);
    expect(r.maxRssMb).toBeLessThan(RSS_LIMIT_MB);
  }, 120_000);
});
