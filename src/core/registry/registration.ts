import { InputError } from '../../errors.js';
import { dependenciesTagValue, type Dependencies } from './manifest.js';
import { checkKey } from './provenance.js';
import { validateAliasName } from './refs.js';
import { normalizeSemver, type Bump, type SemverRequest } from './semver.js';
import { MAX_TAG_VALUE, TAG } from './tags.js';

/**
 * What `mlv register` will write, decided before any request: the checked name, aliases and
 * semver request, and every tag of the run and of the version (src/registry/publish.ts writes
 * them; the split follows changesets' assemble-release-plan / apply-release-plan).
 */

export interface RegistrationInput {
  name: string;
  semver?: string | undefined;
  bump?: Bump | undefined;
  aliases?: readonly string[] | undefined;
  tags?: Readonly<Record<string, string>> | undefined;
  trainingData?: string | undefined;
  framework?: string | undefined;
  description?: string | undefined;
}

export interface CheckedRegistration {
  name: string;
  aliases: string[];
  request: SemverRequest;
  userTags: Record<string, string>;
}

/** Validates what the flags say; InputError (exit 2) before anything is read or sent. */
export function checkRegistration(input: RegistrationInput): CheckedRegistration {
  const name = input.name.trim();
  if (name === '') throw new InputError('--name must not be empty');
  const aliases = (input.aliases ?? []).map((a) => validateAliasName(a, '--alias'));
  if (input.semver !== undefined && input.bump !== undefined)
    throw new InputError('--semver and --bump exclude each other: give one');
  const request: SemverRequest =
    input.semver !== undefined
      ? { kind: 'exact', semver: normalizeSemver(input.semver, '--semver') }
      : { kind: 'bump', bump: input.bump ?? 'patch', ...(input.bump === undefined ? { implicit: true } : {}) };
  const userTags = { ...input.tags };
  for (const [k, v] of Object.entries(userTags)) {
    checkKey(k, '--tag');
    if (k.startsWith('mlv.') || k.startsWith('mlflow.'))
      throw new InputError(`--tag ${k}: the mlv. and mlflow. namespaces are reserved`);
    if (v.length > MAX_TAG_VALUE)
      throw new InputError(`--tag ${k} is ${v.length} characters long; MLflow keeps at most ${MAX_TAG_VALUE}`);
  }
  if (input.trainingData !== undefined && input.trainingData.length > MAX_TAG_VALUE) {
    throw new InputError(`--training-data is longer than ${MAX_TAG_VALUE} characters`);
  }
  return { name, aliases, request, userTags };
}

/** What was learnt about the artifact and its surroundings. */
export interface ArtifactFacts {
  sha256: string;
  kind: string;
  sizeBytes: number;
  user: string;
  createdBy: string;
  dependencies?: { deps: Dependencies; source: string } | undefined;
  /** For an .onnx file: its opsets and producer. */
  onnx?: { opsets: readonly { domain: string; version: number }[]; producer: string } | undefined;
}

export interface RegistrationPlan extends CheckedRegistration {
  sha256: string;
  framework: string | undefined;
  description: string | undefined;
  trainingData: string | undefined;
  user: string;
  createdBy: string;
  /** Tags of the model version, without mlv.semver (added once the semver is decided). */
  versionTags: Record<string, string>;
  /** Tags logged on the run with its params and metrics. */
  loggedTags: Record<string, string>;
}

/** Every tag, from the checked flags and the facts. */
export function planRegistration(
  checked: CheckedRegistration,
  input: Pick<RegistrationInput, 'framework' | 'trainingData' | 'description'>,
  facts: ArtifactFacts,
): RegistrationPlan {
  const framework = input.framework ?? (facts.onnx ? 'onnx' : undefined);
  const versionTags: Record<string, string> = {
    ...checked.userTags,
    [TAG.sha256]: facts.sha256,
    [TAG.artifact]: facts.kind,
    [TAG.sizeBytes]: String(facts.sizeBytes),
    [TAG.createdBy]: facts.createdBy,
  };
  if (framework) versionTags[TAG.framework] = framework;
  if (input.trainingData) versionTags[TAG.trainingData] = input.trainingData;
  if (facts.dependencies) {
    versionTags[TAG.dependencies] = dependenciesTagValue(facts.dependencies.deps, MAX_TAG_VALUE);
    versionTags[TAG.dependenciesSource] = facts.dependencies.source;
  }
  if (facts.onnx) {
    versionTags[TAG.onnxOpset] = facts.onnx.opsets
      .map((o) => `${o.domain === '' ? 'ai.onnx' : o.domain}=${o.version}`)
      .join(',');
    if (facts.onnx.producer) versionTags[TAG.onnxProducer] = facts.onnx.producer;
  }
  return {
    ...checked,
    sha256: facts.sha256,
    framework,
    description: input.description,
    trainingData: input.trainingData,
    user: facts.user,
    createdBy: facts.createdBy,
    versionTags,
    loggedTags: {
      ...checked.userTags,
      ...(framework ? { [TAG.framework]: framework } : {}),
      ...(input.trainingData ? { [TAG.trainingData]: input.trainingData } : {}),
    },
  };
}

/** The tags `runs/create` sets: MLflow's source and user tags and mlv's identity of the version. */
export function runTags(plan: RegistrationPlan, semver: string): Record<string, string> {
  return {
    'mlflow.user': plan.user,
    'mlflow.source.name': 'mlv register',
    'mlflow.source.type': 'LOCAL',
    ...(plan.description ? { 'mlflow.note.content': plan.description } : {}),
    'mlv.model': plan.name,
    [TAG.semver]: semver,
    [TAG.sha256]: plan.sha256,
    [TAG.createdBy]: plan.createdBy,
  };
}

/** MLflow 3 servers link versions to a LoggedModel; `3.6.0+mlv.0.1.0` → true, `2.17.2` or unknown → false. */
export function hasLoggedModels(serverVersion: string | null): boolean {
  const major = serverVersion === null ? NaN : Number(serverVersion.split('.')[0]);
  return major >= 3;
}
