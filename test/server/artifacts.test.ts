/**
 * The artifact proxy (`/api/2.0/mlflow-artifacts/artifacts`) over HTTP: upload, download, list,
 * delete, content types, and confinement of every path to `<store>/artifacts`.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

let s: TestServer;
let outside: string;
const A = '/api/2.0/mlflow-artifacts/artifacts';

beforeAll(async () => {
  s = await startTestServer();
  outside = mkdtempSync(path.join(tmpdir(), 'mlv-outside-'));
  writeFileSync(path.join(outside, 'secret.txt'), 'secret');
});
afterAll(async () => {
  await s.close();
  rmSync(outside, { recursive: true, force: true });
});

const put = (p: string, body: string | Buffer) =>
  s.raw('PUT', `${A}/${p}`, { body, headers: { 'Content-Type': 'application/octet-stream' } });

describe('upload, download, list, delete', () => {
  it('round-trips a file, creating parent directories, with MLflow content types', async () => {
    const mlmodel = 'artifact_path: model\nflavors:\n  python_function:\n    loader_module: x\n';
    expect((await put('2/run1/artifacts/model/MLmodel', mlmodel)).json).toEqual({});
    const weights = randomBytes(1024);
    expect((await put('2/run1/artifacts/model/weights.bin', weights)).status).toBe(200);

    const text = await s.raw('GET', `${A}/2/run1/artifacts/model/MLmodel`);
    expect([text.status, text.contentType, text.text]).toEqual([200, 'text/plain', mlmodel]);
    expect(text.headers['content-disposition']).toBe('attachment; filename=MLmodel');
    expect(text.headers['x-content-type-options']).toBe('nosniff');
    const bin = await s.raw('GET', `${A}/2/run1/artifacts/model/weights.bin`);
    expect(bin.contentType).toBe('application/octet-stream');
    expect(bin.body.equals(weights)).toBe(true);
    const head = await s.raw('HEAD', `${A}/2/run1/artifacts/model/weights.bin`);
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '1024', 0]);
  });

  it.each([
    ['conda.yaml', 'text/plain'],
    ['requirements.txt', 'text/plain'],
    ['model.onnx', 'application/octet-stream'],
    ['chart.png', 'image/png'],
    ['report.html', 'text/html'],
    ['noext', 'application/octet-stream'],
  ])('content type of %s is %s', async (file, ct) => {
    await put(`ct/${file}`, 'x');
    expect((await s.raw('GET', `${A}/ct/${file}`)).contentType).toBe(ct);
  });

  it('overwrites on a second PUT; accepts an empty body', async () => {
    await put('ow/file.txt', 'first version');
    await put('ow/file.txt', 'overwritten\n');
    expect((await s.raw('GET', `${A}/ow/file.txt`)).text).toBe('overwritten\n');
    expect((await put('ow/empty.txt', '')).status).toBe(200);
    expect((await s.raw('GET', `${A}/ow/empty.txt`)).body.length).toBe(0);
  });

  it('lists one directory: names relative to it, sizes for files, {} for a missing path or a file', async () => {
    await put('ls/run/artifacts/model/b.bin', Buffer.alloc(3));
    await put('ls/run/artifacts/model/A.txt', 'hello');
    await put('ls/run/artifacts/model/sub/c.txt', 'c');
    const list = (p?: string) => s.raw('GET', p === undefined ? A : `${A}?path=${encodeURIComponent(p)}`);
    expect((await list('ls/run/artifacts/model')).json).toEqual({
      files: [
        { path: 'A.txt', is_dir: false, file_size: 5 },
        { path: 'b.bin', is_dir: false, file_size: 3 },
        { path: 'sub', is_dir: true },
      ],
    });
    expect((await list('ls/run/artifacts/nope')).json).toEqual({});
    expect((await list('ls/run/artifacts/model/A.txt')).json).toEqual({});
    expect((await list()).json.files).toContainEqual({ path: 'ls', is_dir: true });
  });

  it('a missing file is a 500 INTERNAL_ERROR (as MLflow) whose message does not leak the server path', async () => {
    const r = await s.raw('GET', `${A}/2/run1/artifacts/model/missing.txt`);
    expect([r.status, r.json.error_code]).toEqual([500, 'INTERNAL_ERROR']);
    expect(r.json.message).toContain('2/run1/artifacts/model/missing.txt');
    expect(r.json.message).not.toContain(s.dir);
    const dir = await s.raw('GET', `${A}/2/run1/artifacts/model`);
    expect([dir.status, dir.json.error_code]).toEqual([500, 'INTERNAL_ERROR']);
  });

  it('deletes a file or a whole directory; deleting what is not there is 200', async () => {
    await put('del/x/1.txt', '1');
    await put('del/x/2.txt', '2');
    await put('del/keep.txt', 'k');
    expect((await s.raw('DELETE', `${A}/del/x/1.txt`)).json).toEqual({});
    expect((await s.raw('DELETE', `${A}/del/x`)).status).toBe(200);
    expect((await s.raw('DELETE', `${A}/del/does-not-exist.txt`)).status).toBe(200);
    expect((await s.raw('GET', `${A}?path=del`)).json).toEqual({
      files: [{ path: 'keep.txt', is_dir: false, file_size: 1 }],
    });
  });

  it('refuses to write onto a directory or below a file', async () => {
    await put('shape/dir/file.txt', 'x');
    const ontoDir = await put('shape/dir', 'x');
    expect([ontoDir.status, ontoDir.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    const belowFile = await put('shape/dir/file.txt/inner.txt', 'x');
    expect([belowFile.status, belowFile.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
  });

  it('never lists or serves the temp files of uploads in progress', async () => {
    await put('tmpfiles/real.txt', 'r');
    writeFileSync(path.join(s.dir, 'artifacts', 'tmpfiles', '.mlv-upload-0123456789abcdef.tmp'), 'partial');
    expect((await s.raw('GET', `${A}?path=tmpfiles`)).json).toEqual({
      files: [{ path: 'real.txt', is_dir: false, file_size: 1 }],
    });
    expect((await s.raw('GET', `${A}/tmpfiles/.mlv-upload-0123456789abcdef.tmp`)).status).toBe(500);
    // and a finished upload leaves none behind
    expect(readdirSync(path.join(s.dir, 'artifacts', 'ow')).filter((f) => f.startsWith('.mlv-upload-'))).toEqual([]);
  });

  it('the next upload into a directory removes leftovers of killed uploads older than an hour', async () => {
    const dir = path.join(s.dir, 'artifacts', 'stale');
    mkdirSync(dir, { recursive: true });
    const old = path.join(dir, '.mlv-upload-00000000000000aa.tmp');
    const fresh = path.join(dir, '.mlv-upload-00000000000000bb.tmp');
    writeFileSync(old, 'left by a killed upload');
    writeFileSync(fresh, 'an upload in progress elsewhere');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    expect((await put('stale/new.txt', 'n')).status).toBe(200);
    expect(readdirSync(dir).sort()).toEqual(['.mlv-upload-00000000000000bb.tmp', 'new.txt']);
  });
});

describe('path confinement', () => {
  it.each([
    '2/run1/artifacts/../../escape.txt',
    '2/run1/artifacts/model/%2E%2E/%2E%2E/escape2.txt',
    '2/run1/%252E%252E/%252E%252E/escape3.txt',
    '%2Fetc%2Fescape4.txt',
    '2/run1/a%5C..%5C..%5Cescape5.txt',
    '2/run1/a%00b.txt',
    'C:%2Fescape6.txt',
  ])('PUT %s → 400 Invalid path, nothing written', async (p) => {
    const r = await s.raw('PUT', `${A}/${p}`, { body: 'x' });
    expect([r.status, r.json]).toEqual([400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' }]);
    for (const f of ['escape.txt', 'escape2.txt', 'escape3.txt', 'escape5.txt', 'escape6.txt']) {
      expect(existsSync(path.join(s.dir, f))).toBe(false);
    }
  });

  it.each(['..%2F..%2F', '%2Fetc', 'a/../..'])('GET/DELETE/list with %s → 400', async (p) => {
    expect((await s.raw('GET', `${A}/${p}x`)).status).toBe(400);
    expect((await s.raw('DELETE', `${A}/${p}x`)).status).toBe(400);
    expect((await s.raw('GET', `${A}?path=${p}`)).status).toBe(400);
  });

  it('refuses to follow a symlink that leads out of the store', async () => {
    const root = path.join(s.dir, 'artifacts');
    mkdirSync(path.join(root, 'links'), { recursive: true });
    symlinkSync(outside, path.join(root, 'links', 'out'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'links', 'secret.txt'));
    const read = await s.raw('GET', `${A}/links/secret.txt`);
    expect([read.status, read.json.message]).toEqual([400, 'Invalid path']);
    const readThrough = await s.raw('GET', `${A}/links/out/secret.txt`);
    expect(readThrough.status).toBe(400);
    const write = await put('links/out/planted.txt', 'x');
    expect(write.status).toBe(400);
    expect(existsSync(path.join(outside, 'planted.txt'))).toBe(false);
    const deep = await put('links/out/new/dir/planted.txt', 'x');
    expect(deep.status).toBe(400);
    expect(existsSync(path.join(outside, 'new'))).toBe(false);
    expect((await s.raw('DELETE', `${A}/links/out/secret.txt`)).status).toBe(400);
    expect(existsSync(path.join(outside, 'secret.txt'))).toBe(true);
    const listed = (await s.raw('GET', `${A}?path=links`)).json;
    expect(listed).toEqual({});
  });
});

describe('streaming', () => {
  it('streams a 64 MiB upload and download byte-exact', async () => {
    const chunk = randomBytes(1024 * 1024);
    const total = 64;
    const up = createHash('sha256');
    const { hostname, port } = new URL(s.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: hostname,
          port,
          method: 'PUT',
          path: `${A}/big/blob.bin`,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': chunk.length * total },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const piece = Buffer.from(chunk);
          piece.writeUInt32BE(sent, 0); // every MiB differs
          up.update(piece);
          sent++;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(200);
    const down = createHash('sha256');
    let size = 0;
    await new Promise<void>((resolve, reject) => {
      request({ host: hostname, port, path: `${A}/big/blob.bin` }, (res) => {
        expect(res.headers['content-length']).toBe(String(chunk.length * total));
        res.on('data', (b: Buffer) => {
          down.update(b);
          size += b.length;
        });
        res.on('end', resolve);
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    expect(size).toBe(chunk.length * total);
    expect(down.digest('hex')).toBe(up.digest('hex'));
  });

  it('an upload the client abandons leaves no file and no temp file', async () => {
    const { hostname, port } = new URL(s.url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: hostname,
        port,
        method: 'PUT',
        path: `${A}/abandoned/blob.bin`,
        headers: { 'Content-Length': 10 * 1024 * 1024 },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1024 * 1024));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    // the server notices the broken connection and cleans up
    const dir = path.join(s.dir, 'artifacts', 'abandoned');
    for (let i = 0; i < 50 && existsSync(dir) && readdirSync(dir).length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(path.join(dir, 'blob.bin'))).toBe(false);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
