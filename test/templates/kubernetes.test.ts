import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseRoute } from '../../src/core/serve/route.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { prometheus } from '../helpers/prometheus.js';

// templates/kubernetes/: every manifest parses, and the names, labels, selectors and ports agree
// with each other, with the Prometheus scrape config, with the README's `mlv rollout` commands,
// with `mlv serve`'s flags and route format, and with what the kubernetes backend patches.

const dir = path.join(repoRoot, 'templates/kubernetes');

/**
 * What the kubernetes backend of `mlv rollout` (src/rollout/backends/kubernetes.ts, rollout
 * branch) reads and writes, copied from it while it was not merged yet: the HTTPRoute's API group
 * and version, weights in hundredths of a percent (stable + canary = 10000), and the replica split.
 * When the module is present the test below checks these copies against it.
 */
const BACKEND = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  weightTotal: 10_000,
  replicaSplit(total: number, weight: number): { stable: number; canary: number } {
    if (weight <= 0) return { stable: total, canary: 0 };
    if (weight >= 100) return { stable: 0, canary: total };
    const canary = Math.min(total - 1, Math.max(1, Math.ceil((total * weight) / 100)));
    return { stable: total - canary, canary };
  },
};

/** `mlv serve`'s flags (src/commands/serve.ts, serve branch); checked against the real registration when present. */
const SERVE_FLAGS = ['--host', '--port', '--refresh', '--route', '--auth-token', '--log', '--log-dir', '--threads'];

type Obj = Record<string, any>;

function load(): { file: string; doc: Obj }[] {
  const out: { file: string; doc: Obj }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const d of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      expect(d.errors, `${file}: ${d.errors.join('; ')}`).toEqual([]);
      const doc = d.toJS() as Obj | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}
const docs = load();
const objects = docs.filter((d) => d.doc.kind && d.doc.kind !== 'Kustomization').map((d) => d.doc);
const of = (kind: string) => objects.filter((o) => o.kind === kind);
const named = (kind: string, name: string): Obj => {
  const o = of(kind).find((x) => x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in templates/kubernetes`);
  return o;
};
const matches = (selector: Obj, labels: Obj) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
const kustomization = docs.find((d) => d.file === 'kustomization.yaml')!.doc;

const MODEL = 'churn';
const TRACKS = ['stable', 'canary'] as const;
const deployment = (track: string) => named('Deployment', `mlv-serve-${MODEL}-${track}`);
const podOf = (track: string) => deployment(track).spec.template;
const container = (track: string): Obj => podOf(track).spec.containers[0];

/** The value of `--flag` in an args list. */
const flag = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
/** `--flag value` pairs of the README's `mlv rollout start … --kube-mode MODE …` command. */
function readmeRollout(mode: string): Record<string, string> {
  const cmd = readme
    .split(/\n(?=mlv rollout start)/)
    .map((b) => b.split('```')[0]!.replace(/\\\n\s*/g, ' '))
    .find((b) => b.startsWith('mlv rollout start') && b.includes(`--kube-mode ${mode}`));
  if (!cmd) throw new Error(`README.md has no mlv rollout start … --kube-mode ${mode}`);
  return Object.fromEntries([...cmd.matchAll(/(--[\w-]+) ([^\s-][^\s]*)/g)].map((m) => [m[1], m[2]]));
}

describe('templates/kubernetes', () => {
  it('holds the objects the README lists, each apiVersion/kind/name, kustomize applying all but the Secret', () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
    expect(names).toEqual(
      [
        'ConfigMap/mlv-serve-churn-route',
        'Deployment/mlv-serve-churn-canary',
        'Deployment/mlv-serve-churn-stable',
        'HTTPRoute/mlv-serve-churn',
        'Secret/mlv-serve-churn',
        'Service/mlv-serve-churn',
        'Service/mlv-serve-churn-canary',
        'Service/mlv-serve-churn-stable',
      ].sort(),
    );
    for (const o of objects) expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': MODEL });
    for (const n of names) expect(readme).toContain(n.split('/')[1]);
    expect(kustomization.resources.sort()).toEqual(
      [
        'deployment-canary.yaml',
        'deployment-stable.yaml',
        'httproute.yaml',
        'route-configmap.yaml',
        'services.yaml',
      ].sort(),
    );
    for (const f of kustomization.resources) expect(existsSync(path.join(dir, f))).toBe(true);
  });

  it('Deployments: selectors match their own pods only, one container port `http` that the probes use', () => {
    for (const track of TRACKS) {
      const d = deployment(track);
      const other = podOf(track === 'stable' ? 'canary' : 'stable');
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
      // Overlapping selectors would make the two Deployments fight over each other's pods.
      expect(matches(d.spec.selector.matchLabels, other.metadata.labels)).toBe(false);
      expect(d.spec.template.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'mlv-serve', track });

      const c = container(track);
      expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      const portNames = new Set(c.ports.map((p: Obj) => p.name));
      expect(c.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
      expect(c.startupProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
      for (const p of [c.readinessProbe, c.startupProbe, c.livenessProbe])
        expect(portNames.has(p.httpGet.port)).toBe(true);

      // The grace period covers preStop's sleep plus mlv serve's drain (it exits ≤ 2 s after SIGTERM).
      const [cmd, seconds] = c.lifecycle.preStop.exec.command;
      expect(cmd).toBe('sleep');
      expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(seconds) + 2 + 1);
      // The annotations for annotation-based discovery name the same port and path.
      expect(d.spec.template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(c.ports[0].containerPort),
        'prometheus.io/path': '/metrics',
      });
    }
    // Everything but the names, the track and the version file is the same in both tracks.
    const strip = (track: string) =>
      JSON.stringify(deployment(track))
        .replaceAll(`mlv-serve-${MODEL}-${track}`, 'NAME')
        .replaceAll(`"track":"${track}"`, 'TRACK')
        .replaceAll(`"${track}.json"`, 'FILE')
        .replace(/"replicas":\d+/, 'REPLICAS');
    expect(strip('canary')).toBe(strip('stable'));
  });

  it('the pods run `mlv serve MODEL --host 0.0.0.0 --port <http> --route <its track file>`, registry and token from the Secret', async () => {
    const secret = named('Secret', `mlv-serve-${MODEL}`);
    const configMap = named('ConfigMap', `mlv-serve-${MODEL}-route`);
    // The flags exist in `mlv serve` (its real registration once src/commands/serve.ts is merged).
    const serveFile = path.join(repoRoot, 'src/commands/serve.ts');
    let known = SERVE_FLAGS;
    if (existsSync(serveFile)) {
      const { registerServe } = (await import(pathToFileURL(serveFile).href)) as { registerServe(p: Command): void };
      const program = new Command();
      registerServe(program);
      known = program.commands.find((c) => c.name() === 'serve')!.options.map((o) => o.long!);
    }
    const versions: Record<string, string> = {};
    for (const track of TRACKS) {
      const c = container(track);
      const args: string[] = c.args;
      expect(args.slice(0, 2)).toEqual(['serve', MODEL]);
      for (const a of args.filter((x) => x.startsWith('--'))) expect(known, `mlv serve ${a}`).toContain(a);
      expect(flag(args, '--host')).toBe('0.0.0.0');
      expect(Number(flag(args, '--port'))).toBe(c.ports[0].containerPort);
      expect(args).not.toContain('--auth-token'); // the token comes from MLV_SERVE_TOKEN, not argv

      // --route is the track's file of the ConfigMap, mounted read-only.
      const route = flag(args, '--route')!;
      const mount = c.volumeMounts.find((m: Obj) => route.startsWith(m.mountPath + '/'));
      expect(mount.readOnly).toBe(true);
      const volume = podOf(track).spec.volumes.find((v: Obj) => v.name === mount.name);
      expect(volume.configMap.name).toBe(configMap.metadata.name);
      const item = volume.configMap.items.find((i: Obj) => path.posix.join(mount.mountPath, i.path) === route);
      expect(item.key).toBe(`${track}.json`);
      const parsed = parseRoute(configMap.data[item.key], item.key);
      expect(parsed.model).toBe(MODEL);
      expect(parsed.candidate).toBeNull(); // one version per track: the split is Kubernetes'
      versions[track] = parsed.stable.version;

      // Secrets: every secretKeyRef names a key of the Secret.
      const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e]));
      for (const name of ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_TOKEN', 'MLV_SERVE_TOKEN']) {
        expect(env[name].valueFrom.secretKeyRef).toEqual({ name: secret.metadata.name, key: name });
        expect(Object.keys(secret.stringData)).toContain(name);
      }
      // MLV_HOME (the model cache) is writable with a read-only root filesystem.
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(c.volumeMounts.map((m: Obj) => m.mountPath)).toContain(env.MLV_HOME.value);
    }
    expect(versions.stable).not.toBe(versions.canary);
    // The example Secret holds placeholders only.
    for (const v of Object.values(secret.stringData) as string[])
      expect(v).toMatch(/^(replace-me|https:\/\/mlflow\.example\.com)$/);
  });

  it('Services select the tracks they name, on the pods’ `http` port', () => {
    const podsOf = (svc: Obj) => TRACKS.filter((t) => matches(svc.spec.selector, podOf(t).metadata.labels));
    expect(podsOf(named('Service', `mlv-serve-${MODEL}`))).toEqual(['stable', 'canary']);
    expect(podsOf(named('Service', `mlv-serve-${MODEL}-stable`))).toEqual(['stable']);
    expect(podsOf(named('Service', `mlv-serve-${MODEL}-canary`))).toEqual(['canary']);
    for (const svc of of('Service')) {
      for (const p of svc.spec.ports) {
        for (const t of podsOf(svc)) expect(container(t).ports.map((x: Obj) => x.name)).toContain(p.targetPort);
      }
    }
  });

  it('the HTTPRoute is what the backend patches: Gateway API v1, backendRefs naming both Services and their ports, weights for weight 0', () => {
    const route = named('HTTPRoute', `mlv-serve-${MODEL}`);
    expect(route.apiVersion).toBe(`${BACKEND.group}/${BACKEND.version}`);
    const args = readmeRollout('httproute');
    expect(args['--httproute']).toBe(route.metadata.name);
    const stable = named('Service', args['--stable-service']!);
    const canary = named('Service', args['--canary-service']!);
    expect(route.spec.rules.length).toBeGreaterThan(0);
    for (const rule of route.spec.rules) {
      const refs = Object.fromEntries(rule.backendRefs.map((b: Obj) => [b.name, b]));
      expect(Object.keys(refs).sort()).toEqual([canary.metadata.name, stable.metadata.name].sort());
      for (const svc of [stable, canary]) {
        const ref = refs[svc.metadata.name];
        expect(ref.kind ?? 'Service').toBe('Service');
        expect(svc.spec.ports.map((p: Obj) => p.port)).toContain(ref.port);
      }
      // Weight 0 as the backend writes it: stable = total − canary, canary = round(weight · 100).
      expect(refs[stable.metadata.name].weight).toBe(BACKEND.weightTotal);
      expect(refs[canary.metadata.name].weight).toBe(0);
    }
    expect(args['--namespace']).toBe(kustomization.namespace);
  });

  it('the Deployments are what the backend scales: the README’s names, replicas at weight 0 summing to --replicas', () => {
    const args = readmeRollout('replicas');
    const stable = named('Deployment', args['--stable-deployment']!);
    const canary = named('Deployment', args['--canary-deployment']!);
    expect([stable, canary]).toEqual([deployment('stable'), deployment('canary')]);
    const total = Number(args['--replicas']);
    expect({ stable: stable.spec.replicas, canary: canary.spec.replicas }).toEqual(BACKEND.replicaSplit(total, 0));
    expect(args['--namespace']).toBe(kustomization.namespace);
    // The README's example split for --replicas 4.
    expect([5, 25, 50, 100].map((w) => BACKEND.replicaSplit(total, w).canary)).toEqual([1, 1, 2, 4]);
    expect(readme).toContain('give canary 1, 1, 2, 4');
  });

  // Once the backend is merged: its constants agree with BACKEND, and the real backend, through
  // client-node and a kubeconfig, drives these very objects on a loopback API server (GET/PATCH
  // deployments/{name}/scale and httproutes/{name}, JSON merge patch, resourceVersion checked).
  const backendFile = path.join(repoRoot, 'src/rollout/backends/kubernetes.ts');
  it.skipIf(!existsSync(backendFile))('the kubernetes backend scales and re-weights these objects', async () => {
    const backend = (await import(pathToFileURL(backendFile).href)) as {
      GATEWAY_GROUP: string;
      GATEWAY_VERSION: string;
      replicaSplit(total: number, weight: number): { stable: number; canary: number };
      KubernetesBackend: new (spec: Obj) => { check(t?: Obj): Promise<void>; apply(t: Obj): Promise<string> };
    };
    expect([backend.GATEWAY_GROUP, backend.GATEWAY_VERSION]).toEqual([BACKEND.group, BACKEND.version]);
    for (const total of [1, 2, 4, 10])
      for (const w of [0, 0.5, 5, 25, 50, 99.5, 100])
        expect(backend.replicaSplit(total, w)).toEqual(BACKEND.replicaSplit(total, w));

    const ns: string = kustomization.namespace;
    const store = new Map<string, Obj>();
    let rv = 1;
    for (const d of of('Deployment'))
      store.set(`/apis/apps/v1/namespaces/${ns}/deployments/${d.metadata.name}/scale`, {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: d.metadata.name, namespace: ns, resourceVersion: String(rv++) },
        spec: { replicas: d.spec.replicas },
      });
    for (const r of of('HTTPRoute'))
      store.set(`/apis/${r.apiVersion}/namespaces/${ns}/httproutes/${r.metadata.name}`, {
        ...structuredClone(r),
        metadata: { ...r.metadata, namespace: ns, resourceVersion: String(rv++) },
      });
    const api = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const send = (code: number, body: unknown) =>
          res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
        const obj = store.get(new URL(req.url!, 'http://x').pathname);
        if (!obj) return send(404, { kind: 'Status', code: 404, reason: 'NotFound', message: `${req.url} not found` });
        if (req.method === 'GET') return send(200, obj);
        const patch = JSON.parse(Buffer.concat(chunks).toString()) as Obj;
        if (patch.metadata?.resourceVersion !== obj.metadata.resourceVersion)
          return send(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' });
        // JSON merge patch of spec; arrays (rules, backendRefs) are replaced whole.
        obj.spec = { ...obj.spec, ...patch.spec };
        obj.metadata.resourceVersion = String(rv++);
        send(200, obj);
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    try {
      const kubeconfig = path.join(tempDir('mlv-kube-'), 'config');
      const server = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
      // client-node 1.4 refuses an http:// server unless TLS verification is off (nothing to verify here).
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 't', cluster: { server, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 't', user: { token: 't' } }],
          contexts: [{ name: 't', context: { cluster: 't', user: 't' } }],
          'current-context': 't',
        }),
      );
      const target = (weight: number) => ({
        phase: 'progressing',
        weight,
        candidate: { version: '4', ref: '4' },
        stable: { version: '3', ref: '@production' },
      });

      const r = readmeRollout('replicas');
      const byReplicas = new backend.KubernetesBackend({
        kind: 'kubernetes',
        mode: 'replicas',
        namespace: r['--namespace'],
        stableDeployment: r['--stable-deployment'],
        canaryDeployment: r['--canary-deployment'],
        replicas: Number(r['--replicas']),
        kubeconfig,
      });
      await byReplicas.check(target(0));
      await byReplicas.apply(target(50));
      const scale = (d: string) => store.get(`/apis/apps/v1/namespaces/${ns}/deployments/${d}/scale`)!.spec.replicas;
      expect([scale(r['--stable-deployment']!), scale(r['--canary-deployment']!)]).toEqual([2, 2]);

      const h = readmeRollout('httproute');
      const byRoute = new backend.KubernetesBackend({
        kind: 'kubernetes',
        mode: 'httproute',
        namespace: h['--namespace'],
        httproute: h['--httproute'],
        stableService: h['--stable-service'],
        canaryService: h['--canary-service'],
        kubeconfig,
      });
      await byRoute.check(target(0));
      await byRoute.apply(target(5.25));
      const patched = store.get(
        `/apis/${BACKEND.group}/${BACKEND.version}/namespaces/${ns}/httproutes/${h['--httproute']}`,
      )!;
      const original = named('HTTPRoute', h['--httproute']!);
      // Only the two weights changed: 5.25 % in hundredths of a percent.
      expect(patched.spec.rules[0].backendRefs).toEqual([
        { ...original.spec.rules[0].backendRefs[0], weight: 9475 },
        { ...original.spec.rules[0].backendRefs[1], weight: 525 },
      ]);
      expect({ ...patched.spec, rules: undefined }).toEqual({ ...original.spec, rules: undefined });
    } finally {
      await new Promise((r) => api.close(r));
    }
  });

  describe('prometheus-scrape.yaml', () => {
    const text = readFileSync(path.join(dir, 'prometheus-scrape.yaml'), 'utf8');
    const job = (parseYaml(text) as Obj).scrape_configs[0];

    /** Prometheus's relabeling (keep, drop, replace), enough for this config. */
    function relabel(input: Record<string, string>, rules: Obj[]): Record<string, string> | null {
      const labels = { ...input };
      for (const r of rules) {
        const value = (r.source_labels ?? []).map((l: string) => labels[l] ?? '').join(r.separator ?? ';');
        const m = new RegExp(`^(?:${r.regex ?? '(.*)'})$`).exec(value);
        const action = r.action ?? 'replace';
        if (action === 'keep' && !m) return null;
        if (action === 'drop' && m) return null;
        if (action === 'replace' && m) {
          const v = String(r.replacement ?? '$1').replace(/\$\{?(\d+)\}?/g, (_, i: string) => m[Number(i)] ?? '');
          if (v === '') delete labels[r.target_label];
          else labels[r.target_label] = v;
        }
        if (!['keep', 'drop', 'replace'].includes(action)) throw new Error(`relabel action ${action} not simulated`);
      }
      return labels;
    }
    /** The targets kubernetes_sd (role pod) makes of a pod: one per container port, with its meta labels. */
    function podTargets(pod: Obj, name: string, namespace: string): Record<string, string>[] {
      const sanitize = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');
      const meta: Record<string, string> = { __meta_kubernetes_namespace: namespace, __meta_kubernetes_pod_name: name };
      for (const [k, v] of Object.entries(pod.metadata.labels ?? {}))
        meta[`__meta_kubernetes_pod_label_${sanitize(k)}`] = String(v);
      for (const [k, v] of Object.entries(pod.metadata.annotations ?? {}))
        meta[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = String(v);
      return pod.spec.containers.flatMap((c: Obj) =>
        (c.ports ?? []).map((p: Obj) => ({
          ...meta,
          __address__: `10.1.2.3:${p.containerPort}`,
          __meta_kubernetes_pod_container_name: c.name,
          __meta_kubernetes_pod_container_port_name: p.name ?? '',
          __meta_kubernetes_pod_container_port_number: String(p.containerPort),
          __metrics_path__: job.metrics_path ?? '/metrics',
          __scheme__: job.scheme ?? 'http',
        })),
      );
    }

    it('keeps one target per mlv serve pod, on its `http` port and /metrics, labelled with its track', () => {
      expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: [kustomization.namespace] } }]);
      for (const track of TRACKS) {
        const targets = podTargets(podOf(track), `mlv-serve-churn-${track}-abc12`, kustomization.namespace)
          .map((t) => relabel(t, job.relabel_configs))
          .filter((t) => t !== null);
        expect(targets).toHaveLength(1);
        const [t] = targets;
        expect(t).toMatchObject({
          __address__: `10.1.2.3:${container(track).ports[0].containerPort}`,
          __metrics_path__: '/metrics',
          track,
          namespace: kustomization.namespace,
          pod: `mlv-serve-churn-${track}-abc12`,
        });
        // No target label collides with one of mlv serve's own (model, version, variant, code).
        expect(Object.keys(t!).filter((k) => !k.startsWith('__'))).toEqual(['track', 'namespace', 'pod']);
      }
      // Pods of something else, or mlv serve pods that opt out, are not scraped.
      const other = structuredClone(podOf('stable'));
      other.metadata.labels['app.kubernetes.io/name'] = 'web';
      expect(podTargets(other, 'web-1', 'mlv').map((t) => relabel(t, job.relabel_configs))).toEqual([null]);
      const optOut = structuredClone(podOf('stable'));
      optOut.metadata.annotations['prometheus.io/scrape'] = 'false';
      expect(podTargets(optOut, 'x', 'mlv').map((t) => relabel(t, job.relabel_configs))).toEqual([null]);
    });

    it('sends the bearer token from the mounted Secret', () => {
      expect(job.authorization.type).toBe('Bearer');
      const secret = named('Secret', `mlv-serve-${MODEL}`);
      // …/<secret name>/<key>: where a Secret volume puts the key.
      const [name, key] = (job.authorization.credentials_file as string).split('/').slice(-2);
      expect([name, key]).toEqual([secret.metadata.name, 'MLV_SERVE_TOKEN']);
    });

    // promtool checks every field and regex. Debian's Prometheus is built without kubernetes_sd,
    // so that block is swapped for a static target; the token file is a temp file.
    it.skipIf(prometheus.skip)('passes promtool check config', () => {
      const promtool = path.join(path.dirname(prometheus.binary ?? ''), 'promtool');
      expect(existsSync(promtool), `promtool next to ${prometheus.binary}`).toBe(true);
      const tmp = tempDir();
      const token = path.join(tmp, 'token');
      writeFileSync(token, 'x');
      const checked = { ...job, kubernetes_sd_configs: undefined, static_configs: [{ targets: ['127.0.0.1:8080'] }] };
      checked.authorization = { ...job.authorization, credentials_file: token };
      const file = path.join(tmp, 'prometheus.yml');
      writeFileSync(file, JSON.stringify({ scrape_configs: [JSON.parse(JSON.stringify(checked))] }));
      const r = spawnSync(promtool, ['check', 'config', file], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
      expect(r.status).toBe(0);
    });
  });
});
