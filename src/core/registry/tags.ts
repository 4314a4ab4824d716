/**
 * The tag namespace mlv writes in MLflow. Everything mlv records lives under `mlv.` so it never
 * collides with MLflow's own `mlflow.` tags or with a team's tags, and other tools can read it.
 *
 * Model-version tags (set atomically in the model-versions/create request):
 *   mlv.semver          1.4.0                       unique per model, increasing
 *   mlv.sha256          hex digest of the artifact   file: sha256 of its bytes; directory: see sha256 in src/registry/artifact.ts
 *   mlv.artifact        onnx | file | directory | mlflow-model
 *   mlv.size_bytes      artifact size in bytes
 *   mlv.framework       --framework, or `onnx` for an .onnx file
 *   mlv.training_data   --training-data URI
 *   mlv.dependencies    JSON object {package: specifier}, from --requirements or a manifest
 *   mlv.dependencies.source   the file they were read from
 *   mlv.created_by      user@host, or the CI job (github-actions:owner/repo run 123 …)
 *   mlv.onnx.opset      ai.onnx=17[,ai.onnx.ml=3]
 *   mlv.onnx.producer   pytorch 2.3.0
 *
 * Registered-model tags:
 *   mlv.audit.<time>.<rand>   one promote/rollback event (JSON, see audit.ts)
 *   mlv.route                 the serving route (JSON, see src/core/serve/route.ts)
 *   mlv.route.cleared         {"revision", "updated_by", "updated_at"} left by `mlv route clear`
 *
 * Model-version tags written by `mlv serve`:
 *   mlv.serve.load_error      {"error", "at", "host"}: the version failed to load or warm up
 */
export const TAG = {
  semver: 'mlv.semver',
  sha256: 'mlv.sha256',
  artifact: 'mlv.artifact',
  sizeBytes: 'mlv.size_bytes',
  framework: 'mlv.framework',
  trainingData: 'mlv.training_data',
  dependencies: 'mlv.dependencies',
  dependenciesSource: 'mlv.dependencies.source',
  createdBy: 'mlv.created_by',
  onnxOpset: 'mlv.onnx.opset',
  onnxProducer: 'mlv.onnx.producer',
  auditPrefix: 'mlv.audit.',
} as const;

/** MLflow's limit on a model-registry tag value is 5000 characters in 2.x (100000 in later 3.x). */
export const MAX_TAG_VALUE = 5000;
