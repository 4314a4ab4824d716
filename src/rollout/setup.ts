import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAnalysis, type Analysis } from '../core/rollout/analysis.js';
import type { RolloutState } from '../core/rollout/machine.js';
import { InputError, UsageError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import { CommandBackend } from './backends/command.js';
import { KubernetesBackend, type KubernetesSpec } from './backends/kubernetes.js';
import { RouteBackend } from './backends/route.js';
import type { Backend } from './backends/types.js';

/** Reads an analysis file: JSON, or YAML (by extension, or when it does not start with `{`). */
export async function readAnalysisFile(file: string, cwd: string): Promise<Analysis> {
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? `--analysis ${file}: no such file` : `--analysis ${file}: ${(err as Error).message}`,
    );
  }
  let doc: unknown;
  const yamlish = /\.ya?ml$/i.test(file) || !text.trimStart().startsWith('{');
  try {
    if (yamlish) {
      const { parse } = await import('yaml');
      doc = parse(text);
    } else doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(
      `--analysis ${file} is not valid ${yamlish ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  return parseAnalysis(doc, `--analysis ${file}`);
}

export type BackendSpec = RolloutState['backend'];

export interface BackendFlags {
  backend?: string | undefined;
  command?: string | undefined;
  verifyCommand?: string | undefined;
  kubeMode?: string | undefined;
  namespace?: string | undefined;
  stableDeployment?: string | undefined;
  canaryDeployment?: string | undefined;
  replicas?: number | undefined;
  httproute?: string | undefined;
  stableService?: string | undefined;
  canaryService?: string | undefined;
  kubeconfig?: string | undefined;
  kubeContext?: string | undefined;
}

const need = (v: string | undefined, flag: string, backend: string): string => {
  if (v === undefined || v === '') throw new UsageError(`--backend ${backend} needs ${flag}`);
  return v;
};

/** The backend spec recorded in the state, from start's flags (validated, nothing contacted). */
export function backendSpec(f: BackendFlags): BackendSpec {
  const kind = f.backend ?? 'route';
  if (kind === 'route') return { kind };
  if (kind === 'command')
    return {
      kind,
      command: need(f.command, '--command', kind),
      ...(f.verifyCommand ? { verify: f.verifyCommand } : {}),
    };
  if (kind === 'kubernetes') {
    const mode = f.kubeMode ?? (f.httproute ? 'httproute' : 'replicas');
    const common = {
      kind: 'kubernetes' as const,
      namespace: f.namespace ?? 'default',
      ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}),
      ...(f.kubeContext ? { context: f.kubeContext } : {}),
    };
    if (mode === 'replicas') {
      return {
        ...common,
        mode,
        stableDeployment: need(f.stableDeployment, '--stable-deployment', kind),
        canaryDeployment: need(f.canaryDeployment, '--canary-deployment', kind),
        replicas: f.replicas ?? 10,
      } satisfies KubernetesSpec;
    }
    if (mode === 'httproute') {
      return {
        ...common,
        mode,
        httproute: need(f.httproute, '--httproute', kind),
        stableService: need(f.stableService, '--stable-service', kind),
        canaryService: need(f.canaryService, '--canary-service', kind),
      } satisfies KubernetesSpec;
    }
    throw new UsageError(`--kube-mode must be replicas or httproute, got "${mode}"`);
  }
  throw new UsageError(`--backend must be route, kubernetes or command, got "${kind}"`);
}

/** The backend a recorded spec names. */
export function makeBackend(
  spec: BackendSpec,
  deps: { client: MlflowClient; model: string; by: string; now: () => Date; signal?: AbortSignal; cwd: string },
): Backend {
  if (spec.kind === 'route')
    return new RouteBackend(deps.client, deps.model, {
      by: deps.by,
      now: deps.now,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  if (spec.kind === 'command')
    return new CommandBackend(String(spec.command), { verify: spec.verify as string | undefined, cwd: deps.cwd });
  if (spec.kind === 'kubernetes') return new KubernetesBackend(spec as unknown as KubernetesSpec);
  throw new InputError(`the recorded backend "${spec.kind}" is unknown to this mlv`);
}
