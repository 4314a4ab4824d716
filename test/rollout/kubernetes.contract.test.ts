import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesBackend, replicaSplit, type KubernetesSpec } from '../../src/rollout/backends/kubernetes.js';
import type { TrafficTarget } from '../../src/rollout/backends/types.js';
import { tempDir } from '../helpers/cli.js';

/**
 * Contract tests of the kubernetes backend: a small API server on loopback implementing only what
 * the backend uses — GET/PATCH of apps/v1 deployments/{name}/scale and gateway.networking.k8s.io/v1
 * httproutes/{name}, JSON merge patch, 409 Conflict on a stale metadata.resourceVersion — driven
 * through @kubernetes/client-node 1.4 and a kubeconfig file, as against a real cluster.
 */

interface Obj {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: Record<string, unknown>;
}

let server: http.Server;
let kubeconfig = '';
const objects = new Map<string, Obj>();
const requests: { method: string; path: string; contentType?: string; auth?: string }[] = [];
/** Bump this object's resourceVersion once after the next GET (another writer got there first). */
let raceOnce: string | null = null;
let rv = 100;

function put(key: string, spec: Record<string, unknown>) {
  const [, ns, , name] = key.split('/') as [string, string, string, string];
  objects.set(key, { metadata: { name, namespace: ns, resourceVersion: String(++rv) }, spec });
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null)
      out[k] = merge(out[k] as Record<string, unknown>, v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  reason,
  code,
  message,
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      requests.push({
        method: req.method!,
        path: url.pathname,
        contentType: req.headers['content-type'],
        auth: req.headers.authorization,
      });
      const send = (code: number, body: unknown) =>
        res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const scale = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)\/scale$/.exec(url.pathname);
      const route = /^\/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/([^/]+)\/httproutes\/([^/]+)$/.exec(
        url.pathname,
      );
      const key = scale
        ? `deploy/${scale[1]}/scale/${scale[2]}`
        : route
          ? `route/${route[1]}/httproute/${route[2]}`
          : null;
      const obj = key ? objects.get(key) : undefined;
      if (!key || !obj) return send(404, status(404, 'NotFound', `${url.pathname} not found`));
      const view = () =>
        scale
          ? {
              kind: 'Scale',
              apiVersion: 'autoscaling/v1',
              metadata: obj.metadata,
              spec: obj.spec,
              status: { replicas: obj.spec.replicas },
            }
          : { kind: 'HTTPRoute', apiVersion: 'gateway.networking.k8s.io/v1', metadata: obj.metadata, spec: obj.spec };
      if (req.method === 'GET') {
        send(200, view());
        if (raceOnce === key) {
          raceOnce = null;
          obj.metadata.resourceVersion = String(++rv);
        }
        return;
      }
      if (req.method === 'PATCH') {
        if (req.headers['content-type'] !== 'application/merge-patch+json')
          return send(415, status(415, 'UnsupportedMediaType', `unsupported ${req.headers['content-type']}`));
        const patch = JSON.parse(Buffer.concat(chunks).toString()) as {
          metadata?: { resourceVersion?: string };
          spec?: Record<string, unknown>;
        };
        const want = patch.metadata?.resourceVersion;
        if (want !== undefined && want !== obj.metadata.resourceVersion)
          return send(
            409,
            status(
              409,
              'Conflict',
              `Operation cannot be fulfilled on ${obj.metadata.name}: the object has been modified; please apply your changes to the latest version and try again`,
            ),
          );
        obj.spec = merge(obj.spec, patch.spec ?? {});
        obj.metadata.resourceVersion = String(++rv);
        return send(200, view());
      }
      send(405, status(405, 'MethodNotAllowed', req.method!));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  kubeconfig = path.join(tempDir('mlv-kube-'), 'config');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
  - name: contract
    cluster:
      server: http://127.0.0.1:${port}
      insecure-skip-tls-verify: true
users:
  - name: contract
    user:
      token: contract-token
contexts:
  - name: contract
    context:
      cluster: contract
      user: contract
current-context: contract
`,
  );
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  requests.length = 0;
  put('deploy/ml/scale/churn-stable', { replicas: 10 });
  put('deploy/ml/scale/churn-canary', { replicas: 0 });
  put('route/ml/httproute/churn', {
    parentRefs: [{ name: 'gateway' }],
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [
          { name: 'churn-stable', port: 8080, weight: 100 },
          { name: 'churn-canary', port: 8080, weight: 0 },
        ],
      },
    ],
  });
});

const t = (weight: number, phase: TrafficTarget['phase'] = 'progressing'): TrafficTarget => ({
  phase,
  weight,
  candidate: { version: '2', ref: '2' },
  stable: { version: '1', ref: '@production' },
});
const replicas = (): KubernetesSpec => ({
  kind: 'kubernetes',
  mode: 'replicas',
  namespace: 'ml',
  stableDeployment: 'churn-stable',
  canaryDeployment: 'churn-canary',
  replicas: 10,
  kubeconfig,
});
const routeSpec = (): KubernetesSpec => ({
  kind: 'kubernetes',
  mode: 'httproute',
  namespace: 'ml',
  httproute: 'churn',
  stableService: 'churn-stable',
  canaryService: 'churn-canary',
  kubeconfig,
});
const replicasOf = (name: string) => objects.get(`deploy/ml/scale/${name}`)!.spec.replicas;
const weightsOf = () =>
  (
    objects.get('route/ml/httproute/churn')!.spec.rules as { backendRefs: { name: string; weight: number }[] }[]
  )[0]!.backendRefs.map((b) => [b.name, b.weight]);

describe('kubernetes backend (contract)', () => {
  it.each([
    [0, 10, 0],
    [5, 9, 1],
    [25, 7, 3],
    [50, 5, 5],
    [99, 1, 9],
    [100, 0, 10],
  ])('replica split at weight %d: stable %d, canary %d', (w, s, c) =>
    expect(replicaSplit(10, w)).toEqual({ stable: s, canary: c }),
  );

  it('scales the canary up first, then the stable down, with merge patches and the bearer token', async () => {
    const b = new KubernetesBackend(replicas());
    await b.check(t(0));
    expect(await b.apply(t(25))).toBe('kubernetes: churn-stable=7, churn-canary=3 replicas');
    expect([replicasOf('churn-stable'), replicasOf('churn-canary')]).toEqual([7, 3]);
    const patches = requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => [r.path, r.contentType])).toEqual([
      ['/apis/apps/v1/namespaces/ml/deployments/churn-canary/scale', 'application/merge-patch+json'],
      ['/apis/apps/v1/namespaces/ml/deployments/churn-stable/scale', 'application/merge-patch+json'],
    ]);
    expect(new Set(requests.map((r) => r.auth))).toEqual(new Set(['Bearer contract-token']));
    await b.apply(t(0, 'rolled_back'));
    expect([replicasOf('churn-stable'), replicasOf('churn-canary')]).toEqual([10, 0]);
    await b.apply(t(100, 'promoted'));
    expect([replicasOf('churn-stable'), replicasOf('churn-canary')]).toEqual([0, 10]);
  });

  it('a stale resourceVersion (409) is read again and retried', async () => {
    raceOnce = 'deploy/ml/scale/churn-canary';
    await new KubernetesBackend(replicas()).apply(t(50));
    expect([replicasOf('churn-stable'), replicasOf('churn-canary')]).toEqual([5, 5]);
    expect(requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('churn-canary/scale'))).toHaveLength(2);
  });

  it('sets HTTPRoute backendRef weights in hundredths of a percent, keeping the rest of the route', async () => {
    const b = new KubernetesBackend(routeSpec());
    await b.check(t(0));
    raceOnce = 'route/ml/httproute/churn';
    expect(await b.apply(t(5.25))).toBe('kubernetes: httproute churn churn-stable=9475, churn-canary=525 (of 10000)');
    expect(weightsOf()).toEqual([
      ['churn-stable', 9475],
      ['churn-canary', 525],
    ]);
    const spec = objects.get('route/ml/httproute/churn')!.spec as {
      parentRefs: unknown;
      rules: { matches: unknown }[];
    };
    expect(spec.parentRefs).toEqual([{ name: 'gateway' }]);
    expect(spec.rules[0]!.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    await b.apply(t(100, 'promoted'));
    expect(weightsOf()).toEqual([
      ['churn-stable', 0],
      ['churn-canary', 10_000],
    ]);
  });

  it('errors name the object and the API server status', async () => {
    await expect(
      new KubernetesBackend({ ...routeSpec(), httproute: 'nope' } as KubernetesSpec).check(t(0)),
    ).rejects.toThrow(
      /kubernetes: httproute ml\/nope: HTTP 404: \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/ml\/httproutes\/nope not found/,
    );
    await expect(
      new KubernetesBackend({ ...routeSpec(), canaryService: 'other' } as KubernetesSpec).check(t(0)),
    ).rejects.toThrow('httproute ml/churn has no backendRef to Service other');
    await expect(new KubernetesBackend({ ...replicas(), kubeconfig: '/nonexistent' }).check(t(0))).rejects.toThrow(
      /cannot read the kubeconfig \/nonexistent/,
    );
  });
});

describe.runIf(process.env.MLV_TEST_KUBECONFIG)(
  'kubernetes backend against a real cluster (MLV_TEST_KUBECONFIG)',
  () => {
    // Needs Deployments churn-stable and churn-canary in namespace MLV_TEST_NAMESPACE (default "default").
    it('scales the two Deployments and back', async () => {
      const spec = {
        ...(replicas() as Extract<KubernetesSpec, { mode: 'replicas' }>),
        namespace: process.env.MLV_TEST_NAMESPACE ?? 'default',
        replicas: 2,
        kubeconfig: process.env.MLV_TEST_KUBECONFIG,
      };
      const b = new KubernetesBackend(spec);
      await b.check(t(0));
      expect(await b.apply(t(50))).toBe('kubernetes: churn-stable=1, churn-canary=1 replicas');
      expect(await b.apply(t(0, 'rolled_back'))).toBe('kubernetes: churn-stable=2, churn-canary=0 replicas');
    });
  },
);
