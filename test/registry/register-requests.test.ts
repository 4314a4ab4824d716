import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/commands/register.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';

/**
 * The requests one `mlv register` sends (issue 12 item 6), counted by a proxy in front of the
 * embedded server that can also play an MLflow 2 server (`/version` → 2.17.2).
 */

let server: RunningServer;
let proxy: http.Server;
let url: string;
const seen: string[] = [];
let mlflowVersion: string | undefined;

beforeAll(async () => {
  server = await startServer({ storeDir: path.join(tempDir('mlv-reqs-'), 'store'), host: '127.0.0.1', port: 0 });
  const target = new URL(server.url);
  const agent = new http.Agent({ keepAlive: true });
  proxy = http.createServer((req, res) => {
    const route = (req.url ?? '').split('?')[0]!.replace(/\/artifacts\/.*\/model\//, '/artifacts/…/model/');
    seen.push(
      `${req.method} ${route.replace(/^\/api\/2\.0\/mlflow\//, '/').replace(/\/logged-models\/m-\w+/, '/logged-models/ID')}`,
    );
    if (route === '/version' && mlflowVersion) {
      res.end(mlflowVersion);
      return;
    }
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await server?.close();
});

async function requestsOf(input: Parameters<typeof register>[1]) {
  const client = new MlflowClient(resolveClientConfig({ MLFLOW_TRACKING_URI: url }, undefined)!);
  const t = testContext({ connect: async () => ({ client, label: 'proxy', close: () => client.close() }) });
  seen.length = 0;
  try {
    return { result: await register(t.ctx, input), requests: [...seen].sort() };
  } finally {
    await t.ctx.close();
  }
}

const onnx = path.join(repoRoot, 'fixtures/models/classifier-v1.onnx');
const FILES = ['MLmodel', 'conda.yaml', 'model.onnx', 'python_env.yaml', 'requirements.txt'].map(
  (f) => `PUT /api/2.0/mlflow-artifacts/artifacts/…/model/${f}`,
);
const input = (name: string, semver: string) => ({
  path: onnx,
  name,
  semver,
  metrics: { auc: 0.9, loss: 0.2 },
  params: { lr: '0.1' },
});

describe('requests per register', () => {
  it('a first version on MLflow 3: 15 requests, each endpoint once', async () => {
    const { requests, result } = await requestsOf(input('reqs', '1.0.0'));
    expect(result).toMatchObject({ version: '1', created: true, model_id: expect.stringMatching(/^m-/) });
    expect(requests).toEqual(
      [
        'GET /model-versions/search',
        'GET /experiments/get-by-name',
        'POST /experiments/create',
        'GET /version',
        'POST /runs/create',
        'POST /runs/log-batch',
        'POST /logged-models',
        ...FILES,
        'PATCH /logged-models/ID',
        'POST /registered-models/create',
        'POST /model-versions/create',
        'POST /runs/update',
      ].sort(),
    );
  });

  it('the next version: 14 (the experiment and the model exist; no search to settle a race that did not happen)', async () => {
    const { requests, result } = await requestsOf(input('reqs', '1.1.0'));
    expect(result).toMatchObject({ version: '2', created: true });
    expect(requests).toHaveLength(14);
    expect(requests.filter((r) => r.includes('search'))).toEqual(['GET /model-versions/search']);
    expect(requests).not.toContain('POST /registered-models/create');
  });

  it('the identical retry reads and creates nothing', async () => {
    const { requests, result } = await requestsOf(input('reqs', '1.1.0'));
    expect(result).toMatchObject({ version: '2', created: false });
    expect(requests).toEqual(
      ['GET /model-versions/search', 'GET /experiments/get-by-name', 'GET /version', 'GET /model-versions/get'].sort(),
    );
  });

  it('on MLflow 2 no logged model is made', async () => {
    mlflowVersion = '2.17.2';
    try {
      const { requests, result } = await requestsOf(input('reqs', '1.2.0'));
      expect(result).toMatchObject({ version: '3', created: true, model_id: null });
      expect(requests.filter((r) => r.includes('logged-models'))).toEqual([]);
      expect(requests).toHaveLength(12);
    } finally {
      mlflowVersion = undefined;
    }
  });
});
