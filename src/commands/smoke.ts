import { InvalidArgumentError, Option, type Command } from 'commander';
import { SMOKE_DEFAULTS, fmtNum, type SmokeReport } from '../core/smoke/report.js';
import { formatShape } from '../core/smoke/tensor.js';
import { CheckFailedError, UsageError } from '../errors.js';
import { action } from '../run.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';
import { intArg, numberArg } from './args.js';

/**
 * `mlv smoke MODEL`: load an ONNX model in onnxruntime-node, feed it generated or given inputs,
 * check its outputs, time it, and optionally compare it with a baseline model and golden outputs.
 * The runner is src/smoke/run.ts (also behind `compare --predictions` and `promote --smoke`).
 */

function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1);
}

/** The human report: I/O, checks, latency, comparison; tab-separated when piped. */
export function renderSmoke(r: SmokeReport, style: Style): string {
  const parts: string[] = [];
  parts.push(`${style.bold('model')} ${r.model}  ${style.dim(`sha256 ${r.sha256.slice(0, 12)}`)}`);
  const source = r.run.seed === null ? `rows from ${r.run.input}` : `generated rows (seed ${r.run.seed})`;
  parts.push(
    style.dim(
      `${r.run.rows} ${source} · ${r.run.iterations} runs after ${r.run.warmup} warm-up · onnxruntime ${r.run.onnxruntime}${r.run.threads ? ` · ${r.run.threads} threads` : ''}`,
    ),
  );
  parts.push(
    renderTable(
      style,
      ['io', 'name', 'type', 'shape'],
      [
        ...r.inputs.map((x) => ['input', x.name, x.type, formatShape(x.shape)]),
        ...r.outputs.map((x) => ['output', x.name, x.type, formatShape(x.shape)]),
      ],
    ),
  );
  parts.push(
    renderTable(
      style,
      ['check', 'ok', 'detail'],
      r.checks.map((c) => [c.name, c.passed ? style.pass : style.fail, c.detail]),
    ),
  );
  const cmp = r.comparison;
  const lat = (l: SmokeReport['latency_ms']) => [fmtMs(l.p50), fmtMs(l.p95), fmtMs(l.p99), fmtMs(l.max)];
  const latencyRows: (string | number)[][] = [['candidate', ...lat(r.latency_ms), Math.round(r.throughput_rows_per_s)]];
  if (cmp) {
    const b = cmp.baseline_latency_ms;
    latencyRows.push(['baseline', ...lat(b), Math.round(cmp.baseline_throughput_rows_per_s)]);
  }
  parts.push(renderTable(style, ['latency ms', 'p50', 'p95', 'p99', 'max', 'rows/s'], latencyRows));
  if (cmp) {
    const notes = cmp.outputs.some((o) => o.nonfinite_mismatches > 0);
    const rows: (string | number)[][] = cmp.outputs.map((o) => [
      o.name,
      fmtNum(o.max_abs_diff),
      fmtNum(o.mean_abs_diff),
      ...(notes ? [o.nonfinite_mismatches > 0 ? `${o.nonfinite_mismatches} NaN/Inf mismatches` : ''] : []),
    ]);
    parts.push(
      `${style.bold('vs baseline')} ${cmp.baseline}  ${style.dim(`sha256 ${cmp.baseline_sha256.slice(0, 12)}`)}`,
    );
    parts.push(renderTable(style, ['output', 'max abs diff', 'mean abs diff', ...(notes ? ['note'] : [])], rows));
    const agreement =
      cmp.agreement === null
        ? 'n/a (no classifier-like output)'
        : `${(cmp.agreement * 100).toFixed(2)}% (${cmp.agreement_output})`;
    parts.push(`agreement ${agreement} · latency ratio ${cmp.latency_ratio.toFixed(2)}× (p50)`);
  }
  const failed = r.checks.filter((c) => !c.passed).map((c) => c.name);
  parts.push(
    r.passed
      ? style.green(`${style.pass} smoke test passed`)
      : style.red(`${style.fail} smoke test failed: ${failed.join(', ')}`),
  );
  return parts.join('\n\n');
}

// ---- registration -------------------------------------------------------------------------

function dimArg(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const m = /^([^=\s]+)=(\d+)$/.exec(value.trim());
  if (!m || Number(m[2]) < 1) throw new InvalidArgumentError(`--dim must be NAME=SIZE with SIZE ≥ 1, got "${value}"`);
  return { ...previous, [m[1]!]: Number(m[2]) };
}

interface SmokeFlags {
  input?: string;
  batch?: number;
  iterations?: number;
  warmup?: number;
  seed?: number;
  threads?: number;
  dim?: Record<string, number>;
  baseline?: string;
  maxP99Ms?: number;
  minThroughput?: number;
  maxAbsDiff?: number;
  minAgreement?: number;
  maxLatencyRatio?: number;
  allowNonfinite?: boolean;
  saveOutputs?: string;
  expectOutputs?: string;
  atol?: number;
  rtol?: number;
}

// Long but flat: one declaration per flag, each with its parser and help text.
export function registerSmoke(program: Command): void {
  const nonNeg = (flag: string) => numberArg(flag, (n) => n >= 0, 'a number ≥ 0');
  program
    .command('smoke')
    .description(
      'load an ONNX model, run it on generated or given inputs, check outputs, time it, compare with a baseline',
    )
    .argument('<model>', 'an .onnx file, an MLflow model directory, or models:/NAME/VERSION|v1.2.0|@alias')
    .option(
      '--input <file>',
      'inputs as JSON or JSON Lines ({"inputs": {...}}, dataframe_split, dataframe_records, instances; - for stdin)',
    )
    .option('--batch <n>', `rows of generated inputs (default ${SMOKE_DEFAULTS.batch})`, intArg('--batch', 1))
    .option('--iterations <n>', `timed runs (default ${SMOKE_DEFAULTS.iterations})`, intArg('--iterations', 1))
    .option('--warmup <n>', `untimed runs first (default ${SMOKE_DEFAULTS.warmup})`, intArg('--warmup', 0))
    .option('--seed <n>', `seed of generated inputs (default ${SMOKE_DEFAULTS.seed})`, intArg('--seed', 0))
    .option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)', intArg('--threads', 1))
    .option('--dim <name=size>', 'size of a symbolic dimension for generated inputs (repeatable)', dimArg)
    .option('--baseline <model>', 'compare with this model on the same inputs (e.g. models:/NAME/@production)')
    .option('--max-p99-ms <ms>', 'gate: p99 latency at most this', nonNeg('--max-p99-ms'))
    .option('--min-throughput <rows>', 'gate: rows per second at least this', nonNeg('--min-throughput'))
    .option(
      '--max-abs-diff <x>',
      'gate: largest |candidate − baseline| over the float outputs at most this',
      nonNeg('--max-abs-diff'),
    )
    .option(
      '--min-agreement <x>',
      'gate: share of rows with the same predicted class, in [0, 1]',
      numberArg('--min-agreement', (n) => n >= 0 && n <= 1, 'a number in [0, 1]'),
    )
    .option(
      '--max-latency-ratio <x>',
      'gate: candidate/baseline p50 latency at most this',
      numberArg('--max-latency-ratio', (n) => n > 0, 'a number > 0'),
    )
    .option('--allow-nonfinite', 'NaN or Inf in the outputs does not fail the test')
    .option('--save-outputs <file>', 'write the inputs used and the outputs to FILE (golden file)')
    .option(
      '--expect-outputs <file>',
      'compare the outputs with a golden file (replays its inputs unless --input is given)',
    )
    .addOption(
      new Option('--atol <x>', `absolute tolerance for --expect-outputs (default ${SMOKE_DEFAULTS.atol})`).argParser(
        nonNeg('--atol'),
      ),
    )
    .addOption(
      new Option('--rtol <x>', `relative tolerance for --expect-outputs (default ${SMOKE_DEFAULTS.rtol})`).argParser(
        nonNeg('--rtol'),
      ),
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 all checks passed · 1 a check or gate failed (the report is printed first) · 2 bad model, input or flag
Examples:
  mlv smoke model.onnx --batch 32 --max-p99-ms 20
  mlv smoke models:/churn/@candidate --baseline models:/churn/@production --min-agreement 0.98
  mlv smoke model.onnx --save-outputs golden.json   then   mlv smoke model.onnx --expect-outputs golden.json`,
    )
    .action(
      action(async (ctx, model: string, flags: SmokeFlags) => {
        if ((flags.atol !== undefined || flags.rtol !== undefined) && flags.expectOutputs === undefined) {
          throw new UsageError('--atol and --rtol apply to --expect-outputs, which is missing');
        }
        const { runSmoke } = await import('../smoke/run.js');
        const report = await runSmoke(ctx, {
          model,
          input: flags.input,
          batch: flags.batch,
          iterations: flags.iterations,
          warmup: flags.warmup,
          seed: flags.seed,
          threads: flags.threads,
          dims: flags.dim,
          baseline: flags.baseline,
          gates: {
            maxP99Ms: flags.maxP99Ms,
            minThroughput: flags.minThroughput,
            maxAbsDiff: flags.maxAbsDiff,
            minAgreement: flags.minAgreement,
            maxLatencyRatio: flags.maxLatencyRatio,
          },
          allowNonfinite: flags.allowNonfinite,
          saveOutputs: flags.saveOutputs,
          expectOutputs: flags.expectOutputs,
          atol: flags.atol,
          rtol: flags.rtol,
        });
        ctx.output(report, renderSmoke);
        if (!report.passed) {
          const failed = report.checks.filter((c) => !c.passed);
          throw new CheckFailedError(
            `smoke test of ${model} failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`,
          );
        }
      }),
    );
}
