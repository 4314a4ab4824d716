import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompareResult } from '../../src/commands/compare.js';
import { fmt } from '../../src/core/format.js';
import { repoRoot, runMlv, tempDir, type CliResult } from '../helpers/cli.js';
import { features, v2AgainstV1 } from './classifier-formula.js';

/**
 * `mlv compare NAME A B --predictions` end to end, in the embedded registry of a temp MLV_HOME:
 * classifier v1 and v2 registered as versions 1 and 2 (and a JSON file as version 3), compared
 * with the figures computed from the classifiers' definition.
 */

const fixture = (f: string) => path.join(repoRoot, 'fixtures', f);

let home: string;
const mlv = (args: string[]): Promise<CliResult> =>
  runMlv(args, { cwd: home, env: { MLV_HOME: path.join(home, 'registry') } });

beforeAll(async () => {
  home = tempDir('mlv-compare-predictions-');
  for (const [file, auc] of [
    ['models/classifier-v1.onnx', '0.86'],
    ['models/classifier-v2.onnx', '0.88'],
    ['inputs/classifier.json', '0.5'],
  ]) {
    const r = await mlv(['register', fixture(file!), '--name', 'churn', '--metric', `auc=${auc}`]);
    if (r.code !== 0) throw new Error(`mlv register ${file} failed (${r.code}): ${r.stderr}`);
  }
}, 60_000);

function expectMatchesFormula(p: CompareResult['predictions'], x: ArrayLike<number>, rows: number) {
  const { agree, maxProb, meanProb, minMargin } = v2AgainstV1(x, rows);
  // No near-ties that float32 could flip, so the labels from onnxruntime must match the formula's.
  expect(minMargin).toBeGreaterThan(1e-4);
  expect(p!.rows).toBe(rows);
  expect(p!.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
  const [label, probabilities] = p!.outputs as [(typeof p & {})['outputs'][0], (typeof p & {})['outputs'][0]];
  expect(label.max_abs_diff).toBe(agree < 1 ? 1 : 0);
  expect(label.mean_abs_diff).toBeCloseTo(1 - agree, 6);
  expect(probabilities.max_abs_diff).toBeCloseTo(maxProb, 5);
  expect(probabilities.mean_abs_diff).toBeCloseTo(meanProb, 5);
  expect(p!.agreement).toBeCloseTo(agree, 6);
  expect(p!.agreement_output).toBe('label');
  expect(p!.latency_ratio).toBeGreaterThan(0);
  return agree;
}

describe('compare --predictions', () => {
  it('v2 against v1 on generated inputs: agreement and differences as the formula gives them', async () => {
    const r = await mlv(['--json', 'compare', 'churn', '1', '2', '--predictions', '--batch', '256']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json<CompareResult>();
    expect(Object.keys(out)).toEqual([
      'name',
      'a',
      'b',
      'metrics',
      'params',
      'metadata',
      'dependencies',
      'tags',
      'all',
      'predictions',
    ]);
    expect([out.a.version, out.b.version]).toEqual(['1', '2']);
    expect(out.predictions!.input).toBe('generated (seed 0, batch 256)');
    const agree = expectMatchesFormula(out.predictions, features(0, 256), 256);
    // The same v1-vs-v2 figures the smoke tests check: high agreement, but not total.
    expect(agree).toBeGreaterThan(0.9);
    expect(agree).toBeLessThan(1);
  });

  it('--seed changes the generated inputs', async () => {
    const r = await mlv(['--json', 'compare', 'churn', '1', '2', '--predictions', '--seed', '7', '--batch', '64']);
    expect(r.code, r.stderr).toBe(0);
    const p = r.json<CompareResult>().predictions!;
    expect(p.input).toBe('generated (seed 7, batch 64)');
    expectMatchesFormula(p, features(7, 64), 64);
  });

  it('--input FILE: both versions run on the rows of the file', async () => {
    const file = fixture('inputs/classifier.json');
    const r = await mlv(['--json', 'compare', 'churn', '1', '2', '--predictions', '--input', file]);
    expect(r.code, r.stderr).toBe(0);
    const p = r.json<CompareResult>().predictions!;
    expect(p.input).toBe(file);
    const rows = (JSON.parse(readFileSync(file, 'utf8')) as { inputs: { features: number[][] } }).inputs.features;
    expectMatchesFormula(p, Float32Array.from(rows.flat()), rows.length);
  });

  it('without --predictions there is no predictions field', async () => {
    const r = await mlv(['--json', 'compare', 'churn', '1', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<CompareResult>()).not.toHaveProperty('predictions');
  });

  it('--md and the piped view show the predictions table after the metrics', async () => {
    const json = (await mlv(['--json', 'compare', 'churn', '1', '2', '--predictions'])).json<CompareResult>()
      .predictions!;
    const [label, probabilities] = json.outputs;
    const pct = `${Number((json.agreement! * 100).toFixed(2))}% (label)`;

    const md = await mlv(['compare', 'churn', '1', '2', '--predictions', '--md']);
    expect(md.code, md.stderr).toBe(0);
    const table = [
      '| prediction | max \\|B − A\\| | mean \\|B − A\\| |',
      '| --- | ---: | ---: |',
      `| \`label\` | ${fmt(label!.max_abs_diff)} | ${fmt(label!.mean_abs_diff)} |`,
      `| \`probabilities\` | ${fmt(probabilities!.max_abs_diff)} | ${fmt(probabilities!.mean_abs_diff)} |`,
    ].join('\n');
    expect(md.stdout).toContain(table);
    expect(md.stdout).toMatch(
      new RegExp(
        `\\nAgreement ${pct.replace(/[.()]/g, '\\$&')} · latency ratio B/A \\d+\\.\\d\\d× \\(p50\\) · 16 rows: generated \\(seed 0, batch 16\\)\\n`,
      ),
    );
    expect(md.stdout.indexOf('| `auc` |')).toBeLessThan(md.stdout.indexOf('| prediction |'));

    const piped = await mlv(['compare', 'churn', '1', '2', '--predictions']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toContain(
      `prediction\tmax |B − A|\tmean |B − A|\nlabel\t${fmt(label!.max_abs_diff)}\t${fmt(label!.mean_abs_diff)}\nprobabilities\t${fmt(probabilities!.max_abs_diff)}\t${fmt(probabilities!.mean_abs_diff)}\nagreement ${pct} · latency ratio B/A `,
    );
    expect(piped.stdout.indexOf('auc\t0.86\t0.88')).toBeLessThan(piped.stdout.indexOf('prediction\t'));
  });

  it.each([
    ['B', ['1', '3']],
    ['A', ['3', '2']],
  ])('a version (%s) whose artifact is not an ONNX model → exit 2 naming it', async (_side, refs) => {
    const r = await mlv(['compare', 'churn', ...refs, '--predictions']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: models:\/churn\/3 has no MLmodel file and no \.onnx file$/m);
    expect(r.stderr).toContain(
      'hint: --predictions runs both versions as ONNX models; without it, compare shows metrics and metadata only\n',
    );
    // The metadata comparison of the same versions still works.
    expect((await mlv(['compare', 'churn', ...refs])).code).toBe(0);
  });

  it.each([
    [['--input', 'x.json'], '--input'],
    [['--seed', '3'], '--seed'],
  ])('%j without --predictions is a usage error', async (extra, flag) => {
    const r = await mlv(['compare', 'churn', '1', '2', ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${flag} applies to --predictions, which is missing`);
  });
});
