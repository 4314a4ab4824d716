import { InputError, RemoteError } from '../../errors.js';
import type { Backend, TrafficTarget } from './types.js';

/**
 * The `kubernetes` backend, through the user's kubeconfig (@kubernetes/client-node 1.4, loaded
 * when first used). Two ways to split traffic:
 *
 *   replicas   scale a stable and a canary Deployment (deployments/{name}/scale) so replicas follow
 *              the weight: canary = ⌈total·w/100⌉ (at least 1 while w > 0), stable = total − canary
 *              (at least 1 while w < 100). Promoted: canary takes all replicas, stable 0 (update the
 *              stable Deployment to the new version, then swap back, at your pace). Rolled back: 0/total.
 *   httproute  set the weights of the stable and canary Services among the backendRefs of a Gateway
 *              API HTTPRoute (gateway.networking.k8s.io/v1): works with Istio, Envoy Gateway, NGINX
 *              Gateway Fabric… Weights are integers in hundredths of a percent (5.25 % → 525 of
 *              10000). Promoted: canary 10000, stable 0.
 *
 * Every PATCH carries the resourceVersion that was read, so a concurrent edit gets 409 Conflict from
 * the API server; we read again and retry (3 times), then read back to confirm.
 */

export type KubernetesSpec =
  | {
      kind: 'kubernetes';
      mode: 'replicas';
      namespace: string;
      stableDeployment: string;
      canaryDeployment: string;
      replicas: number;
      kubeconfig?: string | undefined;
      context?: string | undefined;
    }
  | {
      kind: 'kubernetes';
      mode: 'httproute';
      namespace: string;
      httproute: string;
      stableService: string;
      canaryService: string;
      kubeconfig?: string | undefined;
      context?: string | undefined;
    };

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_VERSION = 'v1';

/** Replicas per side for a weight (pure; exported for the templates test). */
export function replicaSplit(total: number, weight: number): { stable: number; canary: number } {
  if (weight <= 0) return { stable: total, canary: 0 };
  if (weight >= 100) return { stable: 0, canary: total };
  const canary = Math.min(total - 1, Math.max(1, Math.ceil((total * weight) / 100)));
  return { stable: total - canary, canary };
}

interface BackendRef {
  name?: string;
  weight?: number;
  [k: string]: unknown;
}
interface HttpRoute {
  metadata?: { resourceVersion?: string };
  spec?: { rules?: { backendRefs?: BackendRef[]; [k: string]: unknown }[] };
}

type K8s = typeof import('@kubernetes/client-node');

export class KubernetesBackend implements Backend {
  readonly kind = 'kubernetes';
  private apis:
    | Promise<{
        k8s: K8s;
        apps: import('@kubernetes/client-node').AppsV1Api;
        custom: import('@kubernetes/client-node').CustomObjectsApi;
      }>
    | undefined;

  constructor(private readonly spec: KubernetesSpec) {}

  private load() {
    this.apis ??= (async () => {
      const k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      try {
        if (this.spec.kubeconfig) kc.loadFromFile(this.spec.kubeconfig);
        else kc.loadFromDefault();
        if (this.spec.context) kc.setCurrentContext(this.spec.context);
      } catch (err) {
        throw new InputError(
          `cannot read the kubeconfig${this.spec.kubeconfig ? ` ${this.spec.kubeconfig}` : ''}: ${(err as Error).message}`,
        );
      }
      if (!kc.getCurrentCluster()) throw new InputError('the kubeconfig names no current cluster (--kube-context?)');
      return { k8s, apps: kc.makeApiClient(k8s.AppsV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
    })();
    return this.apis;
  }

  private fail(what: string, err: unknown): never {
    const e = err as { code?: number; body?: unknown; message?: string };
    const status = typeof e.code === 'number' ? e.code : undefined;
    let detail = e.message ?? String(err);
    try {
      const body =
        typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string });
      if (body?.message) detail = body.message;
    } catch {
      /* keep the message */
    }
    throw new RemoteError(`kubernetes: ${what}: ${status ? `HTTP ${status}: ` : ''}${detail}`, {
      code: 'MLV_BACKEND',
      ...(status ? { status } : {}),
    });
  }

  async check(_target?: TrafficTarget): Promise<void> {
    const { apps, custom } = await this.load();
    const ns = this.spec.namespace;
    if (this.spec.mode === 'replicas') {
      for (const name of [this.spec.stableDeployment, this.spec.canaryDeployment]) {
        await apps
          .readNamespacedDeploymentScale({ name, namespace: ns })
          .catch((e) => this.fail(`deployment ${ns}/${name}`, e));
      }
    } else {
      const spec = this.spec;
      const route = (await custom
        .getNamespacedCustomObject({
          group: GATEWAY_GROUP,
          version: GATEWAY_VERSION,
          namespace: ns,
          plural: 'httproutes',
          name: this.spec.httproute,
        })
        .catch((e) => this.fail(`httproute ${ns}/${spec.httproute}`, e))) as HttpRoute;
      const names = new Set((route.spec?.rules ?? []).flatMap((r) => (r.backendRefs ?? []).map((b) => b.name)));
      for (const s of [this.spec.stableService, this.spec.canaryService]) {
        if (!names.has(s))
          throw new InputError(`httproute ${ns}/${this.spec.httproute} has no backendRef to Service ${s}`);
      }
    }
  }

  async apply(t: TrafficTarget): Promise<string> {
    const weight = t.phase === 'shadow' ? 0 : t.weight;
    return this.spec.mode === 'replicas' ? this.scale(weight) : this.weights(weight);
  }

  private async withConflictRetry<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if ((err as { code?: number }).code === 409 && i < 3) continue;
        if (err instanceof RemoteError || err instanceof InputError) throw err;
        this.fail(what, err);
      }
    }
  }

  private async scale(weight: number): Promise<string> {
    if (this.spec.mode !== 'replicas') throw new Error('unreachable');
    const { k8s, apps } = await this.load();
    const ns = this.spec.namespace;
    const split = replicaSplit(this.spec.replicas, weight);
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    // Scale the side that grows first, so capacity never dips below the total.
    const order: [string, number][] =
      split.canary > 0
        ? [
            [this.spec.canaryDeployment, split.canary],
            [this.spec.stableDeployment, split.stable],
          ]
        : [
            [this.spec.stableDeployment, split.stable],
            [this.spec.canaryDeployment, split.canary],
          ];
    for (const [name, replicas] of order) {
      await this.withConflictRetry(`scale deployment ${ns}/${name}`, async () => {
        const cur = await apps.readNamespacedDeploymentScale({ name, namespace: ns });
        await apps.patchNamespacedDeploymentScale(
          {
            name,
            namespace: ns,
            body: { metadata: { resourceVersion: cur.metadata?.resourceVersion }, spec: { replicas } },
          },
          merge,
        );
      });
      const back = await apps
        .readNamespacedDeploymentScale({ name, namespace: ns })
        .catch((e) => this.fail(`read back ${ns}/${name}`, e));
      if (back.spec?.replicas !== replicas)
        throw new RemoteError(
          `kubernetes: deployment ${ns}/${name} reads ${back.spec?.replicas} replicas after setting ${replicas}`,
          {
            code: 'MLV_BACKEND',
          },
        );
    }
    return `kubernetes: ${this.spec.stableDeployment}=${split.stable}, ${this.spec.canaryDeployment}=${split.canary} replicas`;
  }

  private async weights(weight: number): Promise<string> {
    if (this.spec.mode !== 'httproute') throw new Error('unreachable');
    const spec = this.spec;
    const { k8s, custom } = await this.load();
    const ns = spec.namespace;
    const ref = {
      group: GATEWAY_GROUP,
      version: GATEWAY_VERSION,
      namespace: ns,
      plural: 'httproutes',
      name: spec.httproute,
    };
    // Gateway API weights are integers, relative to each other: hundredths of a percent keep two decimals.
    const canary = Math.round(weight * 100);
    const want = (b: BackendRef) =>
      b.name === spec.canaryService ? canary : b.name === spec.stableService ? 10_000 - canary : b.weight;
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    await this.withConflictRetry(`httproute ${ns}/${spec.httproute}`, async () => {
      const cur = (await custom.getNamespacedCustomObject(ref)) as HttpRoute;
      const rules = (cur.spec?.rules ?? []).map((r) => ({
        ...r,
        backendRefs: (r.backendRefs ?? []).map((b) => ({ ...b, weight: want(b) })),
      }));
      await custom.patchNamespacedCustomObject(
        { ...ref, body: { metadata: { resourceVersion: cur.metadata?.resourceVersion }, spec: { rules } } },
        merge,
      );
    });
    const back = (await custom
      .getNamespacedCustomObject(ref)
      .catch((e) => this.fail(`read back httproute ${ns}/${spec.httproute}`, e))) as HttpRoute;
    for (const b of (back.spec?.rules ?? []).flatMap((r) => r.backendRefs ?? [])) {
      if ((b.name === spec.canaryService || b.name === spec.stableService) && b.weight !== want(b))
        throw new RemoteError(
          `kubernetes: httproute ${ns}/${spec.httproute} reads weight ${b.weight} for ${b.name} after setting ${want(b)}`,
          {
            code: 'MLV_BACKEND',
          },
        );
    }
    return `kubernetes: httproute ${spec.httproute} ${spec.stableService}=${10_000 - canary}, ${spec.canaryService}=${canary} (of 10000)`;
  }
}
