import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
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
  readEvents,
  type EventsResult,
  type ParallelOptions,
  type ReadEventsOptions,
} from '../../src/io/events.js';
import { expectClose } from '../stats/close.js';

// The parallel reader (src/io/events/parallel.ts) runs the built worker (dist/io/events/worker.js):
// `npm run build` first.

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1);
const opts: ReadEventsOptions = {
  experiment: 'exp',
  metrics: [
    { name: 'converted', type: 'proportion' },
    { name: 'revenue', type: 'mean' },
  ],
  cupedWindowMs: 7 * DAY,
};
const iso = (t: number) => new Date(t).toISOString();

/**
 * A log with everything whose meaning depends on order: units with several exposures (the
 * first counts), exposed to several variants (excluded), metric rows before their unit's
 * exposure line and before the exposure time (pre-period, CUPED), repeated keys in a line (the
 * last wins), other experiments and metrics, malformed lines, blank and CRLF lines, escapes
 * (the JSON.parse path), and a variant first seen late in the file. Rows are shuffled in
 * windows, so a unit's rows are spread over many ranges.
 */
function log(seed: number, units = 300): string[] {
  const rand = mulberry32(seed);
  const rows: [number, string][] = [];
  const push = (t: number, line: string) => rows.push([t + rand() * 2 * DAY, line]);
  for (let i = 0; i < units; i++) {
    const unit = `u${i}`;
    const first = T0 + Math.floor(rand() * 10 * DAY);
    const variant = rand() < 0.5 ? 'control' : i > units * 0.8 && rand() < 0.3 ? 'late' : 'treatment';
    const exposures = 1 + Math.floor(rand() * 3);
    for (let e = 0; e < exposures; e++) {
      const v = rand() < 0.05 ? 'treatment' : variant; // sometimes a second variant: excluded
      const t = first + e * Math.floor(rand() * DAY);
      push(t, JSON.stringify({ type: 'exposure', experiment: 'exp', unit, variant: v, ts: iso(t) }));
    }
    for (let k = 0; k < 6; k++) {
      const t = first + Math.floor((rand() * 20 - 8) * DAY); // some before the first exposure
      const m = rand() < 0.4 ? 'converted' : rand() < 0.9 ? 'revenue' : 'pageviews';
      const value = m === 'converted' ? (rand() < 0.3 ? 1 : 0) : Math.round(rand() * 10000) / 100;
      const r = rand();
      if (r < 0.05)
        push(
          t,
          `{"type":"metric","unit":"${unit}","metric":"revenue","metric":"${m}","value":${value},"ts":"${iso(t)}"}`,
        );
      else if (r < 0.1)
        push(
          t,
          `{"type":"metric","unit":"${unit.replace('u', '\\u0075')}","metric":"${m}","value":${value},"ts":${t}}`,
        );
      else push(t, JSON.stringify({ type: 'metric', unit, metric: m, value, ts: iso(t) }));
    }
    if (rand() < 0.1)
      push(first, JSON.stringify({ type: 'exposure', experiment: 'other', unit, variant: 'x', ts: iso(first) }));
    if (rand() < 0.05)
      push(
        first,
        [
          '{"type":"metric",',
          'not json',
          '{"type":"metric","unit":"x","metric":"revenue","value":"abc","ts":"2024-05-01"}',
          '',
          '  ',
        ][Math.floor(rand() * 5)]!,
      );
  }
  rows.sort((a, b) => a[0] - b[0]);
  return rows.map((r, i) => (i % 17 === 0 ? r[1] + '\r' : r[1]));
}

const STATS = new Set(['sum', 'sumSq', 'preSum', 'preSumSq', 'crossSum']);

/** Equal, except sums (floating-point additions in another order) to 1e-12 relative. */
function expectSame(actual: unknown, expected: unknown, at = ''): void {
  const stat = STATS.has(at.split('.').pop()!) || /^\.daily\.sum(Sq)?\./.test(at); // daily: [day][metric][variant]
  if (typeof expected === 'number' && stat) {
    expectClose(actual as number, expected, 1e-12, 0, at);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    expect(actual, at).toBe(expected);
    return;
  }
  expect(Object.keys(actual as object).sort(), at).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) expectSame((actual as Record<string, unknown>)[k], v, `${at}.${k}`);
}

function same(par: EventsResult, seq: EventsResult): void {
  const { peak_pending_observations: _p, ...a } = par;
  const { peak_pending_observations: _q, ...b } = seq;
  expectSame(a, b);
}

const dir = mkdtempSync(path.join(tmpdir(), 'mlv-events-parallel-'));
const stdin = () => new PassThrough();
const io = { cwd: dir, stdin: stdin() };
const write = (name: string, data: string | Buffer) => (writeFileSync(path.join(dir, name), data), name);
const sources = (names: string[], input = io) => names.map((n) => eventSource(n, input));
const parallel = (p: Partial<ParallelOptions> = {}): ParallelOptions => ({ threads: 2, minParallelBytes: 0, ...p });

describe('events reader on several threads: the same result as one', () => {
  const a = log(1, 80);
  const b = log(2, 60);
  const fileA = write('a.jsonl', '\uFEFF' + a.join('\n') + '\n');
  const fileB = write('b.jsonl', '\n\n' + b.join('\n')); // blank lines first, no final newline

  it('checks something: the log has every case', async () => {
    const r = await readEvents(sources([fileA, fileB]), opts);
    expect(r.variants.map((v) => v.variant)).toEqual(['treatment', 'control', 'late']);
    expect(r.excluded.multi_variant_units).toBeGreaterThan(5);
    expect(r.excluded.bad_lines).toBeGreaterThan(2);
    expect(r.other_experiment_rows).toBeGreaterThan(5);
    expect(r.peak_pending_observations).toBeGreaterThan(100);
  });

  it.each([13, 999, 1 << 20])('ranges of %i bytes, two files, 2 and 3 threads', async (chunkBytes) => {
    const seq = await readEvents(sources([fileA, fileB]), opts);
    for (const threads of [2, 3]) {
      same(await readEvents(sources([fileA, fileB]), opts, undefined, parallel({ threads, chunkBytes })), seq);
      // each thread exactly its zone: the split does not depend on which thread started first
      const fixed = parallel({ threads, chunkBytes, steal: false });
      same(await readEvents(sources([fileA, fileB]), opts, undefined, fixed), seq);
    }
  });

  it("the parts reduce the units no other part has (foldLocal), then merge the rest: one reader's result", () => {
    const lines = a.map((l) => l + '\n');
    const daily = { ...opts, daily: true };
    const one = new EventsAccumulator(daily);
    one.beginFile('a.jsonl');
    one.pushText(lines.join(''));
    const seq = one.finish(['a.jsonl']);
    for (const cuts of [
      [0.3, 0.7],
      [0.5, 0.5],
      [0.05, 0.95],
    ]) {
      const at = [0, ...cuts.map((c) => Math.floor(c * lines.length)), lines.length];
      const parts = [0, 1, 2].map((i) => {
        const acc = new EventsAccumulator(daily);
        acc.beginSegment('a.jsonl', i, i === 0 ? undefined : { format: 'json' });
        acc.pushText(lines.slice(at[i], at[i + 1]).join(''));
        acc.endSegment();
        return acc;
      });
      const filters = parts.map((p) => p.unitFilter());
      const folded = parts.map((p, i) => p.foldLocal(filters.filter((_, j) => j !== i)));
      // most units are in one part only; those in two or three are left to the merge
      expect(folded.reduce((x, y) => x + y)).toBeGreaterThan(0);
      expect(folded.reduce((x, y) => x + y)).toBeLessThan(seq.variants.reduce((n, v) => n + v.n, 0));
      const [first, ...rest] = parts;
      first!.absorb(
        rest.map((p) => p.exportState().state),
        (segment) => at[segment]!,
      );
      const r = first!.finish(['a.jsonl']);
      same(r, seq);
      expect(r.daily).toBeDefined();
    }
  });

  it('tables sized for the input (expectedBytes) read the same as tables that grow', () => {
    const text = log(7, 2500).join('\n'); // more units than the default tables hold: they grow
    const read = (expectedBytes?: number) => {
      const acc = new EventsAccumulator({ ...opts, daily: true }, expectedBytes);
      acc.beginFile('x.jsonl');
      acc.pushText(text);
      return acc.finish(['x.jsonl']);
    };
    const grown = read();
    expect(grown.variants.reduce((n, v) => n + v.n, 0)).toBeGreaterThan(1024);
    // 1,024 units before growing (the default), room for 65,536, and the cap (2^18)
    for (const bytes of [100, 64 << 20, 1 << 40]) expect(read(bytes)).toEqual(grown);
  });

  it("--report's daily cohorts come out the same from several threads", async () => {
    const daily = { ...opts, daily: true };
    const seq = await readEvents(sources([fileA, fileB]), daily);
    expect(seq.daily!.days.length).toBeGreaterThan(5);
    for (const chunkBytes of [50, 999])
      same(await readEvents(sources([fileA, fileB]), daily, undefined, parallel({ chunkBytes, threads: 3 })), seq);
  });

  it('gzip and stdin go through blocks of lines, between ranges of plain files', async () => {
    const gz = write('b.gz', gzipSync(b.join('\n') + '\n'));
    const withStdin = () => {
      const input = { cwd: dir, stdin: stdin() };
      input.stdin.end(b.join('\n'));
      return input;
    };
    const seqGz = await readEvents(sources([fileA, gz]), opts);
    const seqStdin = await readEvents(sources([fileA, '-'], withStdin()), opts);
    for (const blockBytes of [13, 1 << 20]) {
      const p = parallel({ chunkBytes: 500, blockBytes });
      same(
        await readEvents(sources([gz, fileA, gz]), opts, undefined, p),
        await readEvents(sources([gz, fileA, gz]), opts),
      );
      same(await readEvents(sources([fileA, gz]), opts, undefined, p), seqGz);
      same(await readEvents(sources([fileA, '-'], withStdin()), opts, undefined, p), seqStdin);
    }
  });

  it('CSV: every range is told the header', async () => {
    const rand = mulberry32(5);
    const rows = ['ts,unit,variant,metric,value,experiment'];
    for (let i = 0; i < 400; i++) {
      const u = `"u${Math.floor(rand() * 80)}"`;
      const t = iso(T0 + Math.floor(rand() * 10 * DAY));
      rows.push(
        rand() < 0.3
          ? `${t},${u},${rand() < 0.5 ? 'control' : 'treatment'},,,exp`
          : `${t},${u},,${rand() < 0.5 ? 'revenue' : 'converted'},${Math.floor(rand() * 100)},`,
      );
      if (rand() < 0.05) rows.push('2024-05-01,u1,control');
    }
    const csv = write('e.csv', rows.join('\r\n'));
    const seq = await readEvents(sources([csv]), opts);
    expect(seq.excluded.bad_lines).toBeGreaterThan(5);
    for (const chunkBytes of [5, 1000])
      same(await readEvents(sources([csv]), opts, undefined, parallel({ chunkBytes, threads: 3, steal: false })), seq);
  });

  it('--strict: the first bad line of the input, with its line number in its file', async () => {
    const lines = log(3, 40).filter((l) => l.startsWith('{"type":"') && l.length > 30 && !l.includes('"abc"'));
    const bad = write('bad.jsonl', [...lines, 'not json', ...lines, '{"type":'].join('\n'));
    const good = write('good.jsonl', lines.join('\n'));
    const strict = { ...opts, strict: true };
    const message = `${bad}:${lines.length + 1}: not valid JSON`;
    await expect(readEvents(sources([good, bad]), strict)).rejects.toThrow(message);
    for (const chunkBytes of [7, 50, 4096]) {
      const p = readEvents(sources([good, bad]), strict, undefined, parallel({ chunkBytes, threads: 3, steal: false }));
      await expect(p).rejects.toThrow(message);
      await expect(p).rejects.toBeInstanceOf(InputError);
    }
  });

  it('a named pipe is streamed, not cut into ranges; 130 files (segment numbers past 2^31)', async () => {
    const fifo = path.join(dir, 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const writer = createWriteStream(fifo);
    writer.end(b.join('\n') + '\n');
    const seq = await readEvents(sources([fileA, fileB]), opts);
    const r = await readEvents(sources([fileA, 'pipe.jsonl']), opts, undefined, parallel({ chunkBytes: 500 }));
    same(r, {
      ...seq,
      bad_line_samples: seq.bad_line_samples.map((x) => ({
        ...x,
        line: x.file === fileB ? x.line - 2 : x.line,
        file: x.file === fileB ? 'pipe.jsonl' : x.file,
      })),
    });

    const json = a.filter((l) => l.startsWith('{'));
    const many = Array.from({ length: 130 }, (_, i) =>
      write(`m${i}.jsonl`, json.slice(i * 5, i * 5 + 5).join('\n') + '\n'),
    );
    const strict = { ...opts, strict: true };
    const last = write('last.jsonl', `${a[0]}\nnot json\n`);
    const seqMany = await readEvents(sources(many), opts);
    same(await readEvents(sources(many), opts, undefined, parallel({ chunkBytes: 100 })), seqMany);
    await expect(
      readEvents(sources([...many, last]), strict, undefined, parallel({ chunkBytes: 100 })),
    ).rejects.toThrow(`${last}:2: not valid JSON`);
  });

  it('errors come in input order: a missing file after a bad line, corrupt gzip', async () => {
    const strict = { ...opts, strict: true };
    const bad = write('bad2.jsonl', `${a[0]}\nnot json\n`);
    const corrupt = write('corrupt.gz', gzipSync(a.join('\n')).subarray(0, 300));
    await expect(readEvents(sources([bad, 'missing.jsonl']), strict, undefined, parallel())).rejects.toThrow(
      `${bad}:2: not valid JSON`,
    );
    await expect(readEvents(sources([fileA, 'missing.jsonl']), opts, undefined, parallel())).rejects.toThrow(
      '--events missing.jsonl: no such file',
    );
    await expect(readEvents(sources([fileA, corrupt]), opts, undefined, parallel({ blockBytes: 64 }))).rejects.toThrow(
      /^--events corrupt\.gz: corrupt gzip data/,
    );
    const header = write('h.csv', 'time,who\n1,2\n');
    await expect(readEvents(sources([header]), opts, undefined, parallel({ chunkBytes: 2 }))).rejects.toThrow(
      `${header}: not JSON Lines, and line 1 is not a CSV header`,
    );
  });
});
