/**
 * MLflow's standard model layout for an ONNX file, as `mlflow.onnx.log_model` writes it
 * (fixtures/mlflow-reference/onnx-model-layout/): the `.onnx` file plus an `MLmodel` file with the
 * `onnx` and `python_function` flavors and a tensor signature, and the environment files the
 * python_function flavor points at. `mlflow.onnx.load_model("models:/NAME/VERSION")` then loads it.
 */

export interface OnnxLayoutInput {
  /** File name of the model inside the layout (`model.onnx`). */
  dataFile: string;
  runId: string;
  /** 32 lowercase hex characters. */
  modelUuid: string;
  sizeBytes: number;
  createdAt: Date;
  /** JSON strings exactly as MLflow writes them (toMlflowTensorSpec); null when not expressible. */
  signature: { inputs: string | null; outputs: string | null };
  /** Highest ai.onnx opset the model imports (picks the minimum `onnx` package for the environment). */
  opset: number | undefined;
  /** Extra `metadata:` entries (mlv's semver, sha256…). */
  metadata: Record<string, string>;
  /** MLflow 3 only: the LoggedModel this copy belongs to. */
  modelId?: string;
}

/** Python version written into the environment files; the model itself does not depend on it. */
export const LAYOUT_PYTHON_VERSION = '3.11';

/**
 * The oldest `onnx` Python package that knows a default-domain opset (onnx/onnx docs/Versioning.md:
 * 1.8→13, 1.9→14, 1.10→15, 1.11→16, 1.12→17, 1.13→18, 1.14→19, 1.15→20, 1.16→21, 1.17→22, 1.18→23).
 * @example minOnnxPackage(17) // '1.12.0'
 */
export function minOnnxPackage(opset: number | undefined): string {
  if (opset === undefined || opset <= 13) return '1.8.0';
  // Each onnx release since 1.8 added exactly one opset; beyond the table this keeps the pattern.
  return `1.${opset - 5}.0`;
}

/** A YAML single-quoted scalar (`'` doubled), as PyYAML writes strings that need quoting. */
export function yamlQuote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A plain YAML scalar when safe, else single-quoted. */
function yamlScalar(s: string): string {
  if (
    /^[A-Za-z0-9_./-][A-Za-z0-9_ ./@+-]*$/.test(s) &&
    !/^(true|false|null|yes|no|on|off|~)$/i.test(s) &&
    !/^[-+]?[\d.]+(e[-+]?\d+)?$/i.test(s) &&
    !s.endsWith(' ')
  ) {
    return s;
  }
  return yamlQuote(s);
}

/** `2026-01-02 03:04:05.123000`, MLflow's utc_time_created format. */
export function mlflowUtcTime(d: Date): string {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

export function onnxMlmodel(input: OnnxLayoutInput): string {
  const lines: string[] = [];
  const onnxVersion = minOnnxPackage(input.opset);
  lines.push('artifact_path: model');
  lines.push('flavors:');
  lines.push('  onnx:');
  lines.push('    code: null');
  lines.push(`    data: ${yamlScalar(input.dataFile)}`);
  lines.push('    onnx_session_options: null');
  lines.push(`    onnx_version: ${onnxVersion}`);
  lines.push('    providers:');
  lines.push('    - CPUExecutionProvider');
  lines.push('  python_function:');
  lines.push(`    data: ${yamlScalar(input.dataFile)}`);
  lines.push('    env:');
  lines.push('      conda: conda.yaml');
  lines.push('      virtualenv: python_env.yaml');
  lines.push('    loader_module: mlflow.onnx');
  lines.push(`    python_version: ${yamlQuote(LAYOUT_PYTHON_VERSION)}`); // quoted: YAML would read 3.11 as a float
  const meta = Object.entries(input.metadata).sort(([a], [b]) => (a < b ? -1 : 1));
  if (meta.length > 0) {
    lines.push('metadata:');
    for (const [k, v] of meta) lines.push(`  ${yamlScalar(k)}: ${yamlScalar(v)}`);
  }
  if (input.modelId) lines.push(`model_id: ${yamlScalar(input.modelId)}`);
  lines.push(`model_size_bytes: ${input.sizeBytes}`);
  lines.push(`model_uuid: ${input.modelUuid}`);
  lines.push(`run_id: ${input.runId}`);
  if (input.signature.inputs !== null) {
    lines.push('signature:');
    lines.push(`  inputs: ${yamlQuote(input.signature.inputs)}`);
    lines.push(`  outputs: ${input.signature.outputs === null ? 'null' : yamlQuote(input.signature.outputs)}`);
    lines.push('  params: null');
  }
  lines.push(`utc_time_created: ${yamlQuote(mlflowUtcTime(input.createdAt))}`);
  return lines.join('\n') + '\n';
}

/** requirements.txt of the layout: what loading the model in Python needs. */
export function onnxRequirements(opset: number | undefined): string {
  return ['mlflow', `onnx>=${minOnnxPackage(opset)}`, 'onnxruntime'].join('\n') + '\n';
}

export function condaYaml(requirements: string): string {
  const pip = requirements
    .trim()
    .split('\n')
    .map((r) => `  - ${r}`)
    .join('\n');
  return `channels:\n- conda-forge\ndependencies:\n- python=${LAYOUT_PYTHON_VERSION}\n- pip\n- pip:\n${pip}\nname: mlflow-env\n`;
}

export function pythonEnvYaml(): string {
  return `python: ${yamlQuote(LAYOUT_PYTHON_VERSION)}\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n- -r requirements.txt\n`;
}
