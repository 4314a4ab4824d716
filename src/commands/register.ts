import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { dependenciesTagValue } from '../core/registry/manifest.js';
import {
  addOnce,
  checkKey,
  checkParamValue,
  LIMITS,
  metricsFromFile,
  paramsFromFile,
  parseMetricArg,
  parseParamArg,
} from '../core/registry/provenance.js';
import { refuseControl, validateModelName } from '../core/registry/names.js';
import { validateAliasName } from '../core/registry/refs.js';
import { BUMPS, decideRegistration, normalizeSemver, type Bump, type SemverRequest } from '../core/registry/semver.js';
import { MAX_TAG_VALUE, TAG } from '../core/registry/tags.js';
import { InputError, MlvError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import { isMlflowError } from '../mlflow/errors.js';
import type { Experiment, ModelVersion, RegisteredModel, Run } from '../mlflow/types.js';
import {
  artifactSha256,
  inspectArtifact,
  MODEL_DIR,
  uploadPlan,
  type Artifact,
  type UploadItem,
} from '../registry/artifact.js';
import { readDependencies, whoAmI } from '../registry/provenance.js';
import { keyValues, statusLine } from '../registry/render.js';
import { listVersions, semverOf, tagOf } from '../registry/versions.js';
import { action } from '../run.js';
import type { Style } from '../terminal/style.js';

/**
 * `mlv register PATH --name NAME`: one MLflow run with the metrics, params and tags, the model
 * uploaded under the run's `model/` (MLflow's ONNX layout for .onnx files), and a model version
 * created from it with mlv's semver and provenance tags (namespace in src/core/registry/tags.ts).
 *
 * Order of effects, chosen so that a crash or kill at any point leaves no half-registered version:
 * everything is checked and hashed first; the run is created and the files uploaded; only then is
 * the version created, in one request that carries all its tags. The run ends FINISHED, or FAILED
 * if anything after its creation fails. Same semver + same sha256 again returns the existing
 * version without creating anything (CI retries are safe).
 */

export interface RegisterInput {
  path: string;
  name: string;
  semver?: string | undefined;
  bump?: Bump | undefined;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  metricsFile?: string | undefined;
  paramsFile?: string | undefined;
  trainingData?: string | undefined;
  framework?: string | undefined;
  requirements?: string | undefined;
  description?: string | undefined;
  experiment?: string | undefined;
  aliases?: string[];
}

export interface RegisterResult {
  name: string;
  version: string;
  semver: string;
  run_id: string;
  sha256: string;
  status: string;
  /** `models:/NAME/VERSION`. */
  uri: string;
  /** False when an identical version (same semver and sha256) already existed. */
  created: boolean;
  source: string;
  aliases: string[];
  artifact: { kind: Artifact['kind']; size_bytes: number; files: number };
  experiment_id: string | null;
  /** MLflow 3: the LoggedModel the version is linked to. */
  model_id: string | null;
  dependencies_source: string | null;
  warnings: string[];
}

/** The experiment runs go to when --experiment is not given. */
export const DEFAULT_EXPERIMENT = 'mlv-registry';

export async function register(ctx: Context, input: RegisterInput): Promise<RegisterResult> {
  // ---- everything local first: a bad input fails before any request -------------------------
  const name = validateModelName(input.name, '--name');
  const aliases = (input.aliases ?? []).map((a) => validateAliasName(a, '--alias'));
  if (input.semver !== undefined && input.bump !== undefined)
    throw new InputError('--semver and --bump exclude each other: give one');
  const request: SemverRequest =
    input.semver !== undefined
      ? { kind: 'exact', semver: normalizeSemver(input.semver, '--semver') }
      : { kind: 'bump', bump: input.bump ?? 'patch', ...(input.bump === undefined ? { implicit: true } : {}) };
  const metrics = {
    ...(await readKvFile(ctx, input.metricsFile, '--metrics-file', metricsFromFile)),
    ...input.metrics,
  };
  const params = { ...(await readKvFile(ctx, input.paramsFile, '--params-file', paramsFromFile)), ...input.params };
  for (const [k, v] of Object.entries(input.params ?? {})) checkParamValue(k, v, `--param ${k}`);
  if (Object.keys(metrics).length > LIMITS.metrics || Object.keys(params).length > LIMITS.params) {
    throw new InputError(`mlv register logs at most ${LIMITS.metrics} metrics and ${LIMITS.params} params`);
  }
  const userTags = input.tags ?? {};
  for (const [k, v] of Object.entries(userTags)) {
    checkKey(k, '--tag');
    if (k.startsWith('mlv.') || k.startsWith('mlflow.'))
      throw new InputError(`--tag ${k}: the mlv. and mlflow. namespaces are reserved`);
    if (v.length > MAX_TAG_VALUE)
      throw new InputError(`--tag ${k} is ${v.length} characters long; MLflow keeps at most ${MAX_TAG_VALUE}`);
    refuseControl(v, `--tag ${k}`);
  }
  for (const [flag, value] of [
    ['--training-data', input.trainingData],
    ['--framework', input.framework],
    ['--experiment', input.experiment],
  ] as const) {
    if (value !== undefined) refuseControl(value, flag);
  }
  if (input.trainingData !== undefined && input.trainingData.length > MAX_TAG_VALUE) {
    throw new InputError(`--training-data is longer than ${MAX_TAG_VALUE} characters`);
  }

  const artifact = await inspectArtifact(input.path, ctx.cwd);
  const onnx = artifact.kind === 'onnx' ? await readOnnx(artifact.path) : undefined;
  const hashing = ctx.spinner(`computing sha256 of ${input.path} (${humanBytes(artifact.sizeBytes)})`);
  let sha256: string;
  try {
    sha256 = await artifactSha256(artifact, ctx.signal);
  } finally {
    hashing.stop();
  }
  const deps = await readDependencies({ requirements: input.requirements, artifact, cwd: ctx.cwd });
  const who = whoAmI(ctx.env);

  const versionTags: Record<string, string> = {
    ...userTags,
    [TAG.sha256]: sha256,
    [TAG.artifact]: artifact.kind,
    [TAG.sizeBytes]: String(artifact.sizeBytes),
    [TAG.createdBy]: who.createdBy,
  };
  const framework = input.framework ?? (onnx ? 'onnx' : undefined);
  if (framework) versionTags[TAG.framework] = framework;
  if (input.trainingData) versionTags[TAG.trainingData] = input.trainingData;
  if (deps) {
    versionTags[TAG.dependencies] = dependenciesTagValue(deps.deps, MAX_TAG_VALUE);
    versionTags[TAG.dependenciesSource] = deps.source;
  }
  if (onnx) {
    versionTags[TAG.onnxOpset] = onnx.info.opsets
      .map((o) => `${o.domain === '' ? 'ai.onnx' : o.domain}=${o.version}`)
      .join(',');
    const producer = `${onnx.info.producerName} ${onnx.info.producerVersion}`.trim();
    if (producer) versionTags[TAG.onnxProducer] = producer;
  }

  // ---- the registry ----------------------------------------------------------------------------
  const client = await ctx.mlflow();
  const call = { signal: ctx.signal };
  let model = await client.findRegisteredModel(name, call);
  let versions = model ? await listVersions(client, name, call) : [];
  const decide = () =>
    decideRegistration(
      versions.map((v) => ({ version: v.version, semver: semverOf(v) ?? undefined, sha256: tagOf(v, TAG.sha256) })),
      request,
      sha256,
      name,
    );
  let decision = decide();
  for (const w of decision.warnings) ctx.warn(w);
  const base = {
    name,
    sha256,
    artifact: { kind: artifact.kind, size_bytes: artifact.sizeBytes, files: artifact.files.length },
    dependencies_source: deps?.source ?? null,
    warnings: decision.warnings,
  };
  if (decision.action === 'existing') {
    return existingResult(ctx, client, model!, decision.version, aliases, base);
  }
  const semver = decision.semver;
  versionTags[TAG.semver] = semver;

  const experiment = await client.getOrCreateExperiment(input.experiment ?? DEFAULT_EXPERIMENT, {}, call);
  const run = await client.createRun(
    {
      experimentId: experiment.experiment_id,
      runName: `${name}-v${semver}`,
      userId: who.user,
      tags: {
        'mlflow.user': who.user,
        'mlflow.source.name': 'mlv register',
        'mlflow.source.type': 'LOCAL',
        ...(input.description ? { 'mlflow.note.content': input.description } : {}),
        'mlv.model': name,
        [TAG.semver]: semver,
        [TAG.sha256]: sha256,
        [TAG.createdBy]: who.createdBy,
      },
    },
    call,
  );
  const runId = run.info.run_id;
  ctx.debug(`run ${runId} in experiment ${experiment.name} (${experiment.experiment_id})`);
  try {
    await client.logBatch(
      {
        runId,
        params,
        metrics: Object.entries(metrics).map(([key, value]) => ({
          key,
          value,
          timestamp: ctx.now().getTime(),
          step: 0,
        })),
        tags: {
          ...userTags,
          ...(framework ? { [TAG.framework]: framework } : {}),
          ...(input.trainingData ? { [TAG.trainingData]: input.trainingData } : {}),
        },
      },
      call,
    );

    const modelId = await createLoggedModelIfMlflow3(ctx, client, experiment, run, framework);
    const source = `${run.info.artifact_uri.replace(/\/+$/, '')}/${MODEL_DIR}`;
    const plan = uploadPlan(artifact, {
      runId,
      now: ctx.now(),
      ...(onnx ? { onnx } : {}),
      metadata: { mlv_semver: semver, mlv_sha256: sha256 },
      ...(modelId ? { modelId } : {}),
    });
    await upload(ctx, client, run, plan);
    if (modelId) await client.finalizeLoggedModel(modelId, 'LOGGED_MODEL_READY', call);

    if (!model) model = await ensureRegisteredModel(client, name, call);
    // Look again right before creating: another process may have registered meanwhile.
    versions = await listVersions(client, name, call);
    decision = decide();
    if (decision.action === 'existing') {
      await client.updateRun({ runId, status: 'FINISHED', endTime: ctx.now().getTime() }, call);
      return existingResult(ctx, client, model, decision.version, aliases, {
        ...base,
        warnings: [...base.warnings, ...decision.warnings],
      });
    }

    const created = await client.createModelVersion(
      {
        name,
        source,
        runId,
        ...(input.description ? { description: input.description } : {}),
        tags: versionTags,
        ...(modelId ? { modelId } : {}),
      },
      call,
    );
    let mv =
      created.status === 'READY' ? created : await client.waitForReady(name, created.version, { signal: ctx.signal });
    const winner = await settleRace(client, name, mv, semver, sha256, call);
    if (winner) {
      await client.updateRun({ runId, status: 'FINISHED', endTime: ctx.now().getTime() }, call);
      return existingResult(ctx, client, model, winner.version, aliases, base);
    }
    for (const alias of aliases) await client.setRegisteredModelAlias(name, alias, mv.version, call);
    if (aliases.length > 0) mv = { ...mv, aliases };
    await client.updateRun({ runId, status: 'FINISHED', endTime: ctx.now().getTime() }, call);
    statusLine(ctx, `${ctx.errStyle.pass} registered ${name} version ${mv.version} (v${semver})`);
    return ordered({
      ...base,
      version: mv.version,
      semver,
      run_id: runId,
      status: mv.status,
      uri: `models:/${name}/${mv.version}`,
      created: true,
      source,
      aliases,
      experiment_id: experiment.experiment_id,
      model_id: modelId ?? null,
    });
  } catch (err) {
    // Best effort and not cancellable: the run must not stay RUNNING when we know it failed.
    await client.updateRun({ runId, status: 'FAILED', endTime: Date.now() }).catch((e: unknown) => {
      ctx.debug(`could not mark run ${runId} FAILED: ${(e as Error).message}`);
    });
    throw err;
  }
}

async function readKvFile<T>(
  ctx: Context,
  file: string | undefined,
  flag: string,
  parse: (text: string, file: string) => T,
): Promise<T | Record<string, never>> {
  if (file === undefined) return {};
  let text: string;
  try {
    const size = (await stat(path.resolve(ctx.cwd, file))).size;
    if (size > LIMITS.fileBytes) {
      throw new InputError(`${flag} ${file} is ${humanBytes(size)}; mlv reads at most ${humanBytes(LIMITS.fileBytes)}`);
    }
    text = await readFile(path.resolve(ctx.cwd, file), 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? `${flag} ${file} does not exist` : `cannot read ${flag} ${file}: ${(err as Error).message}`,
    );
  }
  return parse(text, file);
}

async function readOnnx(file: string) {
  const { readOnnxInfo, toMlflowTensorSpec } = await import('../onnx/model-info.js');
  const info = await readOnnxInfo(file);
  return { info, signature: toMlflowTensorSpec(info) };
}

/** An identical version exists: make sure it holds the requested aliases, and describe it. */
async function existingResult(
  ctx: Context,
  client: MlflowClient,
  model: RegisteredModel,
  version: string,
  aliases: string[],
  base: Pick<RegisterResult, 'name' | 'sha256' | 'artifact' | 'dependencies_source' | 'warnings'>,
): Promise<RegisterResult> {
  const call = { signal: ctx.signal };
  let mv: ModelVersion = await client.getModelVersion(model.name, version, call);
  if (mv.status === 'PENDING_REGISTRATION') mv = await client.waitForReady(model.name, version, call);
  for (const alias of aliases) {
    if (!mv.aliases.includes(alias)) await client.setRegisteredModelAlias(model.name, alias, version, call);
  }
  const semver = semverOf(mv) ?? '';
  statusLine(
    ctx,
    `${ctx.errStyle.pass} ${model.name} version ${version} (v${semver}) already holds this artifact: nothing registered`,
  );
  return ordered({
    ...base,
    version,
    semver,
    run_id: mv.run_id,
    status: mv.status,
    uri: `models:/${model.name}/${version}`,
    created: false,
    source: mv.source,
    aliases: [...new Set([...mv.aliases, ...aliases])].sort(),
    experiment_id: null,
    model_id: mv.model_id ?? null,
  });
}

/** The documented fields first, in the documented order, for people reading the JSON. */
function ordered(r: RegisterResult): RegisterResult {
  return {
    name: r.name,
    version: r.version,
    semver: r.semver,
    run_id: r.run_id,
    sha256: r.sha256,
    status: r.status,
    uri: r.uri,
    created: r.created,
    source: r.source,
    aliases: r.aliases,
    artifact: r.artifact,
    experiment_id: r.experiment_id,
    model_id: r.model_id,
    dependencies_source: r.dependencies_source,
    warnings: r.warnings,
  };
}

async function ensureRegisteredModel(
  client: MlflowClient,
  name: string,
  call: { signal: AbortSignal },
): Promise<RegisteredModel> {
  try {
    return await client.createRegisteredModel({ name }, call);
  } catch (err) {
    if (!isMlflowError(err, 'RESOURCE_ALREADY_EXISTS')) throw err;
    return client.getRegisteredModel(name, call);
  }
}

/**
 * Two registrations of one semver can race past the checks. The lowest version number wins; a
 * loser deletes its own version (so the semver stays unique), then returns the winner when the
 * artifacts are identical, or fails as a conflict.
 */
async function settleRace(
  client: MlflowClient,
  name: string,
  mine: ModelVersion,
  semver: string,
  sha256: string,
  call: { signal: AbortSignal },
): Promise<ModelVersion | undefined> {
  const all = await listVersions(client, name, call);
  const rivals = all.filter(
    (v) => v.version !== mine.version && semverOf(v) === semver && Number(v.version) < Number(mine.version),
  );
  const winner = rivals.sort((a, b) => Number(a.version) - Number(b.version))[0];
  if (!winner) return undefined;
  await client.deleteModelVersion(name, mine.version, call);
  if (tagOf(winner, TAG.sha256) === sha256) return winner;
  throw new InputError(
    `semver ${semver} was registered for ${name} as version ${winner.version} by another process at the same time, with a different artifact`,
    {
      code: 'MLV_SEMVER_TAKEN',
      hint: 'use --bump or a higher --semver',
    },
  );
}

/** MLflow 3 links versions to a LoggedModel of the run (the version's model_id); MLflow 2 has none. */
async function createLoggedModelIfMlflow3(
  ctx: Context,
  client: MlflowClient,
  experiment: Experiment,
  run: Run,
  framework: string | undefined,
): Promise<string | undefined> {
  const version = await client.serverVersion({ signal: ctx.signal });
  const major = version === null ? NaN : Number(version.split('.')[0]);
  if (!(major >= 3)) return undefined;
  const logged = await client.createLoggedModel(
    {
      experimentId: experiment.experiment_id,
      name: MODEL_DIR,
      sourceRunId: run.info.run_id,
      ...(framework ? { modelType: framework } : {}),
    },
    { signal: ctx.signal },
  );
  ctx.debug(`MLflow ${version}: logged model ${logged.info.model_id}`);
  return logged.info.model_id;
}

/** Uploads the plan under the run's artifact root; generated files go through a private temp dir. */
async function upload(ctx: Context, client: MlflowClient, run: Run, plan: UploadItem[]): Promise<void> {
  const root = run.info.artifact_uri.replace(/\/+$/, '');
  const total = plan.reduce((n, p) => n + p.size, 0);
  const spinner = ctx.spinner(`uploading ${humanBytes(total)}`);
  let done = 0;
  let staging: string | undefined;
  try {
    for (const item of plan) {
      let file = item.file;
      if (file === undefined) {
        staging ??= await mkdtemp(path.join(tmpdir(), 'mlv-register-'));
        file = path.join(staging, path.basename(item.path));
        await writeFile(file, item.content ?? '');
      }
      const before = done;
      await client.artifacts.uploadFile(file, `${root}/${item.path}`, {
        signal: ctx.signal,
        onProgress: (bytes) => spinner.update(`uploading ${humanBytes(before + bytes)} of ${humanBytes(total)}`),
      });
      done += item.size;
    }
    spinner.stop();
  } catch (err) {
    spinner.fail(`upload failed after ${humanBytes(done)} of ${humanBytes(total)}`);
    throw err;
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function renderRegister(r: RegisterResult, style: Style): string {
  const head = r.created
    ? `${style.pass} registered ${style.bold(r.name)} version ${r.version} (v${r.semver})`
    : `${style.pass} ${style.bold(r.name)} version ${r.version} (v${r.semver}) already holds this artifact: nothing new registered`;
  return [
    head,
    keyValues(style, [
      ['uri', r.uri],
      ['semver', r.semver],
      ['status', r.status],
      ['run', r.run_id],
      ['sha256', r.sha256],
      ['source', r.source],
      ['aliases', r.aliases.map((a) => '@' + a).join(', ')],
      [
        'artifact',
        `${r.artifact.kind}, ${humanBytes(r.artifact.size_bytes)}, ${r.artifact.files} file${r.artifact.files === 1 ? '' : 's'}`,
      ],
      ['model_id', r.model_id],
      ['dependencies', r.dependencies_source],
    ]),
  ].join('\n');
}

// ---- command-line -------------------------------------------------------------------------------

/** A repeatable KEY=VALUE option, parsed as it arrives so a bad one is a usage error (exit 2). */
function collect<T>(flag: string, parse: (s: string) => [string, T]) {
  return (value: string, previous: Record<string, T> | undefined): Record<string, T> => {
    try {
      const [k, v] = parse(value);
      return addOnce(previous, k, v, flag);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof MlvError ? err.message : String(err));
    }
  };
}

interface RegisterFlags {
  name: string;
  semver?: string;
  bump?: Bump;
  metric?: Record<string, number>;
  param?: Record<string, string>;
  tag?: Record<string, string>;
  metricsFile?: string;
  paramsFile?: string;
  trainingData?: string;
  framework?: string;
  requirements?: string;
  description?: string;
  experiment?: string;
  alias?: string[];
}

export function registerRegister(program: Command): void {
  program
    .command('register')
    .description('register a model version: a run with metrics and params, the artifact, a semver and provenance tags')
    .argument(
      '<path>',
      "the model: an .onnx file (stored in MLflow's ONNX model layout), any other file, or a directory",
    )
    .requiredOption('-n, --name <name>', 'registered model name (created if missing)')
    .addOption(
      new Option('--semver <x.y.z>', 'semantic version; must be higher than every registered one').conflicts('bump'),
    )
    .addOption(
      new Option(
        '--bump <part>',
        'next semver after the highest registered (default: patch; the first version is 0.1.0)',
      ).choices(BUMPS),
    )
    .option(
      '--metric <key=value>',
      'a metric of the model (repeatable)',
      collect('--metric', (s) => parseMetricArg(s, '--metric')),
    )
    .option(
      '--param <key=value>',
      'a training parameter (repeatable)',
      collect('--param', (s) => parseParamArg(s, '--param')),
    )
    .option(
      '--tag <key=value>',
      'a tag on the run and the version (repeatable)',
      collect('--tag', (s) => parseParamArg(s, '--tag')),
    )
    .option('--metrics-file <file>', 'metrics from a JSON object or key=value lines (flags win)')
    .option('--params-file <file>', 'params from a JSON object or key=value lines (flags win)')
    .option('--training-data <uri>', 'where the training data is (recorded as mlv.training_data)')
    .option('--framework <name>', 'framework and version, e.g. "pytorch 2.3" (default: onnx for .onnx files)')
    .option(
      '--requirements <file>',
      'dependency versions from requirements.txt, pyproject.toml or package.json (default: found in the model directory or here)',
    )
    .option('--description <text>', 'description of the version')
    .option('--experiment <name>', `experiment of the run (default: ${DEFAULT_EXPERIMENT})`)
    .option('--alias <alias>', 'point this alias at the new version (repeatable)', (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .addHelpText(
      'after',
      `
Semvers are unique per model and increase. The same artifact (sha256) with the same semver again returns
the existing version ("created": false) — CI retries are safe. The same semver with a different artifact,
or a semver not above the highest, is refused (exit 2).
Examples:
  mlv register model.onnx --name churn --semver 1.0.0 --metric auc=0.91 --param lr=0.01
  mlv register ./model-dir --name churn --bump minor --metrics-file metrics.json --training-data s3://bucket/train.parquet
  mlv --json register model.onnx --name churn --bump patch --alias candidate`,
    )
    .action(
      action(async (ctx, modelPath: string, flags: RegisterFlags) => {
        const result = await register(ctx, {
          path: modelPath,
          name: flags.name,
          semver: flags.semver,
          bump: flags.bump,
          metrics: flags.metric ?? {},
          params: flags.param ?? {},
          tags: flags.tag ?? {},
          metricsFile: flags.metricsFile,
          paramsFile: flags.paramsFile,
          trainingData: flags.trainingData,
          framework: flags.framework,
          requirements: flags.requirements,
          description: flags.description,
          experiment: flags.experiment,
          aliases: flags.alias ?? [],
        });
        ctx.output(result, renderRegister);
      }),
    );
}
