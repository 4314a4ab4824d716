import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { metricsFromFile, paramsFromFile, parseMetricArg, parseParamArg } from '../core/registry/provenance.js';
import { checkRegistration, planRegistration } from '../core/registry/registration.js';
import { BUMPS, type Bump } from '../core/registry/semver.js';
import { MlvError } from '../errors.js';
import { readInputText } from '../io/input.js';
import { artifactSha256, inspectArtifact } from '../registry/artifact.js';
import { readDependencies, whoAmI } from '../registry/provenance.js';
import { DEFAULT_EXPERIMENT, humanBytes, publish, type RegisterResult } from '../registry/publish.js';
import { keyValues, statusLine } from '../terminal/render.js';
import { action } from '../run.js';
import type { Style } from '../terminal/style.js';

export type { RegisterResult } from '../registry/publish.js';

/**
 * `mlv register PATH --name NAME`: one MLflow run with the metrics, params and tags, the model
 * uploaded under the run's `model/` (MLflow's ONNX layout for .onnx files), and a model version
 * created from it with mlv's semver and provenance tags (namespace in src/core/registry/tags.ts).
 *
 * Everything local is checked, read and hashed first, so a bad input fails before any request;
 * src/core/registry/registration.ts decides every tag, src/registry/publish.ts writes them (in an
 * order that leaves no half-registered version behind a crash).
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

export async function register(ctx: Context, input: RegisterInput): Promise<RegisterResult> {
  const checked = checkRegistration({ ...input, aliases: input.aliases });
  const metrics = {
    ...(await readKvFile(ctx, input.metricsFile, '--metrics-file', metricsFromFile)),
    ...input.metrics,
  };
  const params = { ...(await readKvFile(ctx, input.paramsFile, '--params-file', paramsFromFile)), ...input.params };
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
  const plan = planRegistration(checked, input, {
    sha256,
    kind: artifact.kind,
    sizeBytes: artifact.sizeBytes,
    user: who.user,
    createdBy: who.createdBy,
    dependencies: deps,
    onnx: onnx && {
      opsets: onnx.info.opsets,
      producer: `${onnx.info.producerName} ${onnx.info.producerVersion}`.trim(),
    },
  });

  const result = await publish(
    await ctx.mlflow(),
    { plan, artifact, onnx, metrics, params, experiment: input.experiment, dependenciesSource: deps?.source ?? null },
    ctx,
  );
  statusLine(
    ctx,
    result.created
      ? `${ctx.errStyle.pass} registered ${result.name} version ${result.version} (v${result.semver})`
      : `${ctx.errStyle.pass} ${result.name} version ${result.version} (v${result.semver}) already holds this artifact: nothing registered`,
  );
  return result;
}

async function readKvFile<T>(
  ctx: Context,
  file: string | undefined,
  flag: string,
  parse: (text: string, file: string) => T,
): Promise<T | Record<string, never>> {
  if (file === undefined) return {};
  return parse(await readInputText(file, { what: flag, cwd: ctx.cwd, stdin: ctx.stdin }), file);
}

async function readOnnx(file: string) {
  const { readOnnxInfo, toMlflowTensorSpec } = await import('../onnx/model-info.js');
  const info = await readOnnxInfo(file);
  return { info, signature: toMlflowTensorSpec(info) };
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
function collect<T>(parse: (s: string) => [string, T]) {
  return (value: string, previous: Record<string, T> | undefined): Record<string, T> => {
    try {
      const [k, v] = parse(value);
      return { ...previous, [k]: v };
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

// Long but flat: one declaration per flag, each with its parser and help text.
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
      collect((s) => parseMetricArg(s, '--metric')),
    )
    .option(
      '--param <key=value>',
      'a training parameter (repeatable)',
      collect((s) => parseParamArg(s, '--param')),
    )
    .option(
      '--tag <key=value>',
      'a tag on the run and the version (repeatable)',
      collect((s) => parseParamArg(s, '--tag')),
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
