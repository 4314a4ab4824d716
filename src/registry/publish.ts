import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasLoggedModels, runTags, type RegistrationPlan } from '../core/registry/registration.js';
import { decideRegistration, type RegisterDecision } from '../core/registry/semver.js';
import { TAG } from '../core/registry/tags.js';
import { InputError } from '../errors.js';
import type { CallOptions, MlflowClient } from '../mlflow/client.js';
import { isMlflowError } from '../mlflow/errors.js';
import type { ModelVersion, Run } from '../mlflow/types.js';
import type { OnnxInfo } from '../onnx/model-info.js';
import type { Spinner } from '../terminal/spinner.js';
import { MODEL_DIR, uploadPlan, type Artifact, type UploadItem } from './artifact.js';
import { listVersions, mapLimit, semverOf, tagOf } from './versions.js';

/**
 * The registry side of `mlv register`: applies a RegistrationPlan (src/core/registry/registration.ts).
 *
 * Order of effects, chosen so that a crash or kill at any point leaves no half-registered version:
 * the run is created and the files uploaded; only then is the version created, in one request that
 * carries all its tags. The run ends FINISHED, or FAILED if anything after its creation fails. Same
 * semver + same sha256 again returns the existing version without creating anything.
 *
 * Requests, for a new version of an existing model on MLflow 3 (`-v` lists them): in parallel
 * model-versions/search, experiments/get-by-name and /version; runs/create; in parallel
 * runs/log-batch and logged-models; the files, PUT concurrently; logged-models finalize;
 * model-versions/create; runs/update. A first version adds registered-models/create (in parallel
 * with the finalize); a version created while another was (its number is not the next one) adds
 * a model-versions/search to settle the race.
 */

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

/** Files of one model uploaded at the same time. */
const UPLOAD_CONCURRENCY = 4;

/** What publishing needs from the command: the clock, Ctrl-C, and where to say what happens. */
export interface PublishEffects {
  now(): Date;
  readonly signal: AbortSignal;
  spinner(text: string): Spinner;
  debug(message: string): void;
  warn(message: string): void;
  /** A line on stderr; with `errStyle.tty` false, upload progress goes here (CI logs). */
  info?(message: string): void;
  readonly errStyle?: { readonly tty: boolean };
}

export interface PublishInput {
  plan: RegistrationPlan;
  artifact: Artifact;
  onnx?: { info: OnnxInfo; signature: { inputs: string | null; outputs: string | null } } | undefined;
  metrics: Record<string, number>;
  params: Record<string, string>;
  experiment?: string | undefined;
  dependenciesSource: string | null;
}

type Base = Pick<RegisterResult, 'name' | 'sha256' | 'artifact' | 'dependencies_source' | 'warnings'>;

/** The effects in their order (see the top of this file); one function so the order reads top to bottom. */
export async function publish(client: MlflowClient, input: PublishInput, fx: PublishEffects): Promise<RegisterResult> {
  const { plan } = input;
  const call = { signal: fx.signal };
  const name = plan.name;
  // Independent reads at once; the experiment is only created once a version is to be made.
  const experimentName = input.experiment ?? DEFAULT_EXPERIMENT;
  const [versions, foundExperiment, serverVersion] = await Promise.all([
    listVersions(client, name, call),
    client.getExperimentByName(experimentName, call),
    client.serverVersion(call),
  ]);
  const decision = decide(versions, plan);
  for (const w of decision.warnings) fx.warn(w);
  const base: Base = {
    name,
    sha256: plan.sha256,
    artifact: { kind: input.artifact.kind, size_bytes: input.artifact.sizeBytes, files: input.artifact.files.length },
    dependencies_source: input.dependenciesSource,
    warnings: decision.warnings,
  };
  if (decision.action === 'existing') return existingResult(client, name, decision.version, plan.aliases, base, fx);
  const firstSemver = decision.semver;

  const experimentId = foundExperiment?.experiment_id ?? (await createExperiment(client, experimentName, call));
  const run = await client.createRun(
    { experimentId, runName: `${name}-v${firstSemver}`, userId: plan.user, tags: runTags(plan, firstSemver) },
    call,
  );
  const runId = run.info.run_id;
  fx.debug(`run ${runId} in experiment ${experimentName} (${experimentId})`);
  const end = (status: 'FINISHED' | 'FAILED', opts: CallOptions = call) =>
    client.updateRun({ runId, status, endTime: fx.now().getTime() }, opts);
  let loggedModelId: Promise<string | undefined> = Promise.resolve(undefined);
  const source = `${run.info.artifact_uri.replace(/\/+$/, '')}/${MODEL_DIR}`;
  // From the first create request on, a version may point at the files: the cleanup keeps them.
  let filesInUse = false;
  try {
    const modelId = await fillRun(
      client,
      run,
      {
        input,
        semver: firstSemver,
        experimentId,
        serverVersion,
        track: (p) => {
          loggedModelId = p.catch(() => undefined);
        },
      },
      fx,
    );
    // Only after the upload, so that a killed register leaves no empty model behind. A first
    // version needs the registered model; an existing one is known from the versions.
    await Promise.all([
      modelId ? client.finalizeLoggedModel(modelId, 'LOGGED_MODEL_READY', call) : undefined,
      versions.length === 0 ? ensureRegisteredModel(client, name, call) : undefined,
    ]);

    // With --bump, a semver taken by a parallel register is recomputed and tried again (bounded);
    // an explicit --semver keeps being refused.
    let semver = firstSemver;
    let seen = versions;
    let mv: ModelVersion;
    for (let attempt = 1; ; attempt++) {
      filesInUse = true;
      fx.debug(`creating a version of ${name} from ${source} (its files are kept from now on)`);
      const created = await client.createModelVersion(
        {
          name,
          source,
          runId,
          ...(plan.description ? { description: plan.description } : {}),
          tags: { ...plan.versionTags, [TAG.semver]: semver },
          ...(modelId ? { modelId } : {}),
        },
        call,
      );
      mv = created.status === 'READY' ? created : await client.waitForReady(name, created.version, call);
      let winner: ModelVersion | undefined;
      try {
        winner = await settleRace(client, plan, mv, seen, semver, call);
      } catch (err) {
        const retry =
          plan.request.kind === 'bump' &&
          attempt < BUMP_ATTEMPTS &&
          err instanceof InputError &&
          (err.code === 'MLV_SEMVER_TAKEN' || err.code === 'MLV_SEMVER_NOT_INCREASING');
        if (!retry) throw err;
        seen = await listVersions(client, name, call);
        const again = decide(seen, plan);
        if (again.action === 'existing') {
          await end('FINISHED');
          return existingResult(client, name, again.version, plan.aliases, base, fx);
        }
        fx.debug(
          `semver ${semver} was taken by a parallel register; --bump tries ${again.semver} (attempt ${attempt + 1})`,
        );
        semver = again.semver;
        await client.logBatch({ runId, tags: { [TAG.semver]: semver } }, call);
        continue;
      }
      if (winner) {
        await end('FINISHED');
        return existingResult(client, name, winner.version, plan.aliases, base, fx);
      }
      break;
    }
    for (const alias of plan.aliases) await client.setRegisteredModelAlias(name, alias, mv.version, call);
    if (plan.aliases.length > 0) mv = { ...mv, aliases: plan.aliases };
    await end('FINISHED');
    return ordered({
      ...base,
      version: mv.version,
      semver,
      run_id: runId,
      status: mv.status,
      uri: `models:/${name}/${mv.version}`,
      created: true,
      source,
      aliases: plan.aliases,
      experiment_id: experimentId,
      model_id: modelId ?? null,
    });
  } catch (err) {
    // The run must not stay RUNNING when we know it failed, Ctrl-C included: this request ignores
    // the interrupt and is bounded in time instead (within the 2 s signals.ts grants after Ctrl-C).
    const cleanup = { detached: true, signal: AbortSignal.timeout(CLEANUP_MS) };
    await Promise.all([
      end('FAILED', cleanup).catch((e: unknown) => {
        fx.debug(`could not mark run ${runId} FAILED: ${(e as Error).message}`);
      }),
      // What was uploaded of a model no version points at is removed (the MLflow artifact proxy's DELETE).
      filesInUse
        ? undefined
        : client.artifacts.delete(source, cleanup).catch((e: unknown) => {
            fx.debug(`could not remove the partial upload ${source}: ${(e as Error).message}`);
          }),
      loggedModelId.then(async (id) => {
        if (id === undefined) return;
        await client.finalizeLoggedModel(id, 'LOGGED_MODEL_UPLOAD_FAILED', cleanup).catch((e: unknown) => {
          fx.debug(`could not mark logged model ${id} UPLOAD_FAILED: ${(e as Error).message}`);
        });
      }),
    ]);
    throw err;
  }
}

/** Versions one `register --bump` tries when parallel registers keep taking its semver. */
const BUMP_ATTEMPTS = 5;

/** How long the cleanup after a failure or Ctrl-C may take (marking the run FAILED, removing a partial upload). */
export const CLEANUP_MS = 1500;

/**
 * The run's data, the LoggedModel (MLflow 3) and the files at once; only the generated MLmodel
 * waits for the LoggedModel's id, which it records. Returns that id.
 */
async function fillRun(
  client: MlflowClient,
  run: Run,
  r: {
    input: PublishInput;
    semver: string;
    experimentId: string;
    serverVersion: string | null;
    /** Handed the LoggedModel's id as soon as it is asked for (the cleanup marks it failed). */
    track?: (loggedModelId: Promise<string | undefined>) => void;
  },
  fx: PublishEffects,
): Promise<string | undefined> {
  const runId = run.info.run_id;
  const planFor = (modelId: string | undefined) =>
    uploadPlan(r.input.artifact, {
      runId,
      now: fx.now(),
      ...(r.input.onnx ? { onnx: r.input.onnx } : {}),
      metadata: { mlv_semver: r.semver, mlv_sha256: r.input.plan.sha256 },
      ...(modelId ? { modelId } : {}),
    });
  const waitsForId = (f: UploadItem) => f.file === undefined && f.path === `${MODEL_DIR}/MLmodel`;
  const transfer = uploader(client, run.info.artifact_uri, planFor(undefined), fx);
  const loggedModel = hasLoggedModels(r.serverVersion)
    ? createLoggedModel(client, r.experimentId, runId, r.input.plan, fx)
    : Promise.resolve(undefined);
  r.track?.(loggedModel);
  const [, id] = await transfer.finish([
    logRunData(client, runId, r.input, fx),
    loggedModel,
    transfer.send(planFor(undefined).filter((f) => !waitsForId(f))),
    loggedModel.then((modelId) => transfer.send(planFor(modelId).filter(waitsForId))),
  ]);
  return id as string | undefined;
}

function decide(
  versions: readonly ModelVersion[],
  plan: Pick<RegistrationPlan, 'request' | 'sha256' | 'name'>,
): RegisterDecision {
  return decideRegistration(
    versions.map((v) => ({ version: v.version, semver: semverOf(v) ?? undefined, sha256: tagOf(v, TAG.sha256) })),
    plan.request,
    plan.sha256,
    plan.name,
  );
}

/** experiments/create, or the experiment another process created at the same moment. */
async function createExperiment(client: MlflowClient, name: string, call: { signal: AbortSignal }): Promise<string> {
  try {
    return await client.createExperiment({ name }, call);
  } catch (err) {
    if (!isMlflowError(err, 'RESOURCE_ALREADY_EXISTS')) throw err;
    const raced = await client.getExperimentByName(name, call);
    if (!raced) throw err;
    return raced.experiment_id;
  }
}

/** Params, metrics and tags in one runs/log-batch; nothing to send, no request. */
async function logRunData(client: MlflowClient, runId: string, input: PublishInput, fx: PublishEffects) {
  const tags = input.plan.loggedTags;
  if (Object.keys(input.params).length + Object.keys(input.metrics).length + Object.keys(tags).length === 0) return;
  const timestamp = fx.now().getTime();
  await client.logBatch(
    {
      runId,
      params: input.params,
      metrics: Object.entries(input.metrics).map(([key, value]) => ({ key, value, timestamp, step: 0 })),
      tags,
    },
    { signal: fx.signal },
  );
}

/** MLflow 3 links versions to a LoggedModel of the run (the version's model_id); MLflow 2 has none. */
async function createLoggedModel(
  client: MlflowClient,
  experimentId: string,
  runId: string,
  plan: RegistrationPlan,
  fx: PublishEffects,
): Promise<string> {
  const logged = await client.createLoggedModel(
    {
      experimentId,
      name: MODEL_DIR,
      sourceRunId: runId,
      ...(plan.framework ? { modelType: plan.framework } : {}),
    },
    { signal: fx.signal },
  );
  fx.debug(`logged model ${logged.info.model_id}`);
  return logged.info.model_id;
}

/** An identical version exists: make sure it holds the requested aliases, and describe it. */
async function existingResult(
  client: MlflowClient,
  name: string,
  version: string,
  aliases: string[],
  base: Base,
  fx: PublishEffects,
): Promise<RegisterResult> {
  const call = { signal: fx.signal };
  let mv: ModelVersion = await client.getModelVersion(name, version, call);
  if (mv.status === 'PENDING_REGISTRATION') mv = await client.waitForReady(name, version, call);
  for (const alias of aliases) {
    if (!mv.aliases.includes(alias)) await client.setRegisteredModelAlias(name, alias, version, call);
  }
  return ordered({
    ...base,
    version,
    semver: semverOf(mv) ?? '',
    run_id: mv.run_id,
    status: mv.status,
    uri: `models:/${name}/${version}`,
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

async function ensureRegisteredModel(client: MlflowClient, name: string, call: { signal: AbortSignal }): Promise<void> {
  try {
    await client.createRegisteredModel({ name }, call);
  } catch (err) {
    if (!isMlflowError(err, 'RESOURCE_ALREADY_EXISTS')) throw err;
  }
}

/**
 * Other registrations may have landed between our read of the versions and our create. When our
 * number is the next after every version read then, none did: nothing to settle, no request.
 * Otherwise the versions below ours are checked as the decision checked them: the lowest number
 * of a semver wins (a loser deletes its own version, so the semver stays unique, then returns the
 * winner when the artifacts are identical, or fails as a conflict), and a semver that is no longer
 * above the highest is refused the same way.
 */
async function settleRace(
  client: MlflowClient,
  plan: RegistrationPlan,
  mine: ModelVersion,
  seen: readonly ModelVersion[],
  semver: string,
  call: { signal: AbortSignal },
): Promise<ModelVersion | undefined> {
  const highestSeen = Math.max(0, ...seen.map((v) => Number(v.version)));
  if (Number(mine.version) === highestSeen + 1) return undefined;
  const below = (await listVersions(client, plan.name, call)).filter((v) => Number(v.version) < Number(mine.version));
  const winner = below.filter((v) => semverOf(v) === semver).sort((a, b) => Number(a.version) - Number(b.version))[0];
  if (winner) {
    await client.deleteModelVersion(plan.name, mine.version, call);
    if (tagOf(winner, TAG.sha256) === plan.sha256) return winner;
    throw new InputError(
      `semver ${semver} was registered for ${plan.name} as version ${winner.version} by another process at the same time, with a different artifact`,
      { code: 'MLV_SEMVER_TAKEN', hint: 'use --bump or a higher --semver' },
    );
  }
  try {
    decide(below, { ...plan, request: { kind: 'exact', semver } });
  } catch (err) {
    await client.deleteModelVersion(plan.name, mine.version, call);
    throw err;
  }
  return undefined;
}

/**
 * Uploads files under the run's artifact root, UPLOAD_CONCURRENCY at a time per batch (`send`,
 * callable more than once while `finish` waits); generated files go through a private temp dir.
 * One spinner counts bytes over all files; `total` is the plan's size.
 */
function uploader(client: MlflowClient, artifactUri: string, plan: readonly UploadItem[], fx: PublishEffects) {
  const root = artifactUri.replace(/\/+$/, '');
  const total = plan.reduce((n, p) => n + p.size, 0);
  const spinner = fx.spinner(`uploading ${humanBytes(total)}`);
  const sent = new Map<string, number>();
  const bytes = () => [...sent.values()].reduce((a, b) => a + b, 0);
  const started = Date.now();
  // Not a terminal (CI): a progress line every 10 % or 10 s, on stderr.
  const lines = fx.errStyle?.tty === false && fx.info ? fx.info.bind(fx) : undefined;
  let lastLine = { at: started, tenth: 0 };
  const progress = () => {
    const now = Date.now();
    const text = uploadProgress(bytes(), total, now - started);
    spinner.update(text);
    const tenth = total > 0 ? Math.floor((10 * bytes()) / total) : 10;
    if (lines && (tenth > lastLine.tenth || now - lastLine.at >= 10_000) && bytes() < total) {
      lastLine = { at: now, tenth };
      lines(text);
    }
  };
  let done = 0;
  let staging: Promise<string> | undefined;
  const send = async (items: readonly UploadItem[]): Promise<void> => {
    await mapLimit(items, UPLOAD_CONCURRENCY, async (item) => {
      let file = item.file;
      if (file === undefined) {
        staging ??= mkdtemp(path.join(tmpdir(), 'mlv-register-'));
        file = path.join(await staging, path.basename(item.path));
        await writeFile(file, item.content ?? '');
      }
      await client.artifacts.uploadFile(file, `${root}/${item.path}`, {
        signal: fx.signal,
        onProgress: (n) => {
          sent.set(item.path, n);
          progress();
        },
      });
      sent.set(item.path, item.size);
      done += item.size;
    });
  };
  /** Awaits `work` (the sends and whatever runs beside them), then cleans up. */
  const finish = async (work: readonly Promise<unknown>[]): Promise<unknown[]> => {
    try {
      // Every transfer settles before the run is marked, so none is left writing behind a failure.
      const settled = await Promise.allSettled(work);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      spinner.stop();
      return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value);
    } catch (err) {
      // What was handed to the server (parts of files included), not only the finished files.
      const how = fx.signal.aborted ? 'upload interrupted' : 'upload failed';
      spinner.fail(
        `${how} after ${humanBytes(bytes())} of ${humanBytes(total)} (${humanBytes(done)} in complete files)`,
      );
      throw err;
    } finally {
      if (staging) await rm(await staging, { recursive: true, force: true }).catch(() => undefined);
    }
  };
  return { send, finish };
}

/**
 * `uploading 89.8 MiB of 191 MiB (47%, 12.3 MiB/s, ETA 8 s)`; rate and ETA once a second has passed.
 * @example uploadProgress(50 * 2 ** 20, 100 * 2 ** 20, 5000) // 'uploading 50.0 MiB of 100 MiB (50%, 10.0 MiB/s, ETA 5 s)'
 */
export function uploadProgress(sent: number, total: number, elapsedMs: number): string {
  const pct = total > 0 ? Math.floor((100 * sent) / total) : 100;
  const head = `uploading ${humanBytes(sent)} of ${humanBytes(total)} (${pct}%`;
  if (elapsedMs < 1000 || sent === 0) return `${head})`;
  const rate = sent / (elapsedMs / 1000);
  const eta = Math.ceil((total - sent) / rate);
  const etaText = eta >= 120 ? `${Math.round(eta / 60)} min` : `${eta} s`;
  return `${head}, ${humanBytes(Math.round(rate))}/s, ETA ${etaText})`;
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
