import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InputError, NotFoundError, RemoteError } from '../../src/errors.js';
import { artifactUriToProxyPath } from '../../src/mlflow/artifacts.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { isNotFound } from '../../src/mlflow/errors.js';
import { mlflowError, rejection, sendJson, startServer, testConfig, type Handler, type TestServer } from './helpers.js';

const PROXY = '/api/2.0/mlflow-artifacts/artifacts';

let server: TestServer | undefined;
let client: MlflowClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

const temps: string[] = [];
function temp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlv-artifacts-'));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** An in-memory artifact proxy that behaves like MLflow's (listing, 500 on a missing file). */
function proxy(store = new Map<string, Buffer>()): { store: Map<string, Buffer>; handler: Handler } {
  const handler: Handler = (q, res) => {
    if (!q.path.startsWith(PROXY)) return sendJson(res, 404, {});
    const rel = decodeURIComponent(q.path.slice(PROXY.length + 1));
    if (q.method === 'PUT') {
      store.set(rel, q.bytes);
      return sendJson(res, 200, {});
    }
    if (q.method === 'DELETE') {
      store.delete(rel);
      return sendJson(res, 200, {});
    }
    if (q.path === PROXY) {
      const dir = q.query.get('path') ?? '';
      const prefix = dir === '' ? '' : `${dir}/`;
      const entries = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
      for (const [key, value] of store) {
        if (!key.startsWith(prefix)) continue;
        const [head, ...rest] = key.slice(prefix.length).split('/');
        entries.set(
          head!,
          rest.length > 0 ? { path: head!, is_dir: true } : { path: head!, is_dir: false, file_size: value.length },
        );
      }
      return sendJson(
        res,
        200,
        entries.size === 0 ? {} : { files: [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : 1)) },
      );
    }
    const data = store.get(rel);
    if (!data) {
      // What MLflow 2.17/3.6 answer (fixtures/mlflow-reference/*/12-*.json), server path included.
      return mlflowError(
        res,
        500,
        'INTERNAL_ERROR',
        `The following failures occurred while downloading one or more artifacts from /srv/mlflow/artifacts:\n##### File ${rel} #####\n[Errno 2] No such file or directory: '/srv/mlflow/artifacts/${rel}'`,
      );
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.end(data);
  };
  return { store, handler };
}

async function setup(handler: Handler, maxRetries = 2): Promise<{ server: TestServer; client: MlflowClient }> {
  server = await startServer(handler);
  client = new MlflowClient(testConfig(server.url, { maxRetries }));
  return { server, client };
}

describe('artifactUriToProxyPath', () => {
  it.each([
    ['mlflow-artifacts:/2/abc/artifacts/model/MLmodel', '2/abc/artifacts/model/MLmodel'],
    ['mlflow-artifacts:///2/abc/artifacts', '2/abc/artifacts'],
    ['mlflow-artifacts://host:5000/2/abc', '2/abc'],
    ['2/abc/artifacts/', '2/abc/artifacts'],
    ['/2//abc/./x', '2/abc/x'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(artifactUriToProxyPath(input)).toBe(expected);
  });

  it.each(['2/../x', 'mlflow-artifacts:/2/%2E%2E/x', 'a\\b', 'file:///tmp/x', 'runs:/r/model', 's3://b/k'])(
    'rejects %j',
    (input) => {
      expect(() => artifactUriToProxyPath(input)).toThrow(InputError);
    },
  );
});

describe('upload', () => {
  it('PUTs the file bytes to the encoded proxy path', async () => {
    const { store, handler } = proxy();
    const { server, client } = await setup(handler);
    const dir = temp();
    const file = path.join(dir, 'w.bin');
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    writeFileSync(file, bytes);
    const seen: number[] = [];
    const r = await client.artifacts.uploadFile(file, 'mlflow-artifacts:/2/r1/artifacts/my model/w.bin', {
      onProgress: (n) => seen.push(n),
    });
    expect(r).toEqual({ remotePath: '2/r1/artifacts/my model/w.bin', localPath: file, bytes: 7 });
    expect(server.requests[0]!.method).toBe('PUT');
    expect(server.requests[0]!.path).toBe(`${PROXY}/2/r1/artifacts/my%20model/w.bin`);
    expect(server.requests[0]!.headers['content-type']).toBe('application/octet-stream');
    expect(server.requests[0]!.headers['content-length']).toBe('7');
    expect(store.get('2/r1/artifacts/my model/w.bin')).toEqual(bytes);
    expect(seen.at(-1)).toBe(7);
  });

  it('uploads an empty file', async () => {
    const { store, handler } = proxy();
    const { client } = await setup(handler);
    const file = path.join(temp(), 'empty.txt');
    writeFileSync(file, '');
    await client.uploadFile(file, '1/r/artifacts/empty.txt');
    expect(store.get('1/r/artifacts/empty.txt')).toEqual(Buffer.alloc(0));
  });

  it('re-sends the whole file when a PUT is retried', async () => {
    const { store, handler } = proxy();
    let n = 0;
    const { server, client } = await setup((q, res, raw) =>
      ++n === 1 ? mlflowError(res, 503, 'UNAVAILABLE', 'busy') : handler(q, res, raw),
    );
    const file = path.join(temp(), 'f.txt');
    writeFileSync(file, 'hello artifact');
    await client.uploadFile(file, '1/r/artifacts/f.txt');
    expect(server.requests.map((r) => r.body)).toEqual(['hello artifact', 'hello artifact']);
    expect(store.get('1/r/artifacts/f.txt')?.toString()).toBe('hello artifact');
  });

  it('reports a missing local file as an input error (exit 2) before sending anything', async () => {
    const { server, client } = await setup(proxy().handler);
    const err = await rejection(client.uploadFile('/nonexistent/model.onnx', '1/x'));
    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('cannot read /nonexistent/model.onnx: no such file or directory');
    expect(server.requests).toHaveLength(0);
  });
});

describe('download', () => {
  it('writes the bytes to the destination, creating directories, leaving no temp file', async () => {
    const { handler } = proxy(new Map([['2/r/artifacts/model/MLmodel', Buffer.from('artifact_path: model\n')]]));
    const { client } = await setup(handler);
    const dir = temp();
    const dest = path.join(dir, 'out', 'nested', 'MLmodel');
    const r = await client.downloadFile('mlflow-artifacts:/2/r/artifacts/model/MLmodel', dest);
    expect(r).toEqual({ remotePath: '2/r/artifacts/model/MLmodel', localPath: dest, bytes: 21 });
    expect(readFileSync(dest, 'utf8')).toBe('artifact_path: model\n');
    expect(readdirSync(path.dirname(dest))).toEqual(['MLmodel']);
  });

  it("maps MLflow's 500 for a missing file to not-found, without the server path, without retrying", async () => {
    const { server, client } = await setup(proxy().handler);
    const err = await rejection(client.downloadFile('2/r/artifacts/model/missing.txt', path.join(temp(), 'x')));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.exitCode).toBe(2);
    expect(isNotFound(err)).toBe(true);
    expect(err.message).toBe(`artifact 2/r/artifacts/model/missing.txt not found on MLflow at ${server.url}`);
    expect(err.message).not.toContain('/srv/mlflow');
    expect(server.requests).toHaveLength(1);
  });

  it('leaves the old destination untouched and no partial file when the connection breaks', async () => {
    const { client } = await setup((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
      res.write(Buffer.alloc(300, 7));
      setTimeout(() => res.socket?.destroy(), 20);
    }, 0);
    const dir = temp();
    const dest = path.join(dir, 'model.onnx');
    writeFileSync(dest, 'previous version');
    const err = await rejection(client.downloadFile('1/r/artifacts/model.onnx', dest));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.exitCode).toBe(3);
    expect(readFileSync(dest, 'utf8')).toBe('previous version');
    expect(readdirSync(dir)).toEqual(['model.onnx']);
  });

  it('retries a download whose connection broke and then delivers the whole file', async () => {
    const full = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    let n = 0;
    const { server, client } = await setup((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(full.length) });
      if (++n === 1) {
        res.write(full.subarray(0, 1000));
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end(full);
    });
    const dest = path.join(temp(), 'blob.bin');
    await client.downloadFile('1/r/artifacts/blob.bin', dest);
    expect(readFileSync(dest)).toEqual(full);
    expect(server.requests).toHaveLength(2);
  });

  it('reports a destination it cannot write as an input error', async () => {
    const { handler } = proxy(new Map([['1/f', Buffer.from('x')]]));
    const { client } = await setup(handler);
    const dir = temp();
    writeFileSync(path.join(dir, 'file'), '');
    const err = await rejection(client.downloadFile('1/f', path.join(dir, 'file', 'sub', 'f')));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^could not create directory /);
  });
});

describe('directories', () => {
  it('uploads a tree and downloads it back identically', async () => {
    const { store, handler } = proxy();
    const { client } = await setup(handler);
    const src = temp();
    const files: Record<string, string> = {
      MLmodel: 'flavors: {}\n',
      'model.onnx': 'onnx-bytes',
      'sub dir/a.txt': 'a',
      'sub dir/deeper/b.txt': 'b',
    };
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
      writeFileSync(path.join(src, rel), content);
    }
    const up = await client.uploadDirectory(src, 'mlflow-artifacts:/3/run/artifacts/model');
    expect(up.files.map((f) => f.remotePath)).toEqual([
      '3/run/artifacts/model/MLmodel',
      '3/run/artifacts/model/model.onnx',
      '3/run/artifacts/model/sub dir/a.txt',
      '3/run/artifacts/model/sub dir/deeper/b.txt',
    ]);
    expect(up.bytes).toBe(24);
    expect([...store.keys()].sort()).toEqual(up.files.map((f) => f.remotePath));

    const listing = await client.artifacts.list('3/run/artifacts/model');
    expect(listing).toEqual([
      { path: 'MLmodel', is_dir: false, file_size: 12 },
      { path: 'model.onnx', is_dir: false, file_size: 10 },
      { path: 'sub dir', is_dir: true },
    ]);

    const dest = temp();
    const down = await client.downloadDirectory('3/run/artifacts/model', dest);
    expect(down.bytes).toBe(24);
    for (const [rel, content] of Object.entries(files))
      expect(readFileSync(path.join(dest, rel), 'utf8')).toBe(content);
  });

  it('refuses listing names that would escape the destination', async () => {
    const { client } = await setup((q, res) =>
      q.path === PROXY ? sendJson(res, 200, { files: [{ path: '..', is_dir: true }] }) : sendJson(res, 200, {}),
    );
    const err = await rejection(client.downloadDirectory('1/r', temp()));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.code).toBe('MLV_REMOTE_PROTOCOL');
  });

  it('reports an empty or missing remote directory as not found', async () => {
    const { client } = await setup(proxy().handler);
    const err = await rejection(client.downloadDirectory('9/none', temp()));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe(`no artifacts under 9/none on MLflow at ${server!.url}`);
  });

  it('deletes an artifact', async () => {
    const { store, handler } = proxy(new Map([['1/a', Buffer.from('x')]]));
    const { client } = await setup(handler);
    await client.artifacts.delete('mlflow-artifacts:/1/a');
    expect(store.size).toBe(0);
  });
});
