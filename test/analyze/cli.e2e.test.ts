import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runMlv, tempDir } from '../helpers/cli.js';
import { expectClose } from '../stats/close.js';
import { syntheticExperiment } from './synthetic.js';

/** `mlv analyze` as a user runs it: the built CLI, exit codes, stdout/stderr. */
describe('mlv analyze (end to end)', () => {
  it('exit 0 with a human report; --json is one JSON document', async () => {
    const r = await runMlv(['analyze', '--control', '450/10000', '--treatment', '520/10000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('verdict: SHIP');
    const j = await runMlv(['--json', 'analyze', '--control', '450/10000', '--treatment', '520/10000']);
    expect(j.code).toBe(0);
    expect(j.json().verdict).toBe('ship');
  });

  it('--fail-unless ship: exit 1 after printing the report when the verdict is not ship, 0 when it is', async () => {
    const r = await runMlv(['analyze', '--control', '450/10000', '--treatment', '460/10000', '--fail-unless', 'ship']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('verdict: KEEP RUNNING');
    expect(r.stderr).toContain('error: verdict is keep_running, not ship');
    const ok = await runMlv(['analyze', '--control', '450/10000', '--treatment', '520/10000', '--fail-unless', 'ship']);
    expect(ok.code).toBe(0);
  });

  it("issue 10's commands: --sequential is sequential throughout; --md with --ci and --mde", async () => {
    const seq = await runMlv([
      '--json',
      'analyze',
      '--control',
      '500/10000',
      '--treatment',
      '590/10000',
      '--sequential',
    ]);
    expect(seq.code).toBe(0);
    const c = seq.json().metrics[0].comparisons[0];
    expect([c.p_value_basis, c.difference.ci_method, c.significant]).toEqual([
      'sequential',
      'confidence_sequence',
      false,
    ]);
    expect(seq.json().additional_units_needed).toBeGreaterThan(0);
    const md = await runMlv([
      'analyze',
      '--control',
      '3/20',
      '--treatment',
      '9/21',
      '--ci',
      'agresti-caffo',
      '--mde',
      '0.2',
      '--md',
    ]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain("more units to detect the design's MDE");
    expect(md.stdout).toContain('| treatment | 21 | 42.86% |');
    expect(md.stdout).toContain('CI agresti-caffo');
  });

  it.each([
    [['--control', '451/450', '--treatment', '520/10000'], 'error: --control 451/450: conversions (451) > units (450)'],
    [
      ['--control', '450/10000', '--treatment', '520/10000', '--alpha', '1.5'],
      '--alpha must be a number in (0, 1), got "1.5"',
    ],
    [
      ['--control', '450/10000', '--treatment', '520/10000', '--expected-split', '80'],
      '--expected-split must be positive shares',
    ],
    [
      ['--events', 'missing.jsonl', '--experiment', 'e', '--metric', 'm'],
      'error: --events missing.jsonl: no such file',
    ],
    [['--control', '450/10000', '--treatment', '520/10000', '--test', 'anova'], "argument 'anova' is invalid"],
    [['--control', '450/10000', '--treatment', '520/10000', '--ci', 'exact'], "argument 'exact' is invalid"],
    [['--events', 'e.jsonl', '--threads', '0'], '--threads must be an integer ≥ 1, got "0"'],
  ])('exit 2 on bad input: %j', async (args, message) => {
    const r = await runMlv(['analyze', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('reads events from gzip files and stdin; --strict names file:line', async () => {
    const dir = tempDir();
    const data = syntheticExperiment({ units: 500, seed: 3 });
    const half = Math.floor(data.lines.length / 2);
    writeFileSync(path.join(dir, 'a.jsonl.gz'), gzipSync(data.lines.slice(0, half).join('\n') + '\n'));
    const rest = data.lines.slice(half).join('\n') + '\n';
    const args = [
      '--json',
      'analyze',
      '--events',
      'a.jsonl.gz',
      '-',
      '--experiment',
      'exp',
      '--metric',
      'converted',
      '--metric',
      'revenue:mean',
    ];
    const r = await runMlv(args, { cwd: dir, input: rest });
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.metrics.map((m: { name: string }) => m.name)).toEqual(['converted', 'revenue']);
    expect(j.excluded.multi_variant_units).toBeGreaterThan(0);
    expect(j.excluded.bad_lines).toBe(0);
    expect(j.input.rows).toBe(data.lines.length);
    // One thread, or three (blocks of stdin and gzip handed to reader threads): the same report.
    const one = await runMlv([...args, '--threads', '1'], { cwd: dir, input: rest });
    const three = await runMlv([...args, '--threads', '3'], { cwd: dir, input: rest });
    const { peak_pending_observations: _a, ...inputOne } = one.json().input;
    const { peak_pending_observations: _b, ...inputThree } = three.json().input;
    expect(inputThree).toEqual(inputOne);
    // equal but for the order of floating-point additions
    const close = (a: unknown, b: unknown, at: string): void => {
      if (typeof b === 'number') expectClose(a as number, b, 1e-12, 0, at);
      else if (b === null || typeof b !== 'object') expect(a, at).toBe(b);
      else for (const [k, v] of Object.entries(b)) close((a as Record<string, unknown>)[k], v, `${at}.${k}`);
    };
    close(three.json().metrics, one.json().metrics, 'metrics');
    expect(three.json().verdict).toBe(one.json().verdict);

    const broken = rest.split('\n');
    broken.splice(2, 0, '{"type": "metric", oops');
    const skipped = await runMlv(args, { cwd: dir, input: broken.join('\n') });
    expect(skipped.code).toBe(0);
    expect(skipped.json().excluded).toMatchObject({
      bad_lines: 1,
      bad_line_samples: [{ file: '<stdin>', line: 3, reason: 'not valid JSON' }],
    });
    expect(skipped.stderr).toContain('skipped 1 unparseable line(s): <stdin>:3 (not valid JSON)');
    const strict = await runMlv([...args, '--strict'], { cwd: dir, input: broken.join('\n') });
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain('error: <stdin>:3: not valid JSON');
  });

  it('--help documents the input forms', async () => {
    const r = await runMlv(['analyze', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--treatment b:520/10000');
    expect(r.stdout).toContain('templates/sql/');
  });
});
