import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseSummary, readSummaryFile } from '../../src/io/summary.js';

const CSV = `variant,metric,n,conversions,sum,sum_sq,pre_sum,pre_sum_sq,cross_sum
control,converted,1000,100,,,,,
treatment,converted,1010,"121",NULL,,,,
control,revenue,1000,,2500.5,9000.25,2000,6000,7000
treatment,revenue,1010,,2600,9500,2100,6100,7100
`;

describe('summary reader', () => {
  it('reads the long CSV format, inferring each metric type', () => {
    expect(parseSummary(CSV, 's.csv')).toEqual({
      variants: [
        { variant: 'control', n: 1000 },
        { variant: 'treatment', n: 1010 },
      ],
      metrics: [
        {
          name: 'converted',
          type: 'proportion',
          arms: [
            { variant: 'control', n: 1000, type: 'proportion', conversions: 100 },
            { variant: 'treatment', n: 1010, type: 'proportion', conversions: 121 },
          ],
        },
        {
          name: 'revenue',
          type: 'mean',
          arms: [
            {
              variant: 'control',
              n: 1000,
              type: 'mean',
              sum: 2500.5,
              sumSq: 9000.25,
              cuped: { preSum: 2000, preSumSq: 6000, crossSum: 7000 },
            },
            {
              variant: 'treatment',
              n: 1010,
              type: 'mean',
              sum: 2600,
              sumSq: 9500,
              cuped: { preSum: 2100, preSumSq: 6100, crossSum: 7100 },
            },
          ],
        },
      ],
      excluded: { multi_variant_units: null, bad_lines: 0 },
    });
  });

  it('reads JSON rows (numbers as strings, as BigQuery exports them), an experiment column, and {rows}', () => {
    const rows = [
      { experiment: 'exp', variant: 'control', metric: 'converted', n: '1000', conversions: '100', sum: null },
      { experiment: 'exp', variant: 'treatment', metric: 'converted', n: 1010, conversions: 121 },
    ];
    const a = parseSummary(JSON.stringify(rows), 's.json');
    expect(a.experiment).toBe('exp');
    expect(a.metrics[0]!.arms).toEqual([
      { variant: 'control', n: 1000, type: 'proportion', conversions: 100 },
      { variant: 'treatment', n: 1010, type: 'proportion', conversions: 121 },
    ]);
    expect(parseSummary(JSON.stringify({ rows }), 's.json')).toEqual(a);
  });

  it('selects metrics, and reads a 0/1 metric as a mean on request', () => {
    const r = parseSummary(CSV, 's.csv', { metrics: [{ name: 'converted', type: 'mean' }] });
    expect(r.metrics).toEqual([
      {
        name: 'converted',
        type: 'mean',
        arms: [
          { variant: 'control', n: 1000, type: 'mean', sum: 100, sumSq: 100 },
          { variant: 'treatment', n: 1010, type: 'mean', sum: 121, sumSq: 121 },
        ],
      },
    ]);
  });

  it.each([
    ['', 's.csv: the file is empty'],
    ['variant,metric,n,conversions\n', 's.csv: no data rows'],
    ['variant,n,conversions\ncontrol,10,1\n', 's.csv: the CSV header has no "metric" column'],
    [
      'variant,metric,n,conversions\ncontrol,c,10,1\ncontrol,d,11,1\n',
      's.csv:3: variant control has n=11, but n=10 at s.csv:2',
    ],
    [
      'variant,metric,n,conversions\ncontrol,c,10,11\ntreatment,c,10,1\n',
      's.csv:2: conversions (11) > n (10) for variant control',
    ],
    [
      'variant,metric,n,conversions\ncontrol,c,10,1\ncontrol,c,10,2\n',
      's.csv:3: a second row for variant control, metric c',
    ],
    [
      'variant,metric,n,conversions\ncontrol,c,10,1\ntreatment,d,10,2\n',
      's.csv: no row for variant treatment, metric c',
    ],
    ['variant,metric,n,conversions\ncontrol,c,ten,1\n', 's.csv:2: n must be a number, got "ten"'],
    ['variant,metric,n,conversions\ncontrol,c,10.5,1\n', 's.csv:2: n must be a whole number ≥ 0, got 10.5'],
    ['variant,metric,n,sum\ncontrol,c,10,1\n', 's.csv:2: metric c is a mean but the row lacks sum and sum_sq'],
    [
      'variant,metric,n,sum,sum_sq,pre_sum\ncontrol,c,10,1,1,3\n',
      's.csv:2: pre_sum, pre_sum_sq and cross_sum go together (CUPED)',
    ],
    [
      'variant,metric,n,conversions,experiment\ncontrol,c,10,1,a\ntreatment,c,10,1,b\n',
      's.csv: rows of several experiments (a, b)',
    ],
    ['variant,metric,n\ncontrol,c\n', 's.csv:2: expected 3 fields like the header, got 2'],
    ['[{"variant":"control"}', 's.csv: not valid JSON'],
    ['{"variants":[]}', 's.csv: expected a JSON array of rows or {"rows": [...]}'],
  ])('rejects %j', (text, message) => {
    expect(() => parseSummary(text, 's.csv')).toThrow(`--summary ${message}`);
  });

  it('names an unknown --metric and lists the metrics in the file', () => {
    expect(() => parseSummary(CSV, 's.csv', { metrics: [{ name: 'revenu' }] })).toThrow(
      '--metric revenu: not in --summary s.csv',
    );
  });

  it('reads a gzipped file and stdin', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlv-summary-'));
    const file = path.join(dir, 'stats.csv');
    writeFileSync(file, gzipSync(CSV));
    const stdin = new PassThrough();
    const io = { cwd: tmpdir(), stdin };
    const fromFile = await readSummaryFile(file, {}, io);
    stdin.end(CSV);
    expect(await readSummaryFile('-', {}, io)).toEqual(fromFile);
    expect(fromFile).toEqual(parseSummary(CSV, 'x'));
    // a relative path is resolved against the given cwd, not the process's
    expect(await readSummaryFile('stats.csv', {}, { ...io, cwd: dir })).toEqual(fromFile);
    await expect(readSummaryFile(path.join(dir, 'missing.csv'), {}, io)).rejects.toThrow('missing.csv: no such file');
    await expect(readSummaryFile(dir, {}, io)).rejects.toThrow(`--summary ${dir}: is a directory`);
  });
});
