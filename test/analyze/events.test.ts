import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/smoke/random.js';
import { InputError } from '../../src/errors.js';
import {
  EventsAccumulator,
  eventSource,
  parseTimestamp,
  readEvents,
  type EventSource,
  type ReadEventsOptions,
} from '../../src/io/events.js';

const DAY = 86_400_000;
const opts: ReadEventsOptions = {
  experiment: 'exp',
  metrics: [
    { name: 'converted', type: 'proportion' },
    { name: 'revenue', type: 'mean' },
  ],
};

const exposure = (unit: string, variant: string, ts: string, experiment = 'exp') =>
  JSON.stringify({ type: 'exposure', experiment, unit, variant, ts });
const metric = (unit: string, name: string, value: number | undefined, ts: string) =>
  JSON.stringify({ type: 'metric', unit, metric: name, ...(value === undefined ? {} : { value }), ts });

/** A small log whose per-unit answers are worked out by hand in the comments. */
const LINES = [
  exposure('u1', 'control', '2024-05-01T10:00:00Z'),
  metric('u1', 'converted', 1, '2024-05-01T10:05:00Z'), // u1 converted
  metric('u1', 'revenue', 10.5, '2024-05-01T10:05:00Z'),
  metric('u1', 'revenue', 2.25, '2024-04-30T10:00:00Z'), // before exposure: not counted (pre-period)
  exposure('u1', 'control', '2024-05-02T10:00:00Z'), // a later repeat: first exposure stays 05-01
  metric('u2', 'revenue', 4, '2024-05-03T00:00:00Z'), // arrives before u2's exposure line
  metric('u2', 'converted', 1, '2024-05-01T00:00:00Z'), // before exposure: not a conversion
  exposure('u2', 'treatment', '2024-05-02T00:00:00Z'),
  metric('u2', 'converted', 0, '2024-05-04T00:00:00Z'), // value 0: not a conversion
  metric('u2', 'revenue', 1, '2024-05-02T00:00:00Z'), // exactly at exposure: counted
  exposure('u3', 'treatment', '2024-05-01T00:00:00Z'),
  metric('u3', 'converted', undefined, '2024-05-05T00:00:00Z'), // no value = 1: converted
  exposure('u4', 'control', '2024-05-01T00:00:00Z'),
  exposure('u4', 'treatment', '2024-05-01T01:00:00Z'), // u4 saw both arms: excluded
  metric('u4', 'revenue', 100, '2024-05-02T00:00:00Z'),
  exposure('u5', 'control', '2024-05-01T00:00:00Z', 'other'), // another experiment: ignored
  metric('u6', 'revenue', 7, '2024-05-01T00:00:00Z'), // never exposed: ignored
  exposure('u7', 'control', '2024-05-03T00:00:00Z'), // no observations: 0 / 0
  metric('u8', 'pageviews', 3, '2024-05-01T00:00:00Z'), // a metric nobody asked for
];

// By hand: control = u1, u7 → n 2, converted 1, revenue sum 10.5, sum_sq 110.25
//          treatment = u2, u3 → n 2, converted 1 (u3), revenue 5 (u2: 4 + 1) and 0 → sum 5, sum_sq 25
const EXPECTED = {
  variants: [
    { variant: 'control', n: 2 },
    { variant: 'treatment', n: 2 },
  ],
  metrics: [
    {
      name: 'converted',
      type: 'proportion',
      arms: [
        { variant: 'control', n: 2, type: 'proportion', conversions: 1 },
        { variant: 'treatment', n: 2, type: 'proportion', conversions: 1 },
      ],
    },
    {
      name: 'revenue',
      type: 'mean',
      arms: [
        { variant: 'control', n: 2, type: 'mean', sum: 10.5, sumSq: 110.25 },
        { variant: 'treatment', n: 2, type: 'mean', sum: 5, sumSq: 25 },
      ],
    },
  ],
  excluded: { multi_variant_units: 1, bad_lines: 0 },
};

function run(lines: string[], o: ReadEventsOptions = opts) {
  const acc = new EventsAccumulator(o);
  acc.beginFile('events.jsonl');
  acc.pushText(lines.join('\n') + '\n');
  return acc.finish(['events.jsonl']);
}

/** mulberry32 */
function shuffle<T>(xs: T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function chunked(name: string, text: string | Buffer, size: number): EventSource {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  return {
    name,
    async *chunks() {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    },
  };
}

describe('events reader: per-unit rules', () => {
  it('applies first exposure, after-exposure observations and multi-variant exclusion', () => {
    const r = run(LINES);
    expect(r).toMatchObject(EXPECTED);
    expect(r.rows).toBe(LINES.length);
    expect(r.other_experiment_rows).toBe(1);
    expect(r.unexposed_units).toBe(1); // u6 (u5's exposure is another experiment's, u8's metric is not asked for)
  });

  it('gives the same answer for every order of the rows', () => {
    const rand = mulberry32(7);
    const byVariant = (r: ReturnType<typeof run>) =>
      r.metrics.map((m) => ({ ...m, arms: [...m.arms].sort((a, b) => a.variant.localeCompare(b.variant)) }));
    for (let i = 0; i < 50; i++) {
      const r = run(shuffle(LINES, rand));
      expect(byVariant(r)).toEqual(EXPECTED.metrics);
      expect(r.excluded).toEqual(EXPECTED.excluded);
    }
  });

  it('an earlier exposure arriving late moves the first exposure back', () => {
    const r = run([
      metric('a', 'revenue', 5, '2024-05-02T00:00:00Z'),
      metric('a', 'revenue', 3, '2024-05-04T00:00:00Z'),
      metric('a', 'converted', 1, '2024-05-02T00:00:00Z'),
      exposure('a', 'control', '2024-05-03T00:00:00Z'), // so far only the 05-04 row counts
      exposure('a', 'control', '2024-05-01T00:00:00Z'), // now both count, and the conversion too
      exposure('b', 'treatment', '2024-05-01T00:00:00Z'),
      metric('b', 'converted', 1, '2024-04-01T00:00:00Z'),
    ]);
    expect(r.metrics[1]!.arms[0]).toMatchObject({ n: 1, sum: 8, sumSq: 64 });
    expect(r.metrics[0]!.arms).toMatchObject([{ conversions: 1 }, { conversions: 0 }]);
  });

  it('collects the CUPED covariate over the window before the first exposure', () => {
    const r = run(
      [
        exposure('a', 'control', '2024-05-15T00:00:00Z'),
        metric('a', 'revenue', 2, '2024-05-14T00:00:00Z'), // in the 14-day window
        metric('a', 'revenue', 3, '2024-05-01T00:00:00Z'), // exactly 14 days before: in
        metric('a', 'revenue', 50, '2024-04-30T00:00:00Z'), // 15 days before: out
        metric('a', 'revenue', 4, '2024-05-16T00:00:00Z'), // after: y
        exposure('b', 'treatment', '2024-05-15T00:00:00Z'),
        metric('b', 'revenue', 1, '2024-05-10T00:00:00Z'),
        exposure('c', 'control', '2024-05-15T00:00:00Z'),
        metric('c', 'converted', 1, '2024-05-16T00:00:00Z'),
      ],
      { ...opts, cupedWindowMs: 14 * DAY },
    );
    // control: a (x 5, y 4), c (x 0, y 0); treatment: b (x 1, y 0)
    expect(r.metrics[1]!.arms).toEqual([
      { variant: 'control', n: 2, type: 'mean', sum: 4, sumSq: 16, cuped: { preSum: 5, preSumSq: 25, crossSum: 20 } },
      { variant: 'treatment', n: 1, type: 'mean', sum: 0, sumSq: 0, cuped: { preSum: 1, preSumSq: 1, crossSum: 0 } },
    ]);
  });
});

describe('events reader: formats', () => {
  it('reads escaped and nested JSON through the JSON.parse path the same way', () => {
    const fancy = [
      '{"type":"exposure","experiment":"exp","unit":"u\\u0031","variant":"control","ts":"2024-05-01T10:00:00Z","ctx":{"app":"ios"}}',
      '{ "ts" : 1714557900 , "value" : 1, "unit": "u1", "metric":"converted", "type":"metric" }', // epoch seconds = 10:05Z
      '{"type":"metric","unit":"u1","metric":"revenue","value":"10.5","ts":1714557900000}', // epoch ms
      '{"type":"metric","unit":"u1","metric":"revenue","value":2.25,"ts":"2024-04-30T12:00:00+02:00"}',
      '{"type":"exposure","experiment":"exp","unit":"u7","variant":"control","ts":"2024-05-03 00:00:00"}',
      '{"type":"exposure","experiment":"exp","unit":"u2","variant":"treatment","ts":"2024-05-02T02:00:00.000+02:00"}',
      '{"type":"metric","unit":"u2","metric":"revenue","value":5e0,"ts":"2024-05-03T00:00:00Z","tags":["a"]}',
      '{"type":"metric","type":"exposure","experiment":"exp","unit":"u3","variant":"treatment","ts":"2024-05-01"}',
      '{"type":"metric","unit":"u3","metric":"revenue","metric":"other","value":1000,"ts":"2024-05-05T00:00:00Z"}',
      '{"type":"metric","unit":"u3","metric":"converted","value":true,"ts":"2024-05-05T00:00:00Z"}',
    ];
    const r = run(fancy);
    expect(r.metrics).toEqual(EXPECTED.metrics);
    expect(r.excluded.bad_lines).toBe(0);
  });

  it('counts unparseable lines with their line numbers, and --strict makes the first an error', () => {
    const lines = [
      LINES[0]!,
      '{"type":"exposure","unit":',
      'not json at all',
      '',
      '{"type":"metric","unit":"u1","metric":"revenue","value":"abc","ts":"2024-05-01T11:00:00Z"}',
      '{"type":"metric","unit":"u1","metric":"revenue","value":1,"ts":"yesterday-ish"}',
      '{"type":"click","unit":"u1","ts":"2024-05-01T11:00:00Z"}',
      '[1,2,3]',
      '{"type":"metric","metric":"revenue","value":1,"ts":"2024-05-01T11:00:00Z"}',
      '{"type":"metric","unit":"u1","metric":"revenue","value":1e400,"ts":"2024-05-01T11:00:00Z"}',
      ...LINES.slice(1),
    ];
    const r = run(lines);
    expect(r.metrics).toEqual(run(LINES).metrics);
    expect(r.excluded.bad_lines).toBe(8);
    expect(r.bad_line_samples).toEqual([
      { file: 'events.jsonl', line: 2, reason: 'not valid JSON' },
      { file: 'events.jsonl', line: 3, reason: 'not valid JSON' },
      { file: 'events.jsonl', line: 5, reason: 'value is not a number' },
      { file: 'events.jsonl', line: 6, reason: 'unparseable ts' },
      { file: 'events.jsonl', line: 7, reason: 'unknown type "click" (expected exposure or metric)' },
    ]);
    expect(() => run(lines, { ...opts, strict: true })).toThrow(InputError);
    expect(() => run(lines, { ...opts, strict: true })).toThrow('events.jsonl:2: not valid JSON');
  });

  it('reads CSV with a header in any column order, quoted fields and no type column', () => {
    const csv = [
      'ts,unit,variant,metric,value,experiment',
      '2024-05-01T10:00:00Z,u1,control,,,exp',
      '2024-05-01T10:05:00Z,u1,,converted,1,',
      '2024-05-01T10:05:00Z,"u1",,"revenue","10.5",',
      '2024-04-30T10:00:00Z,u1,,revenue,2.25,',
      '2024-05-03T00:00:00Z,u7,control,,,exp',
      '2024-05-02T00:00:00Z,u2,treatment,,,"exp"',
      '2024-05-03T00:00:00Z,u2,,revenue,4,',
      '2024-05-02T00:00:00Z,u2,,revenue,1,',
      '2024-05-01T00:00:00Z,u3,treatment,,,exp',
      '2024-05-05T00:00:00Z,u3,,converted,,',
      '2024-05-01T00:00:00Z,"u,4",control,,,exp',
      '2024-05-01T01:00:00Z,"u,4",treatment,,,exp',
      '2024-05-01T01:00:00Z,u9,treatment,exp', // wrong field count
    ].join('\r\n');
    const acc = new EventsAccumulator(opts);
    acc.beginFile('e.csv');
    acc.pushText(csv);
    const r = acc.finish(['e.csv']);
    expect(r.metrics).toEqual(EXPECTED.metrics);
    expect(r.excluded).toEqual({ multi_variant_units: 1, bad_lines: 1 });
    expect(r.bad_line_samples).toEqual([{ file: 'e.csv', line: 14, reason: 'expected 6 CSV fields, got 4' }]);
  });

  it('does not depend on where the chunks are cut', async () => {
    const text = LINES.join('\n'); // no final newline
    const whole = await readEvents([chunked('e', text, 1 << 20)], opts);
    for (const size of [1, 7, 64, 333]) {
      const r = await readEvents([chunked('e', text, size)], opts);
      expect(r.metrics).toEqual(whole.metrics);
    }
    expect(whole.metrics).toEqual(EXPECTED.metrics);
  });

  it('reads gzip (by magic bytes, whatever the name), several files, and stdin as -', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlv-events-'));
    const half = Math.floor(LINES.length / 2);
    const gz = path.join(dir, 'part1.jsonl'); // gzipped despite the name
    writeFileSync(gz, gzipSync(LINES.slice(0, half).join('\n') + '\n'));
    const stdin = new PassThrough();
    stdin.end(LINES.slice(half).join('\n') + '\n');
    const r = await readEvents([eventSource(gz, { cwd: dir, stdin }), eventSource('-', { cwd: dir, stdin })], opts);
    expect(r.metrics).toEqual(EXPECTED.metrics);
    expect(r.excluded).toEqual(EXPECTED.excluded);
  });

  it('names the file when it is missing, corrupt gzip, empty, or has no exposures or metric', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlv-events-'));
    const stdin = new PassThrough();
    await expect(readEvents([eventSource(path.join(dir, 'nope.jsonl'), { cwd: dir, stdin })], opts)).rejects.toThrow(
      /nope\.jsonl: no such file/,
    );
    const bad = path.join(dir, 'bad.gz');
    writeFileSync(bad, Buffer.concat([gzipSync(LINES.join('\n')).subarray(0, 30)]));
    await expect(readEvents([eventSource(bad, { cwd: dir, stdin })], opts)).rejects.toThrow(
      /bad\.gz: corrupt gzip data/,
    );
    const empty = path.join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    await expect(readEvents([eventSource(empty, { cwd: dir, stdin })], opts)).rejects.toThrow(
      `--events ${empty}: no rows`,
    );
    const other = path.join(dir, 'other.jsonl');
    writeFileSync(
      other,
      [exposure('a', 'control', '2024-05-01', 'checkout'), metric('a', 'revenue', 1, '2024-05-02')].join('\n'),
    );
    await expect(readEvents([eventSource(other, { cwd: dir, stdin })], opts)).rejects.toMatchObject({
      message: `--events ${other}: no exposures for experiment "exp"`,
      hint: 'experiments seen: checkout',
    });
    await expect(
      readEvents([chunked('e.jsonl', LINES.join('\n'), 1024)], {
        ...opts,
        metrics: [{ name: 'revenu', type: 'mean' }],
      }),
    ).rejects.toMatchObject({
      message: '--metric revenu: no observations of metric "revenu" in e.jsonl',
      hint: 'metrics seen: converted, revenue, pageviews',
    });
  });
});

describe('timestamps inside JSON rows (the in-place reader)', () => {
  it('reads every shape to the millisecond: a conversion at the exposure counts, 1 ms before does not', () => {
    const rand = mulberry32(11);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const shapes = [
      (t: number) => new Date(t).toISOString(),
      (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', ''),
      (t: number) => new Date(t).toISOString().replace('Z', '123Z'), // microseconds: truncated
      (t: number) => {
        const d = new Date(t + 2 * 3_600_000 + 30 * 60_000); // the same instant at +02:30
        return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}+02:30`;
      },
      (t: number) => {
        const d = new Date(t - 5 * 3_600_000); // at -05:00
        return `${d.toISOString().slice(0, 23)}-05:00`;
      },
    ];
    const lines: string[] = [];
    let units = 0;
    for (let i = 0; i < 400; i++) {
      const t = Date.UTC(2020, 0, 1) + Math.floor(rand() * 2e11);
      const shape = shapes[i % shapes.length]!;
      lines.push(exposure(`a${i}`, 'control', shape(t)), metric(`a${i}`, 'converted', 1, shape(t)));
      lines.push(exposure(`b${i}`, 'treatment', shape(t)), metric(`b${i}`, 'converted', 1, shape(t - 1)));
      units++;
    }
    const r = run(lines, { ...opts, metrics: [{ name: 'converted', type: 'proportion' }] });
    expect(r.metrics[0]!.arms).toEqual([
      { variant: 'control', n: units, type: 'proportion', conversions: units },
      { variant: 'treatment', n: units, type: 'proportion', conversions: 0 },
    ]);
    expect(r.excluded.bad_lines).toBe(0);
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2024-05-01T10:00:00Z', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01T10:00:00.123Z', Date.UTC(2024, 4, 1, 10, 0, 0, 123)],
    ['2024-05-01T10:00:00.123456Z', Date.UTC(2024, 4, 1, 10, 0, 0, 123)],
    ['2024-05-01T12:00:00+02:00', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01T05:30:00-0430', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01 10:00:00', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01T10:00', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['1714557600', Date.UTC(2024, 4, 1, 10)],
    ['1714557600000', Date.UTC(2024, 4, 1, 10)],
    ['1714557600.5', Date.UTC(2024, 4, 1, 10) + 500],
    ['1969-12-31T23:59:59Z', -1000],
  ])('%s', (text, ms) => {
    expect(parseTimestamp(text)).toBe(ms);
  });

  it.each(['2023-02-29T00:00:00Z', '2024-13-01', 'soon', '', '2024-05-01T25:00:00Z'])(
    '%s is not a timestamp',
    (text) => {
      expect(parseTimestamp(text)).toBeNaN();
    },
  );

  it('agrees with Date.parse on many ISO timestamps', () => {
    const rand = mulberry32(3);
    for (let i = 0; i < 2000; i++) {
      const t = Math.floor((rand() - 0.3) * 4e12);
      const iso = new Date(t).toISOString();
      expect(parseTimestamp(iso)).toBe(t);
    }
  });
});
