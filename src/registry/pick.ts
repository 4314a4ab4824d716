import type { ModelVersion, RegisteredModel } from '../mlflow/types.js';
import type { MlflowClient } from '../mlflow/client.js';
import type { Prompter } from '../terminal/prompt.js';
import { versionLabel } from '../core/registry/refs.js';
import { listVersions, requireModel, semverOf } from './versions.js';

/**
 * Interactive selection of a model or a version when its argument is missing. Only in a
 * terminal; otherwise the non-interactive prompter turns it into a usage error naming the argument.
 */

export interface Asker {
  /** Prompts are allowed (a terminal, not --json/--no-input/CI). */
  readonly interactive: boolean;
  readonly prompt: Prompter;
  readonly signal?: AbortSignal;
}

/** A selection list of the registered models. */
export async function pickModel(ui: Asker, client: MlflowClient, argName: string): Promise<string> {
  const flag = { flag: `the ${argName} argument` };
  if (!ui.interactive) return ui.prompt.select(`registered model`, [], flag);
  const names: string[] = [];
  for await (const m of client.iterateRegisteredModels({}, ui.signal ? { signal: ui.signal } : {})) names.push(m.name);
  if (names.length === 0) return ui.prompt.select('registered model (there are none yet)', [], flag);
  return ui.prompt.select(
    'Which model?',
    names.map((n) => ({ name: n, value: n })),
    flag,
  );
}

/**
 * The model a command works on (NAME, or picked from a list when it is missing) and its versions,
 * newest first: NotFoundError when no such model is registered.
 */
export async function openModel(
  ui: Asker,
  client: MlflowClient,
  name: string | undefined,
  argName: string,
): Promise<{ model: RegisteredModel; versions: ModelVersion[] }> {
  const call = ui.signal ? { signal: ui.signal } : {};
  const model = await requireModel(client, name ?? (await pickModel(ui, client, argName)), call);
  return { model, versions: await listVersions(client, model.name, call) };
}

/** A selection list of the model's versions, newest first (`exclude`: a version already chosen). */
export async function pickVersion(
  ui: Asker,
  model: RegisteredModel,
  versions: ModelVersion[],
  what: string,
  argName: string,
  exclude?: string,
): Promise<ModelVersion> {
  const aliases = new Map<string, string[]>();
  for (const a of model.aliases) aliases.set(a.version, [...(aliases.get(a.version) ?? []), '@' + a.alias]);
  const choices = versions
    .filter((v) => v.version !== exclude)
    .map((v) => ({
      name: [versionLabel(v.version, semverOf(v)), ...(aliases.get(v.version) ?? [])].join(' '),
      value: v,
    }));
  if (!ui.interactive || choices.length === 0) {
    return ui.prompt.select(`${what} of ${model.name}`, [], {
      flag: `the ${argName} argument (a version, v1.2.0 or @alias)`,
    });
  }
  return ui.prompt.select(`Which ${what} of ${model.name}?`, choices, { flag: `the ${argName} argument` });
}
