import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ArmStats, ExperimentData, MetricData, MetricType } from '../core/experiment/types.js';
import { DailyCohortsBuilder, type DailyCohorts } from '../core/experiment/daily.js';
import { InputError } from '../errors.js';

/**
 * The raw-events reader of `mlv analyze --events`.
 *
 * Rows (JSON Lines, or CSV with a header naming the same columns):
 *   {"type":"exposure","experiment":"e","unit":"u1","variant":"control","ts":"2024-05-01T10:00:00Z"}
 *   {"type":"metric","unit":"u1","metric":"revenue","value":12.5,"ts":"2024-05-01T10:03:00Z"}
 * `type` may be left out: a row with a `variant` is an exposure, one with a `metric` an observation.
 * `ts` is ISO 8601 (no zone = UTC) or a number of epoch seconds (< 1e11) or milliseconds.
 * A missing or null `value` counts as 1 (one event). Metric rows are per unit, not per experiment.
 *
 * Per unit: the first exposure (time and variant) to the experiment; units exposed to more than
 * one variant are excluded and counted. A proportion metric is 1 if any observation at or after
 * the first exposure has value > 0; a mean metric is the sum of the values at or after it (0 when
 * none). With CUPED, the covariate is the same metric's sum in [first − window, first).
 *
 * Memory — the trade-off. Logs are not sorted, so the first exposure time is only final at the
 * end. Per unit we keep O(1) numbers per metric:
 *   - proportion: the latest timestamp of a positive observation (1 iff it is ≥ first exposure);
 *   - mean: the sum of observations at or after the EARLIEST exposure seen so far, E. When an
 *     earlier exposure arrives, E moves back and the pending observations in between are added.
 * Only observations older than their unit's earliest exposure seen so far are kept, as 20-byte
 * entries (ts, value, next) in a typed-array pool: pre-exposure activity (which CUPED needs
 * anyway), and rows that precede their unit's exposure line in the input. For logs in rough time
 * order that is a small fraction; the worst case (a metrics file read before the exposures file,
 * or many metric rows of units outside the experiment) keeps those rows — list the exposures file
 * first. The alternative, two passes (exposures, then metrics), would bound memory by units alone
 * but read everything twice and cannot re-read stdin.
 *
 * Per unit: one record of a few doubles (first exposure, variant, one accumulator per metric, one
 * pending-list head per mean metric) and the unit id's bytes in an open-addressing table (about
 * 50 bytes per unit in all, plus the id). Nothing is allocated per row: fields are byte offsets
 * into the read buffer, the unit id is hashed while it is scanned.
 *
 * Speed: JSON lines are read by a hand-written byte scanner for flat objects (strings without
 * escapes, numbers, true/false/null; known keys, type names and ISO timestamps recognised in
 * place); anything else (escapes, nesting, odd spacing in values) falls back to JSON.parse.
 * Numbers with at most 15 digits are computed exactly as JSON.parse does.
 */

export interface EventMetricSpec {
  name: string;
  type: MetricType;
}

export interface ReadEventsOptions {
  experiment: string;
  metrics: EventMetricSpec[];
  /** Collect the CUPED covariate of mean metrics over this many milliseconds before exposure. */
  cupedWindowMs?: number;
  /** Any unparseable line is an error naming file:line. */
  strict?: boolean;
  /** How many bad lines to remember for the report (default 5). */
  badLineSamples?: number;
  /** Also return the per-day cohorts (units by first-exposure day) for the report. */
  daily?: boolean;
}

export interface BadLine {
  file: string;
  line: number;
  reason: string;
}

export interface EventsResult extends ExperimentData {
  experiment: string;
  /** Non-empty lines read, over all files. */
  rows: number;
  bad_line_samples: BadLine[];
  /** Units that had metric rows but no exposure to this experiment (ignored). */
  unexposed_units: number;
  /** Exposure rows of other experiments (ignored). */
  other_experiment_rows: number;
  /** The most observations held at once because they preceded their unit's exposure. */
  peak_pending_observations: number;
  /** With `daily`: the units and metric sums by first-exposure day. */
  daily?: DailyCohorts;
}

/** A named input: a path, or `-` for standard input. */
export interface EventSource {
  name: string;
  chunks(): AsyncIterable<Buffer>;
}

const FORMAT_UNKNOWN = 0;
const FORMAT_JSON = 1;
const FORMAT_CSV = 2;

const TYPE_NONE = 0;
const TYPE_EXPOSURE = 1;
const TYPE_METRIC = 2;
const TYPE_OTHER = 3;

const VARIANT_NONE = -1;
const VARIANT_MULTI = -2;

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

const EXPOSURE = Buffer.from('exposure');
const METRIC = Buffer.from('metric');

/** The columns of a row, as [start, end) byte offsets into the current buffer (-1 = absent). */
class Fields {
  typeA = -1;
  typeB = -1;
  expA = -1;
  expB = -1;
  unitA = -1;
  unitB = -1;
  /** FNV-1a hash of the unit bytes (computed while scanning them). */
  unitHash = 0;
  variantA = -1;
  variantB = -1;
  metricA = -1;
  metricB = -1;
  ts = NaN;
  tsPresent = false;
  value = 1;
  valueBad = false;
  /** Set by the JSON scanner when it recognised the type name or a requested metric in place. */
  typeCode = TYPE_NONE;
  metricIndex = -1;
  reset(): void {
    this.typeCode = TYPE_NONE;
    this.metricIndex = -1;
    this.typeA = this.typeB = this.expA = this.expB = this.unitA = this.unitB = -1;
    this.variantA = this.variantB = this.metricA = this.metricB = -1;
    this.unitHash = 0;
    this.ts = NaN;
    this.tsPresent = false;
    this.value = 1;
    this.valueBad = false;
  }
}

function bytesEqual(x: Uint8Array, xa: number, y: Uint8Array, ya: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (x[xa + i] !== y[ya + i]) return false;
  return true;
}

function fnv1a(buf: Uint8Array, a: number, b: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = a; i < b; i++) h = Math.imul(h ^ buf[i]!, 16777619);
  return h;
}

/**
 * Unit ids interned into dense integers without creating a string per row: an open-addressing
 * table over the ids' UTF-8 bytes (kept once, in an arena). About 30 bytes per unit.
 */
class UnitTable {
  size = 0;
  private arena = new Uint8Array(1 << 16);
  private arenaTop = 0;
  /** Per unit, in insertion order: [hash, offset in arena, length]. */
  private meta = new Int32Array(3 * 1024);
  /**
   * Open addressing: unit + 1 per slot (0 = empty). Only 4 bytes a slot, so the part of the table
   * a row touches at random stays small (8 MB for a million units) and mostly in cache; the
   * hash and key bytes it then checks are in insertion order, near the other recent units.
   */
  private slots = new Int32Array(2048);
  private mask = 2047;

  /**
   * A small direct-mapped cache of recently seen units (256 KB, stays in L2): logs come in rough
   * time order, so the units of the next rows are mostly the recent ones, and the big table (and
   * its TLB misses, costly in a VM) is skipped.
   */
  private readonly recent = new Int32Array(1 << 16);

  /** The id of buf[a, b) whose FNV-1a hash is h, adding it when new. */
  intern(buf: Uint8Array, a: number, b: number, h: number): number {
    const l = b - a;
    const meta = this.meta;
    const ri = h & 0xffff;
    const r = this.recent[ri]!;
    if (r !== 0) {
      const m = 3 * (r - 1);
      if (meta[m] === h && meta[m + 2] === l) {
        const arena = this.arena;
        const off = meta[m + 1]!;
        let i = 0;
        while (i < l && arena[off + i] === buf[a + i]) i++;
        if (i === l) return r - 1;
      }
    }
    const u = this.lookup(buf, a, b, h);
    this.recent[ri] = u + 1;
    return u;
  }

  private lookup(buf: Uint8Array, a: number, b: number, h: number): number {
    const l = b - a;
    const slots = this.slots;
    const meta = this.meta;
    let slot = h & this.mask;
    for (;;) {
      const s = slots[slot]!;
      if (s === 0) break;
      const m = 3 * (s - 1);
      if (meta[m] === h && meta[m + 2] === l) {
        const arena = this.arena;
        const off = meta[m + 1]!;
        let i = 0;
        while (i < l && arena[off + i] === buf[a + i]) i++;
        if (i === l) return s - 1;
      }
      slot = (slot + 1) & this.mask;
    }
    const u = this.size++;
    if (3 * u + 3 > this.meta.length) this.meta = growInt32(this.meta, this.meta.length * 2);
    if (this.arenaTop + l > this.arena.length) {
      const next = new Uint8Array(Math.max(this.arena.length * 2, this.arenaTop + l));
      next.set(this.arena.subarray(0, this.arenaTop));
      this.arena = next;
    }
    this.arena.set(buf.subarray(a, b), this.arenaTop);
    this.meta[3 * u] = h;
    this.meta[3 * u + 1] = this.arenaTop;
    this.meta[3 * u + 2] = l;
    this.arenaTop += l;
    slots[slot] = u + 1;
    if (this.size * 2 > this.mask + 1) this.rehash();
    return u;
  }

  private rehash(): void {
    const n = (this.mask + 1) * 2;
    const slots = new Int32Array(n);
    const mask = n - 1;
    for (let u = 0; u < this.size; u++) {
      let slot = this.meta[3 * u]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = u + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

function growInt32(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/**
 * Accumulates events into per-unit state. Feed it bytes with `push` (whole lines; `readEvents`
 * splits chunks at newlines), then call `finish`. Exposed for tests.
 */
export class EventsAccumulator {
  private readonly experiment: Buffer;
  private readonly experimentName: string;
  private readonly metricNames: string[];
  private readonly metricBytes: Buffer[];
  private readonly metricIsMean: boolean[];
  private readonly cupedWindowMs: number;
  private readonly strict: boolean;
  private readonly daily: boolean;
  private readonly maxSamples: number;

  private readonly units = new UnitTable();
  private cap = 0;
  /**
   * Per-unit state, one record of `stride` doubles per unit so a row touches one or two cache
   * lines: [first exposure ts, variant, per metric: accumulator, per mean metric: pending head].
   * The accumulator of a proportion metric is the latest positive observation's ts; of a mean
   * metric the sum of observations at/after the earliest exposure seen so far.
   */
  private state = new Float64Array(0);
  private readonly stride: number;
  /** Per metric: offset of its pending-list head in the record (-1 for proportions). */
  private readonly pendSlot: number[];
  private readonly initial: Float64Array;
  private pendTs = new Float64Array(1024);
  private pendVal = new Float64Array(1024);
  private pendNext = new Int32Array(1024);
  private pendFree = -1;
  private pendTop = 0;
  private pendLive = 0;
  private pendPeak = 0;

  readonly variantNames: string[] = [];
  private readonly variantBytes: Buffer[] = [];
  private readonly metricRows: number[];
  private readonly otherMetricNames = new Set<string>();
  private readonly otherExperiments = new Set<string>();
  private otherExperimentRows = 0;

  rows = 0;
  badLines = 0;
  readonly badSamples: BadLine[] = [];

  // Per-file parsing state.
  private format = FORMAT_UNKNOWN;
  private file = '';
  private lineNo = 0;
  private csvCols = new Int32Array(7);
  private csvWidth = 0;
  private readonly f = new Fields();

  constructor(opts: ReadEventsOptions) {
    this.experimentName = opts.experiment;
    this.experiment = Buffer.from(opts.experiment);
    this.metricNames = opts.metrics.map((m) => m.name);
    this.metricBytes = opts.metrics.map((m) => Buffer.from(m.name));
    this.metricIsMean = opts.metrics.map((m) => m.type === 'mean');
    this.cupedWindowMs = opts.cupedWindowMs ?? 0;
    this.strict = opts.strict === true;
    this.daily = opts.daily === true;
    this.maxSamples = opts.badLineSamples ?? 5;
    const M = opts.metrics.length;
    let next = 2 + M;
    this.pendSlot = this.metricIsMean.map((mean) => (mean ? next++ : -1));
    this.stride = next;
    this.initial = new Float64Array(this.stride);
    this.initial[0] = Infinity;
    this.initial[1] = VARIANT_NONE;
    this.metricIsMean.forEach((mean, k) => {
      this.initial[2 + k] = mean ? 0 : -Infinity;
      if (mean) this.initial[this.pendSlot[k]!] = -1;
    });
    this.metricRows = opts.metrics.map(() => 0);
    this.grow(1024);
  }

  /** Starts a new input: line numbers restart and the format is detected from its first line. */
  beginFile(name: string): void {
    this.file = name;
    this.lineNo = 0;
    this.format = FORMAT_UNKNOWN;
  }

  /** Convenience for tests: whole lines as text. */
  pushText(text: string): void {
    const b = Buffer.from(text);
    this.push(b, 0, b.length);
  }

  /** Processes the complete lines in buf[a, end) (the last one may lack its newline). */
  push(buf: Uint8Array, a: number, end: number): void {
    const f = this.f;
    let pos = a;
    while (pos < end) {
      this.lineNo++;
      let c = buf[pos]!;
      if (this.lineNo === 1 && c === 0xef && buf[pos + 1] === 0xbb && buf[pos + 2] === 0xbf) {
        pos += 3; // UTF-8 byte-order mark
        c = buf[pos]!;
      }
      if (c === 123 /* { */ && this.format === FORMAT_JSON) {
        this.rows++;
        f.reset();
        let r = scanFlatJson(buf, pos, end, f, this.metricBytes);
        if (r > 0) {
          while (r < end && ((c = buf[r]!) === 32 || c === 9 || c === 13)) r++;
          if (r === end || c === 10) {
            this.dispatch(buf);
            pos = r + 1;
            continue;
          }
        }
        this.rows--; // counted again below
      } else if (this.format === FORMAT_CSV && c !== 10 && c !== 13) {
        const r = this.csvFast(buf, pos, end);
        if (r > 0) {
          pos = r;
          continue;
        }
      }
      let nl = pos;
      while (nl < end && buf[nl] !== 10) nl++;
      let b = nl;
      while (b > pos && ((c = buf[b - 1]!) === 13 || c === 32 || c === 9)) b--;
      let s = pos;
      while (s < b && ((c = buf[s]!) === 32 || c === 9)) s++;
      if (s < b) this.slowLine(buf, s, b);
      pos = nl + 1;
    }
  }

  /** Lines the fast paths did not take: format detection, CSV header, quoted CSV, JSON.parse. */
  private slowLine(buf: Uint8Array, a: number, b: number): void {
    const text = Buffer.from(buf.buffer, buf.byteOffset + a, b - a).toString('utf8');
    if (this.format === FORMAT_UNKNOWN) {
      if (buf[a] === 123) this.format = FORMAT_JSON;
      else {
        this.format = FORMAT_CSV;
        this.csvHeader(text);
        return;
      }
    }
    this.rows++;
    if (this.format === FORMAT_JSON) this.slowJson(text);
    else {
      const cells = splitCsvLine(text);
      if (cells === null) return this.bad('unbalanced quotes');
      this.csvCells(cells);
    }
  }

  private bad(reason: string): void {
    if (this.strict) {
      throw new InputError(`${this.file}:${this.lineNo}: ${reason}`, {
        hint: 'fix or drop the line, or leave out --strict to skip unparseable lines',
      });
    }
    this.badLines++;
    if (this.badSamples.length < this.maxSamples) this.badSamples.push({ file: this.file, line: this.lineNo, reason });
  }

  /** Acts on the fields of the current line (offsets into buf). */
  private dispatch(buf: Uint8Array): void {
    const f = this.f;
    let type = f.typeCode;
    if (type === TYPE_NONE && f.typeA >= 0) {
      const tl = f.typeB - f.typeA;
      if (tl === 8 && bytesEqual(buf, f.typeA, EXPOSURE, 0, 8)) type = TYPE_EXPOSURE;
      else if (tl === 6 && bytesEqual(buf, f.typeA, METRIC, 0, 6)) type = TYPE_METRIC;
      else type = TYPE_OTHER;
    }
    if (type === TYPE_NONE) {
      if (f.variantA >= 0) type = TYPE_EXPOSURE;
      else if (f.metricA >= 0) type = TYPE_METRIC;
    }
    if (type === TYPE_OTHER)
      return this.bad(`unknown type "${text(buf, f.typeA, f.typeB)}" (expected exposure or metric)`);
    if (type === TYPE_NONE) return this.bad('no type, variant or metric field');
    if (f.unitA < 0 || f.unitB === f.unitA) return this.bad('missing unit');
    if (!f.tsPresent) return this.bad('missing ts');
    if (Number.isNaN(f.ts)) return this.bad('unparseable ts');
    if (type === TYPE_EXPOSURE) {
      if (f.expA < 0) return this.bad('exposure without experiment');
      if (f.variantA < 0 || f.variantB === f.variantA) return this.bad('exposure without variant');
      const exp = this.experiment;
      if (f.expB - f.expA !== exp.length || !bytesEqual(buf, f.expA, exp, 0, exp.length)) {
        this.otherExperimentRows++;
        if (this.otherExperiments.size < 20) this.otherExperiments.add(text(buf, f.expA, f.expB));
        return;
      }
      const vl = f.variantB - f.variantA;
      const names = this.variantBytes;
      let v = -1;
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        if (name.length === vl && bytesEqual(buf, f.variantA, name, 0, vl)) {
          v = i;
          break;
        }
      }
      if (v < 0) v = this.addVariant(buf, f.variantA, f.variantB);
      this.exposure(this.intern(buf), v, f.ts);
    } else {
      if (f.metricA < 0) return this.bad('metric row without metric');
      if (f.valueBad) return this.bad('value is not a number');
      const ml = f.metricB - f.metricA;
      const names = this.metricBytes;
      let k = f.metricIndex;
      for (let i = 0; k < 0 && i < names.length; i++) {
        const name = names[i]!;
        if (name.length === ml && bytesEqual(buf, f.metricA, name, 0, ml)) {
          k = i;
          break;
        }
      }
      if (k < 0) {
        if (this.otherMetricNames.size < 20) this.otherMetricNames.add(text(buf, f.metricA, f.metricB));
        return;
      }
      this.observation(this.intern(buf), k, f.ts, f.value);
    }
  }

  private intern(buf: Uint8Array): number {
    const f = this.f;
    const u = this.units.intern(buf, f.unitA, f.unitB, f.unitHash);
    if (u >= this.cap) this.grow(this.cap * 2);
    return u;
  }

  /** The JSON.parse path: lines the scanner does not handle (escapes, nesting) or rejects. */
  private slowJson(line: string): void {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      return this.bad('not valid JSON');
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return this.bad('not a JSON object');
    const o = obj as Record<string, unknown>;
    const vals: (string | undefined)[] = [];
    for (const k of ['type', 'experiment', 'unit', 'variant', 'metric']) {
      const v = o[k];
      if (v === undefined || v === null) vals.push(undefined);
      else if (typeof v === 'string') vals.push(v);
      else if (typeof v === 'number' || typeof v === 'boolean') vals.push(String(v));
      else return this.bad(`${k} is not a string`);
    }
    let ts = NaN;
    let tsPresent = false;
    const rawTs = o.ts;
    if (typeof rawTs === 'number') {
      tsPresent = true;
      ts = epochToMs(rawTs);
    } else if (typeof rawTs === 'string') {
      tsPresent = true;
      ts = parseTimestamp(rawTs);
    }
    let value = 1;
    let valueBad = false;
    const rawValue = o.value;
    if (typeof rawValue === 'number') {
      value = rawValue;
      if (!Number.isFinite(value)) valueBad = true; // 1e400
    } else if (typeof rawValue === 'boolean') value = rawValue ? 1 : 0;
    else if (typeof rawValue === 'string') {
      value = parseNumber(rawValue);
      if (!Number.isFinite(value)) valueBad = true;
    } else if (rawValue !== undefined && rawValue !== null) valueBad = true;
    this.dispatchStrings(vals, tsPresent, ts, value, valueBad);
  }

  /** The same decisions as `dispatch`, on strings (slow paths): builds a synthetic buffer. */
  private dispatchStrings(
    vals: (string | undefined)[],
    tsPresent: boolean,
    ts: number,
    value: number,
    valueBad: boolean,
  ): void {
    const parts = vals.map((v) => Buffer.from(v ?? ''));
    const buf = Buffer.concat(parts);
    const f = this.f;
    f.reset();
    let pos = 0;
    const at = vals.map((v, i): [number, number] => {
      const a = pos;
      pos += parts[i]!.length;
      return v === undefined ? [-1, -1] : [a, pos];
    });
    [f.typeA, f.typeB] = at[0]!;
    [f.expA, f.expB] = at[1]!;
    [f.unitA, f.unitB] = at[2]!;
    [f.variantA, f.variantB] = at[3]!;
    [f.metricA, f.metricB] = at[4]!;
    if (f.unitA >= 0) f.unitHash = fnv1a(buf, f.unitA, f.unitB);
    f.tsPresent = tsPresent;
    f.ts = ts;
    f.value = value;
    f.valueBad = valueBad;
    this.dispatch(buf);
  }

  private csvHeader(header: string): void {
    const names = splitCsvLine(header);
    const wanted = ['type', 'experiment', 'unit', 'variant', 'metric', 'value', 'ts'];
    this.csvCols = new Int32Array(wanted.length).fill(-1);
    (names ?? []).forEach((n, i) => {
      const j = wanted.indexOf(n.trim().toLowerCase());
      if (j >= 0) this.csvCols[j] = i;
    });
    this.csvWidth = names?.length ?? 0;
    if (this.csvCols[2]! < 0 || this.csvCols[6]! < 0 || (this.csvCols[3]! < 0 && this.csvCols[4]! < 0)) {
      throw new InputError(
        `${this.file}: not JSON Lines, and line ${this.lineNo} is not a CSV header with unit, ts and variant or metric columns`,
        {
          hint: 'JSON Lines rows start with "{"; CSV columns: type,experiment,unit,variant,metric,value,ts (any order, type optional)',
        },
      );
    }
  }

  /**
   * One unquoted CSV line starting at a: returns the offset after its newline, or -1 when the
   * line holds a quote (the full parser takes it).
   */
  private csvFast(buf: Uint8Array, a: number, end: number): number {
    const f = this.f;
    f.reset();
    const cols = this.csvCols;
    const unitCol = cols[2]!;
    let col = 0;
    let start = a;
    let h = 0x811c9dc5 | 0;
    let i = a;
    let c = 0;
    for (; i <= end; i++) {
      c = i === end ? 10 : buf[i]!;
      if (c === 44 || c === 10) {
        let e = i;
        if (c === 10 && e > start && buf[e - 1] === 13) e--;
        if (e > start) {
          if (col === unitCol) f.unitHash = h;
          this.csvField(buf, col, start, e, cols, f);
        }
        col++;
        start = i + 1;
        h = 0x811c9dc5 | 0;
        if (c === 10) break;
      } else if (c === 34) return -1;
      else h = Math.imul(h ^ c, 16777619);
    }
    this.rows++;
    if (col !== this.csvWidth) this.bad(`expected ${this.csvWidth} CSV fields, got ${col}`);
    else this.dispatch(buf);
    return i + 1;
  }

  private csvField(buf: Uint8Array, col: number, a: number, b: number, cols: Int32Array, f: Fields): void {
    if (col === cols[0]) {
      f.typeA = a;
      f.typeB = b;
    } else if (col === cols[1]) {
      f.expA = a;
      f.expB = b;
    } else if (col === cols[2]) {
      f.unitA = a;
      f.unitB = b;
    } else if (col === cols[3]) {
      f.variantA = a;
      f.variantB = b;
    } else if (col === cols[4]) {
      f.metricA = a;
      f.metricB = b;
    } else if (col === cols[5]) {
      const v = parseNumberBytes(buf, a, b);
      if (Number.isFinite(v)) f.value = v;
      else f.valueBad = true;
    } else if (col === cols[6]) {
      f.tsPresent = true;
      f.ts = parseTimestampBytes(buf, a, b);
    }
  }

  private csvCells(cells: string[]): void {
    if (cells.length !== this.csvWidth) return this.bad(`expected ${this.csvWidth} CSV fields, got ${cells.length}`);
    const cols = this.csvCols;
    const get = (j: number): string | undefined => {
      const i = cols[j]!;
      const c = i >= 0 ? cells[i] : undefined;
      return c === undefined || c === '' ? undefined : c;
    };
    const tsText = get(6);
    const valueText = get(5);
    const value = valueText === undefined ? 1 : parseNumber(valueText);
    this.dispatchStrings(
      [get(0), get(1), get(2), get(3), get(4)],
      tsText !== undefined,
      tsText === undefined ? NaN : parseTimestamp(tsText),
      Number.isFinite(value) ? value : 1,
      !Number.isFinite(value),
    );
  }

  private addVariant(buf: Uint8Array, a: number, b: number): number {
    if (this.variantNames.length >= 1000) {
      throw new InputError(`experiment ${this.experimentName} has more than 1000 variants`);
    }
    const bytes = Buffer.from(buf.subarray(a, b));
    this.variantBytes.push(bytes);
    this.variantNames.push(bytes.toString('utf8'));
    return this.variantNames.length - 1;
  }

  private grow(cap: number): void {
    const S = this.stride;
    const state = new Float64Array(cap * S);
    state.set(this.state);
    for (let u = this.cap; u < cap; u++) state.set(this.initial, u * S);
    this.state = state;
    this.cap = cap;
  }

  private exposure(u: number, v: number, ts: number): void {
    const st = this.state;
    const at = u * this.stride;
    const cur = st[at + 1]!;
    if (cur === VARIANT_NONE) st[at + 1] = v;
    else if (cur !== v && cur !== VARIANT_MULTI) st[at + 1] = VARIANT_MULTI;
    if (ts < st[at]!) {
      st[at] = ts;
      // Observations held because they preceded every exposure seen so far: those at or after
      // this earlier exposure now count.
      for (let k = 0; k < this.metricIsMean.length; k++) {
        const slot = this.pendSlot[k]!;
        if (slot < 0) continue;
        let p = st[at + slot]!;
        if (p < 0) continue;
        let keep = -1;
        let add = 0;
        while (p >= 0) {
          const next = this.pendNext[p]!;
          if (this.pendTs[p]! >= ts) {
            add += this.pendVal[p]!;
            this.pendNext[p] = this.pendFree;
            this.pendFree = p;
            this.pendLive--;
          } else {
            this.pendNext[p] = keep;
            keep = p;
          }
          p = next;
        }
        st[at + slot] = keep;
        st[at + 2 + k]! += add;
      }
    }
  }

  private observation(u: number, k: number, ts: number, value: number): void {
    this.metricRows[k]!++;
    const st = this.state;
    const at = u * this.stride;
    const slot = this.pendSlot[k]!;
    if (slot < 0) {
      if (value > 0 && ts > st[at + 2 + k]!) st[at + 2 + k] = ts;
      return;
    }
    if (ts >= st[at]!) {
      st[at + 2 + k]! += value;
      return;
    }
    let p = this.pendFree;
    if (p >= 0) this.pendFree = this.pendNext[p]!;
    else {
      p = this.pendTop++;
      if (p >= this.pendTs.length) this.growPending();
    }
    this.pendTs[p] = ts;
    this.pendVal[p] = value;
    this.pendNext[p] = st[at + slot]!;
    st[at + slot] = p;
    if (++this.pendLive > this.pendPeak) this.pendPeak = this.pendLive;
  }

  private growPending(): void {
    const cap = this.pendTs.length * 2;
    const ts = new Float64Array(cap);
    ts.set(this.pendTs);
    this.pendTs = ts;
    const val = new Float64Array(cap);
    val.set(this.pendVal);
    this.pendVal = val;
    this.pendNext = growInt32(this.pendNext, cap);
  }

  /** Reduces the per-unit state to per-variant sufficient statistics. */
  finish(sources: string[]): EventsResult {
    const what = sources.join(', ');
    if (this.variantNames.length === 0) {
      const others = [...this.otherExperiments];
      throw new InputError(
        this.rows === 0
          ? `--events ${what}: no rows`
          : `--events ${what}: no exposures for experiment "${this.experimentName}"`,
        others.length > 0 ? { hint: `experiments seen: ${others.slice(0, 10).join(', ')}` } : {},
      );
    }
    this.metricNames.forEach((name, k) => {
      if (this.metricRows[k] === 0) {
        const seen = [...this.otherMetricNames];
        throw new InputError(`--metric ${name}: no observations of metric "${name}" in ${what}`, {
          hint: seen.length > 0 ? `metrics seen: ${seen.slice(0, 10).join(', ')}` : 'the input has no metric rows',
        });
      }
    });
    const V = this.variantNames.length;
    const M = this.metricNames.length;
    const n = new Float64Array(V);
    const sum = new Float64Array(V * M);
    const sumSq = new Float64Array(V * M);
    const preSum = new Float64Array(V * M);
    const preSumSq = new Float64Array(V * M);
    const cross = new Float64Array(V * M);
    const cuped = this.cupedWindowMs > 0;
    let multi = 0;
    let unexposed = 0;
    const st = this.state;
    const S = this.stride;
    const daily = this.daily ? new DailyCohortsBuilder(V, M) : undefined;
    for (let u = 0; u < this.units.size; u++) {
      const at = u * S;
      const v = st[at + 1]!;
      if (v === VARIANT_NONE) {
        unexposed++;
        continue;
      }
      if (v === VARIANT_MULTI) {
        multi++;
        continue;
      }
      n[v]!++;
      const first = st[at]!;
      daily?.addUnit(first, v);
      for (let k = 0; k < M; k++) {
        const i = v * M + k;
        const acc = st[at + 2 + k]!;
        const y = this.metricIsMean[k] ? acc : acc >= first ? 1 : 0;
        daily?.addValue(k, y);
        sum[i]! += y;
        sumSq[i]! += y * y;
        if (cuped && this.metricIsMean[k]) {
          let x = 0;
          const from = first - this.cupedWindowMs;
          for (let p = st[at + this.pendSlot[k]!]!; p >= 0; p = this.pendNext[p]!) {
            const t = this.pendTs[p]!;
            if (t >= from && t < first) x += this.pendVal[p]!;
          }
          preSum[i]! += x;
          preSumSq[i]! += x * x;
          cross[i]! += x * y;
        }
      }
    }
    const metrics: MetricData[] = this.metricNames.map((name, k) => ({
      name,
      type: this.metricIsMean[k] ? 'mean' : 'proportion',
      arms: this.variantNames.map((variant, v): ArmStats => {
        const i = v * M + k;
        if (!this.metricIsMean[k]) return { variant, n: n[v]!, type: 'proportion', conversions: sum[i]! };
        return {
          variant,
          n: n[v]!,
          type: 'mean',
          sum: sum[i]!,
          sumSq: sumSq[i]!,
          ...(cuped ? { cuped: { preSum: preSum[i]!, preSumSq: preSumSq[i]!, crossSum: cross[i]! } } : {}),
        };
      }),
    }));
    return {
      experiment: this.experimentName,
      variants: this.variantNames.map((variant, v) => ({ variant, n: n[v]! })),
      metrics,
      excluded: { multi_variant_units: multi, bad_lines: this.badLines },
      rows: this.rows,
      bad_line_samples: this.badSamples,
      unexposed_units: unexposed,
      other_experiment_rows: this.otherExperimentRows,
      peak_pending_observations: this.pendPeak,
      ...(daily
        ? {
            daily: daily.build(
              this.variantNames,
              this.metricNames.map((name, k) => ({ name, type: this.metricIsMean[k] ? 'mean' : 'proportion' })),
            ),
          }
        : {}),
    };
  }
}

function text(buf: Uint8Array, a: number, b: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + a, b - a).toString('utf8');
}

/**
 * Scans one flat JSON object starting at buf[a] === '{' into f. Returns the offset after the
 * closing brace when understood, or -1 when the line needs JSON.parse (escapes, nesting, anything
 * unusual — including invalid JSON, which JSON.parse then reports). Never reads past `end`.
 */
function scanFlatJson(buf: Uint8Array, a: number, end: number, f: Fields, metrics: Buffer[]): number {
  let i = a + 1; // past '{'
  let c = 0;
  for (;;) {
    while (i < end && ((c = buf[i]!) === 32 || c === 9)) i++;
    if (i >= end) return -1;
    if (c === 125 /* } */) return i + 1;
    if (c !== 34 /* " */) return -1;
    // key: the known names are recognised in place (no scan); anything else is scanned and skipped
    const ka = i + 1;
    let key = 0;
    let j = -1;
    const k0 = buf[ka];
    if (k0 === 116 /* t */) {
      if (buf[ka + 1] === 115 && buf[ka + 2] === 34) ((key = 7), (j = ka + 2));
      else if (buf[ka + 1] === 121 && buf[ka + 2] === 112 && buf[ka + 3] === 101 && buf[ka + 4] === 34)
        ((key = 1), (j = ka + 4));
    } else if (k0 === 117 /* u */) {
      if (buf[ka + 1] === 110 && buf[ka + 2] === 105 && buf[ka + 3] === 116 && buf[ka + 4] === 34)
        ((key = 3), (j = ka + 4));
    } else if (k0 === 118 /* v */) {
      if (buf[ka + 1] === 97 && buf[ka + 2] === 108 && buf[ka + 3] === 117 && buf[ka + 4] === 101 && buf[ka + 5] === 34)
        ((key = 6), (j = ka + 5));
      else if (buf[ka + 7] === 34 && ka + 7 < end && bytesEqual(buf, ka, VARIANT, 0, 7)) ((key = 4), (j = ka + 7));
    } else if (k0 === 109 /* m */) {
      if (buf[ka + 6] === 34 && ka + 6 < end && bytesEqual(buf, ka, METRIC, 0, 6)) ((key = 5), (j = ka + 6));
    } else if (k0 === 101 /* e */) {
      if (buf[ka + 10] === 34 && ka + 10 < end && bytesEqual(buf, ka, EXPERIMENT, 0, 10)) ((key = 2), (j = ka + 10));
    }
    if (j < 0) {
      j = ka;
      while (j < end && (c = buf[j]!) !== 34) {
        if (c === 92 || c === 10) return -1;
        j++;
      }
      if (j >= end) return -1;
    }
    i = j + 1;
    while (i < end && ((c = buf[i]!) === 32 || c === 9)) i++;
    if (c !== 58 /* : */) return -1;
    i++;
    while (i < end && ((c = buf[i]!) === 32 || c === 9)) i++;
    if (i >= end) return -1;
    // value
    if (c === 34) {
      const va = i + 1;
      j = va;
      // Common values recognised in place, without a scan: the type names and ISO timestamps.
      if (key === 7) {
        const t = isoQuoted(buf, va, end);
        if (isoEnd > 0) {
          f.tsPresent = true;
          f.ts = t;
          i = isoEnd + 1;
          key = -1;
        }
      } else if (key === 1) {
        f.typeCode = TYPE_NONE; // a repeated key: the last one counts, as in JSON.parse
        if (buf[va + 8] === 34 && bytesEqual(buf, va, EXPOSURE, 0, 8)) ((j = va + 8), (f.typeCode = TYPE_EXPOSURE));
        else if (buf[va + 6] === 34 && bytesEqual(buf, va, METRIC, 0, 6)) ((j = va + 6), (f.typeCode = TYPE_METRIC));
      } else if (key === 5) {
        f.metricIndex = -1;
        for (let m = 0; m < metrics.length; m++) {
          const name = metrics[m]!;
          const l = name.length;
          if (buf[va + l] === 34 && va + l < end && bytesEqual(buf, va, name, 0, l)) {
            j = va + l;
            f.metricIndex = m;
            break;
          }
        }
      }
      if (key === -1) {
        // the timestamp was read in place
      } else if (key === 3) {
        let h = 0x811c9dc5 | 0;
        while (j < end && (c = buf[j]!) !== 34) {
          if (c === 92 || c === 10) return -1;
          h = Math.imul(h ^ c, 16777619);
          j++;
        }
        f.unitHash = h;
      } else {
        while (j < end && (c = buf[j]!) !== 34) {
          if (c === 92 || c === 10) return -1;
          j++;
        }
      }
      if (key !== -1) {
        if (j >= end) return -1;
        switch (key) {
          case 1:
            f.typeA = va;
            f.typeB = j;
            break;
          case 2:
            f.expA = va;
            f.expB = j;
            break;
          case 3:
            f.unitA = va;
            f.unitB = j;
            break;
          case 4:
            f.variantA = va;
            f.variantB = j;
            break;
          case 5:
            f.metricA = va;
            f.metricB = j;
            break;
          case 6: {
            const v = parseNumberBytes(buf, va, j);
            if (Number.isFinite(v)) f.value = v;
            else f.valueBad = true;
            break;
          }
          case 7:
            f.tsPresent = true;
            f.ts = parseTimestampBytes(buf, va, j);
            break;
        }
        i = j + 1;
      }
    } else if ((c >= 48 && c <= 57) || c === 45) {
      j = i;
      while (j < end && (c = buf[j]!) !== 44 && c !== 125 && c !== 32 && c !== 9 && c !== 10) j++;
      const v = parseNumberBytes(buf, i, j);
      if (Number.isNaN(v)) return -1;
      if (key === 6) f.value = v;
      else if (key === 7) {
        f.tsPresent = true;
        f.ts = epochToMs(v);
      } else if (key !== 0) return -1; // a number where a string belongs: the slow path stringifies it
      i = j;
    } else if (c === 116 && buf[i + 1] === 114 && buf[i + 2] === 117 && buf[i + 3] === 101) {
      if (key === 6) f.value = 1;
      else if (key !== 0) return -1;
      i += 4;
    } else if (c === 102 && buf[i + 1] === 97 && buf[i + 2] === 108 && buf[i + 3] === 115 && buf[i + 4] === 101) {
      if (key === 6) f.value = 0;
      else if (key !== 0) return -1;
      i += 5;
    } else if (c === 110 && buf[i + 1] === 117 && buf[i + 2] === 108 && buf[i + 3] === 108) {
      i += 4; // null = absent
    } else {
      return -1;
    }
    while (i < end && ((c = buf[i]!) === 32 || c === 9)) i++;
    if (c === 44) {
      i++;
      continue;
    }
    if (c === 125) return i + 1;
    return -1;
  }
}

/** Where isoQuoted found the closing quote, or -1 when it did not recognise the value. */
let isoEnd = -1;

/**
 * The usual timestamp shape `YYYY-MM-DD(T| )HH:MM:SS[.f…][Z|±HH:MM]"` starting at buf[a], read up
 * to its closing quote (stored in isoEnd). Anything else sets isoEnd = -1 and the caller scans
 * the string and uses parseTimestampBytes, which accepts more shapes.
 */
function isoQuoted(buf: Uint8Array, a: number, end: number): number {
  isoEnd = -1;
  if (a + 20 > end || buf[a + 4] !== 45 || buf[a + 7] !== 45 || buf[a + 13] !== 58 || buf[a + 16] !== 58) return NaN;
  const sep = buf[a + 10];
  if (sep !== 84 && sep !== 32) return NaN;
  const y = digits2(buf, a, end) * 100 + digits2(buf, a + 2, end);
  const mo = digits2(buf, a + 5, end);
  const d = digits2(buf, a + 8, end);
  const hh = digits2(buf, a + 11, end);
  const mm = digits2(buf, a + 14, end);
  const ss = digits2(buf, a + 17, end);
  if (!(y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && hh >= 0 && hh <= 23 && mm >= 0 && mm <= 59 && ss >= 0 && ss <= 59))
    return NaN;
  if (d > DAYS_IN_MONTH[mo - 1]! || (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))))
    return NaN;
  let i = a + 19;
  let ms = 0;
  let c = buf[i];
  if (c === 46) {
    i++;
    let scale = 100;
    const start = i;
    while (i < end && (c = buf[i]!) >= 48 && c <= 57) {
      if (scale >= 1) ms += (c - 48) * scale;
      scale /= 10;
      i++;
    }
    if (i === start) return NaN;
    c = buf[i];
  }
  let t = daysFromCivil(y, mo, d) * 86_400_000 + hh * 3_600_000 + mm * 60_000 + ss * 1000 + ms;
  if (c === 90) c = buf[++i];
  else if (c === 43 || c === 45) {
    const oh = digits2(buf, i + 1, end);
    const om = digits2(buf, i + 4, end);
    if (buf[i + 3] !== 58 || oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    t += (c === 43 ? -1 : 1) * (oh * 3_600_000 + om * 60_000);
    i += 6;
    c = buf[i];
  }
  if (c !== 34 || i >= end) return NaN;
  isoEnd = i;
  return t;
}

const VARIANT = Buffer.from('variant');
const EXPERIMENT = Buffer.from('experiment');

/**
 * A decimal number from buf[a, b). Plain decimals with at most 15 digits are computed exactly as
 * JSON.parse would (an integer below 2^53 divided by an exact power of ten is correctly rounded);
 * anything else (exponents, long mantissas) goes to Number(). NaN when not a finite number.
 */
function parseNumberBytes(buf: Uint8Array, a: number, b: number): number {
  let i = a;
  let neg = false;
  let c = buf[i]!;
  if (c === 45) {
    neg = true;
    i++;
  }
  let m = 0;
  let digits = 0;
  let frac = 0;
  let dot = false;
  for (; i < b; i++) {
    c = buf[i]!;
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (dot) frac++;
    } else if (c === 46 && !dot) dot = true;
    else return slowNumber(text(buf, a, b));
  }
  if (digits === 0 || digits > 15) return slowNumber(text(buf, a, b));
  const v = frac === 0 ? m : m / POW10[frac]!;
  return neg ? -v : v;
}

function slowNumber(t: string): number {
  const x = t.trim();
  if (x === '') return NaN;
  const v = Number(x);
  return Number.isFinite(v) ? v : NaN;
}

/** A number written as text ("12.5", "1e3"); NaN when it is not a finite number. */
export function parseNumber(s: string): number {
  const b = Buffer.from(s);
  return b.length === 0 ? NaN : parseNumberBytes(b, 0, b.length);
}

/** A numeric timestamp: epoch seconds when |x| < 1e11 (before year 5138), else milliseconds. */
export function epochToMs(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  return Math.abs(x) < 1e11 ? x * 1000 : x;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function digits2(buf: Uint8Array, i: number, b: number): number {
  if (i + 1 >= b) return -1;
  const x = buf[i]! - 48;
  const y = buf[i + 1]! - 48;
  if (x < 0 || x > 9 || y < 0 || y > 9) return -1;
  return x * 10 + y;
}

/** Epoch milliseconds of a timestamp string; see parseTimestampBytes. */
export function parseTimestamp(s: string): number {
  const b = Buffer.from(s.trim());
  return b.length === 0 ? NaN : parseTimestampBytes(b, 0, b.length);
}

/**
 * Epoch milliseconds of the timestamp in buf[a, b): ISO 8601
 * `YYYY-MM-DD[(T| )HH:MM[:SS[.fff…]]][Z|±HH[:]MM]` (no zone = UTC; digits past milliseconds are
 * truncated) parsed by hand; a plain number is epoch seconds or milliseconds (see epochToMs);
 * anything else goes to Date.parse. NaN when unparseable.
 */
function parseTimestampBytes(buf: Uint8Array, a: number, b: number): number {
  const len = b - a;
  if (len >= 10 && buf[a + 4] === 45 && buf[a + 7] === 45) {
    const hi = digits2(buf, a, b);
    const lo = digits2(buf, a + 2, b);
    const mo = digits2(buf, a + 5, b);
    const d = digits2(buf, a + 8, b);
    if (hi >= 0 && lo >= 0 && mo >= 1 && mo <= 12 && d >= 1) {
      const y = hi * 100 + lo;
      const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
      // A well-formed date that does not exist (2023-02-29) is not handed to Date.parse, which rolls it over.
      if (!(d <= DAYS_IN_MONTH[mo - 1]! && (mo !== 2 || d <= 28 || leap))) return NaN;
      {
        let ms = daysFromCivil(y, mo, d) * 86_400_000;
        if (len === 10) return ms;
        const sep = buf[a + 10];
        if ((sep === 84 || sep === 116 || sep === 32) && len >= 16 && buf[a + 13] === 58) {
          const hh = digits2(buf, a + 11, b);
          const mm = digits2(buf, a + 14, b);
          let i = a + 16;
          let ok = hh >= 0 && hh <= 23 && mm >= 0 && mm <= 59;
          let sec = 0;
          let frac = 0;
          if (ok && i < b && buf[i] === 58) {
            sec = digits2(buf, i + 1, b);
            ok = sec >= 0 && sec <= 59;
            i += 3;
            if (ok && i < b && buf[i] === 46) {
              i++;
              const start = i;
              let scale = 100;
              let c = 0;
              while (i < b && (c = buf[i]!) >= 48 && c <= 57) {
                if (scale >= 1) frac += (c - 48) * scale;
                scale /= 10;
                i++;
              }
              if (i === start) ok = false;
            }
          }
          if (ok) {
            ms += hh * 3_600_000 + mm * 60_000 + sec * 1000 + frac;
            if (i === b) return ms;
            const z = buf[i];
            if ((z === 90 || z === 122) && i + 1 === b) return ms;
            if (z === 43 || z === 45) {
              const oh = digits2(buf, i + 1, b);
              const colon = buf[i + 3] === 58 ? 1 : 0;
              const om = digits2(buf, i + 3 + colon, b);
              if (oh >= 0 && oh <= 23 && om >= 0 && om <= 59 && i + 5 + colon === b) {
                const off = oh * 3_600_000 + om * 60_000;
                return z === 43 ? ms - off : ms + off;
              }
            }
          }
        }
      }
    }
  }
  const c0 = buf[a]!;
  if ((c0 >= 48 && c0 <= 57) || c0 === 45) {
    const v = parseNumberBytes(buf, a, b);
    if (!Number.isNaN(v)) return epochToMs(v);
  }
  const t = Date.parse(text(buf, a, b));
  return Number.isNaN(t) ? NaN : t;
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). Null when quotes are unbalanced. */
export function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (i < n && line.charCodeAt(i) === 34) {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) return null;
        v += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 34) {
          v += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
      if (i === n) return out;
      if (line.charCodeAt(i) !== 44) return null;
      i++;
    } else {
      const c = line.indexOf(',', i);
      if (c === -1) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
}

/** A file path, or `-` for the given stdin. Gzip is detected by its magic bytes, not the name. */
export function eventSource(name: string, stdin: NodeJS.ReadableStream): EventSource {
  return {
    name: name === '-' ? '<stdin>' : name,
    chunks: () => decompressed(name, name === '-' ? stdin : createReadStream(name, { highWaterMark: 1 << 20 })),
  };
}

async function* decompressed(name: string, raw: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  const it = (raw as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  try {
    while (headLen < 2) {
      const r = await it.next();
      if (r.done) break;
      const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      head.push(b);
      headLen += b.length;
    }
  } catch (err) {
    throw readError(name, err);
  }
  const first = Buffer.concat(head);
  if (first.length === 0) return;
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  };
  const gzip = first[0] === 0x1f && first[1] === 0x8b;
  if (!gzip) {
    try {
      yield* rest();
    } catch (err) {
      throw readError(name, err);
    }
    return;
  }
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const feeder = Readable.from(rest());
  feeder.on('error', (err) => gunzip.destroy(err));
  feeder.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    throw readError(name, err);
  }
}

function readError(name: string, err: unknown): InputError {
  const e = err as NodeJS.ErrnoException;
  const display = name === '-' ? '<stdin>' : name;
  if (e.code === 'ENOENT') return new InputError(`--events ${display}: no such file`);
  if (e.code === 'EISDIR') return new InputError(`--events ${display}: is a directory`);
  if (e.code === 'EACCES') return new InputError(`--events ${display}: permission denied`);
  if (
    e.code === 'Z_DATA_ERROR' ||
    e.code === 'Z_BUF_ERROR' ||
    /unexpected end of file|incorrect header/i.test(e.message ?? '')
  ) {
    return new InputError(`--events ${display}: corrupt gzip data (${e.message})`);
  }
  return new InputError(`--events ${display}: ${e.message ?? String(err)}`, { cause: err });
}

/**
 * Reads every source in turn (line numbers per source) and returns per-variant sufficient
 * statistics. Lines are split at newline bytes, so UTF-8 sequences are never cut.
 */
export async function readEvents(
  sources: EventSource[],
  opts: ReadEventsOptions,
  onProgress?: (rows: number) => void,
): Promise<EventsResult> {
  const acc = new EventsAccumulator(opts);
  for (const src of sources) {
    acc.beginFile(src.name);
    let carry: Buffer | undefined;
    let lastReport = 0;
    for await (const chunk of src.chunks()) {
      const nl = chunk.lastIndexOf(10);
      if (nl === -1) {
        carry = carry ? Buffer.concat([carry, chunk]) : chunk;
        continue;
      }
      let from = 0;
      if (carry) {
        // Complete the carried partial line first; the rest of the chunk is read in place.
        const first = chunk.indexOf(10);
        const joined = Buffer.concat([carry, chunk.subarray(0, first + 1)]);
        acc.push(joined, 0, joined.length);
        from = first + 1;
      }
      if (from < nl + 1) acc.push(chunk, from, nl + 1);
      carry = nl + 1 < chunk.length ? Buffer.from(chunk.subarray(nl + 1)) : undefined;
      if (onProgress && acc.rows - lastReport >= 1_000_000) {
        lastReport = acc.rows;
        onProgress(acc.rows);
      }
    }
    if (carry && carry.length > 0) acc.push(carry, 0, carry.length);
  }
  return acc.finish(sources.map((s) => s.name));
}
