import { DailyCohortsBuilder, type DailyCohortsData } from '../../core/experiment/cohorts.js';
import type { ArmStats, MetricData } from '../../core/experiment/types.js';
import { InputError } from '../../errors.js';
import { bytesEqual, fnv1a, growInt32, text } from './bytes.js';
import { csvLayout, scanCsvLine, splitCsvLine } from './csv.js';
import { EXPOSURE, Fields, METRIC, TYPE_EXPOSURE, TYPE_METRIC, TYPE_NONE, TYPE_OTHER } from './fields.js';
import { scanFlatJson } from './json.js';
import { epochToMs, parseNumber, parseTimestamp } from './numbers.js';
import type { BadLine, EventsResult, ReadEventsOptions } from './types.js';
import { UnitTable } from './units.js';

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

const FORMAT_UNKNOWN = 0;
const FORMAT_JSON = 1;
const FORMAT_CSV = 2;

/** Table sizing from the input's size (see the constructor): bytes per unit, at most this many units. */
const BYTES_PER_UNIT = 1024;
const MAX_PRESIZED_UNITS = 1 << 18;

const VARIANT_NONE = -1;
const VARIANT_MULTI = -2;
/** A unit already added to its part's totals (foldLocal): nothing more to do with it. */
const VARIANT_FOLDED = -3;

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

  private readonly units: UnitTable;
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
  private pendTs: Float64Array;
  private pendVal: Float64Array;
  private pendNext: Int32Array;
  private pendFree = -1;
  private pendTop = 0;
  private pendLive = 0;
  private pendPeak = 0;

  readonly variantNames: string[] = [];
  private readonly variantBytes: Buffer[] = [];
  private readonly metricRows: number[];
  /** The first 20 names of other metrics and experiments seen (for hints), and where: [segment, line]. */
  private readonly otherMetricNames = new Map<string, [number, number]>();
  private readonly otherExperiments = new Map<string, [number, number]>();
  private otherExperimentRows = 0;

  rows = 0;
  badLines = 0;
  readonly badSamples: BadLine[] = [];

  // Per-file parsing state.
  private format = FORMAT_UNKNOWN;
  private file = '';
  private lineNo = 0;
  /** False for a piece of a file that starts after its first line (no byte-order mark there). */
  private atFileStart = true;

  // Where in the input the lines are, for merging the states of readers that ran in parallel
  // (parallel.ts): the current segment, and per variant and bad sample the segment it was seen in.
  private segmented = false;
  /**
   * Per-variant totals of the units already final: those foldLocal() found in no other part
   * (numbered by this part's variants until absorb renumbers them), and after absorb() also the
   * parts' own totals.
   */
  private totals: Totals | undefined;
  private segment = 0;
  private segmentSamples = 0;
  private readonly badSegments: number[] = [];
  /** Per variant: the segment and line of its first exposure, flattened. */
  private readonly variantFirst: number[] = [];
  /** Lines per segment read, flattened [segment, lines, …]. */
  private readonly segmentLines: number[] = [];
  private csvCols = new Int32Array(7);
  private csvWidth = 0;
  private readonly f = new Fields();

  /**
   * `expectedBytes`: how much input this accumulator will probably read, to size its tables for
   * the units that input holds (about one per KB of a typical log) so they do not grow while the
   * rows stream in: each first growth after the JIT compiled the row loop sends it back to the
   * interpreter and recompiles it, tens of milliseconds at the start of a read.
   */
  constructor(opts: ReadEventsOptions, expectedBytes = 0) {
    let capacity = 1024;
    while (capacity < MAX_PRESIZED_UNITS && capacity * BYTES_PER_UNIT < expectedBytes) capacity *= 2;
    this.units = new UnitTable(capacity);
    this.pendTs = new Float64Array(capacity);
    this.pendVal = new Float64Array(capacity);
    this.pendNext = new Int32Array(capacity);
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
    this.grow(capacity);
  }

  /** Starts a new input: line numbers restart and the format is detected from its first line. */
  beginFile(name: string): void {
    this.file = name;
    this.lineNo = 0;
    this.format = FORMAT_UNKNOWN;
    this.atFileStart = true;
  }

  /**
   * Starts segment `segment` of the input (parallel.ts): a run of whole lines of file `name`,
   * its line numbers counted from 1 within the segment. `start` describes a segment that begins
   * after the file's first line: its format, known from that line. Bad-line samples are kept per
   * segment, so the first ones of the whole input are among them whatever order segments come in.
   */
  beginSegment(name: string, segment: number, start?: SegmentStart): void {
    this.beginFile(name);
    this.segmented = true;
    this.segment = segment;
    this.segmentSamples = 0;
    if (start !== undefined) {
      this.atFileStart = false;
      this.format = start.format === 'json' ? FORMAT_JSON : FORMAT_CSV;
      if (start.format === 'csv') this.csvHeader(start.header ?? '');
    }
  }

  /** Ends the current segment: records how many lines it had. */
  endSegment(): void {
    this.segmentLines.push(this.segment, this.lineNo);
  }

  /** The current segment and line, for an error raised while reading it. */
  position(): { segment: number; line: number } {
    return { segment: this.segment, line: this.lineNo };
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
      if (this.lineNo === 1 && this.atFileStart && c === 0xef && buf[pos + 1] === 0xbb && buf[pos + 2] === 0xbf) {
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
        const r = scanCsvLine(buf, pos, end, f, this.csvCols);
        if (r > 0) {
          this.rows++;
          if (f.fieldCount !== this.csvWidth) this.bad(`expected ${this.csvWidth} CSV fields, got ${f.fieldCount}`);
          else this.dispatch(buf);
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
      throw new BadLineError(this.file, this.lineNo, reason);
    }
    this.badLines++;
    if ((this.segmented ? this.segmentSamples : this.badSamples.length) < this.maxSamples) {
      this.segmentSamples++;
      this.badSamples.push({ file: this.file, line: this.lineNo, reason });
      this.badSegments.push(this.segment);
    }
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
        if (this.otherExperiments.size < 20) this.seen(this.otherExperiments, text(buf, f.expA, f.expB));
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
      else if (this.segmented && this.segment < this.variantFirst[2 * v]!) {
        // Segments may come in any order: keep the earliest sighting.
        this.variantFirst[2 * v] = this.segment;
        this.variantFirst[2 * v + 1] = this.lineNo;
      }
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
        if (this.otherMetricNames.size < 20) this.seen(this.otherMetricNames, text(buf, f.metricA, f.metricB));
        return;
      }
      this.observation(this.intern(buf), k, f.ts, f.value);
    }
  }

  private seen(names: Map<string, [number, number]>, name: string): void {
    const at = names.get(name);
    if (at === undefined) names.set(name, [this.segment, this.lineNo]);
    else if (this.segment < at[0]) names.set(name, [this.segment, this.lineNo]);
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
    const layout = csvLayout(header);
    if (layout === null) {
      throw new InputError(
        `${this.file}: not JSON Lines, and line ${this.lineNo} is not a CSV header with unit, ts and variant or metric columns`,
        {
          hint: 'JSON Lines rows start with "{"; CSV columns: type,experiment,unit,variant,metric,value,ts (any order, type optional)',
        },
      );
    }
    this.csvCols = layout.cols;
    this.csvWidth = layout.width;
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
    this.variantFirst.push(this.segment, this.lineNo);
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
    this.addObservation(u, k, ts, value);
  }

  private addObservation(u: number, k: number, ts: number, value: number): void {
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

  /** Lines per segment read, flattened [segment, lines, …]. */
  exportLines(): { segmentLines: number[] } {
    return { segmentLines: this.segmentLines };
  }

  /**
   * The whole state, as plain data and typed arrays (to post from a worker thread; `transfer`
   * lists the buffers to move rather than copy). Ends the accumulator's use.
   */
  exportState(): { state: AccumulatorState; transfer: ArrayBuffer[] } {
    const units = this.units.exportState();
    const state: AccumulatorState = {
      unitCount: units.size,
      unitArena: units.arena,
      unitMeta: units.meta,
      unitSlots: units.slots,
      state: this.state,
      pendTs: this.pendTs,
      pendVal: this.pendVal,
      pendNext: this.pendNext,
      pendPeak: this.pendPeak,
      variants: this.variantNames,
      variantFirst: this.variantFirst,
      metricRows: this.metricRows,
      otherMetricNames: [...this.otherMetricNames],
      otherExperiments: [...this.otherExperiments],
      otherExperimentRows: this.otherExperimentRows,
      rows: this.rows,
      badLines: this.badLines,
      badSamples: this.badSamples,
      badSegments: this.badSegments,
      segmentLines: this.segmentLines,
      ...(this.totals ? { totals: exportTotals(this.totals) } : {}),
    };
    const transfer = [units.arena, units.meta, units.slots, this.state, this.pendTs, this.pendVal, this.pendNext].map(
      (a) => a.buffer as ArrayBuffer,
    );
    return { state, transfer };
  }

  /**
   * The hashes of this part's unit ids as a bit set (about 16 bits per unit, in shared memory so
   * every other thread reads the same one): a unit whose hash is in no other part's set is in no
   * other part, so that part can reduce it on its own (foldLocal) instead of in the merge.
   */
  unitFilter(): Int32Array {
    let words = 64;
    while (words * 2 < this.units.size) words *= 2;
    const bits = new Int32Array(new SharedArrayBuffer(4 * words));
    const shift = Math.clz32(words * 32) + 1;
    const meta = this.units.meta;
    for (let u = 0; u < this.units.size; u++) {
      const b = Math.imul(meta[3 * u]!, 0x9e3779b1) >>> shift;
      bits[b >>> 5]! |= 1 << (b & 31);
    }
    return bits;
  }

  /**
   * Adds to this part's totals every unit whose hash is in none of the other parts' unitFilter()
   * sets: no other part has it, so its record is final. They are marked folded; the merge (absorb)
   * then only has the others to combine, and the parts do this share of the work at the same time.
   * Returns how many it folded.
   */
  foldLocal(others: Int32Array[]): number {
    const t = (this.totals ??= this.emptyTotals());
    let folded = 0;
    const meta = this.units.meta;
    const st = this.state;
    const own = { pendTs: this.pendTs, pendVal: this.pendVal, pendNext: this.pendNext };
    const shifts = others.map((bits) => Math.clz32(bits.length * 32) + 1);
    units: for (let u = 0, at = 0; u < this.units.size; u++, at += this.stride) {
      const h = Math.imul(meta[3 * u]!, 0x9e3779b1);
      for (let j = 0; j < others.length; j++) {
        const b = h >>> shifts[j]!;
        if ((others[j]![b >>> 5]! >>> (b & 31)) & 1) continue units;
      }
      this.foldUnit(st, at, own, undefined, t);
      st[at + 1] = VARIANT_FOLDED;
      folded++;
    }
    return folded;
  }

  /**
   * Merges the states of readers that each read some segments of the input into this one (which
   * read the others, or none), exactly as if it had read the whole input itself:
   *  - variants are numbered in the order of their first exposure in the input (the earliest
   *    segment and line among the parts), so arms come out in the same order;
   *  - per unit, the first exposure is the minimum, the variant the one shared by every part
   *    (else the unit saw several), a proportion's latest positive observation the maximum;
   *  - a mean metric's sum: each part summed the observations at or after its own earliest
   *    exposure E and held the older ones; the whole input's first exposure F ≤ every E, so the
   *    part sums all count, and each held observation is replayed: it counts iff it is at or
   *    after the earliest exposure merged so far (and stays held otherwise, for CUPED), the same
   *    invariant the reader keeps row by row;
   *  - bad-line samples, kept per segment by the parts, are ordered by segment and line, their
   *    line numbers shifted by the lines of the file's earlier segments (`lineOffset`);
   *  - units a part already reduced (foldLocal: in no other part) arrive as that part's totals,
   *    renumbered to the merged variants and added.
   * Only the order of floating-point additions differs from a single reader (sums agree to
   * rounding). The "experiments seen" and "metrics seen" hints: the first 20 names of each part,
   * ordered by where they were first seen (the same as one reader's unless a part saw more than 20).
   */
  absorb(parts: AccumulatorState[], lineOffset: (segment: number) => number): void {
    // Variants, numbered by first sighting over this accumulator and the parts.
    const firsts: { name: string; segment: number; line: number }[] = [];
    const own = { variants: this.variantNames, variantFirst: this.variantFirst };
    for (const p of [own, ...parts]) {
      p.variants.forEach((name, v) =>
        firsts.push({ name, segment: p.variantFirst[2 * v]!, line: p.variantFirst[2 * v + 1]! }),
      );
    }
    firsts.sort((x, y) => x.segment - y.segment || x.line - y.line);
    const index = new Map<string, number>();
    const order: typeof firsts = [];
    for (const f of firsts) {
      if (index.has(f.name)) continue;
      if (index.size >= 1000) throw new InputError(`experiment ${this.experimentName} has more than 1000 variants`);
      index.set(f.name, index.size);
      order.push(f);
    }
    const ownIndex = Int32Array.from(this.variantNames, (name) => index.get(name)!);
    this.renumberVariants(ownIndex);
    const ownTotals = this.totals && exportTotals(this.totals);
    this.variantNames.length = this.variantBytes.length = this.variantFirst.length = 0;
    for (const f of order) {
      this.variantNames.push(f.name);
      this.variantBytes.push(Buffer.from(f.name));
      this.variantFirst.push(f.segment, f.line);
    }

    const samples = this.badSamples.map((sample, i) => ({ sample, segment: this.badSegments[i]! }));
    this.totals = this.emptyTotals();
    if (ownTotals) this.addTotals(ownTotals, ownIndex);
    for (const p of parts) {
      const variantIndex = Int32Array.from(p.variants, (name) => index.get(name)!);
      if (p.totals) this.addTotals(p.totals, variantIndex);
      this.mergeUnits(p, variantIndex);
      this.rows += p.rows;
      this.badLines += p.badLines;
      this.otherExperimentRows += p.otherExperimentRows;
      this.pendPeak += p.pendPeak;
      p.metricRows.forEach((n, k) => (this.metricRows[k]! += n));
      p.badSamples.forEach((sample, i) => samples.push({ sample, segment: p.badSegments[i]! }));
    }
    samples.sort((x, y) => x.segment - y.segment || x.sample.line - y.sample.line);
    this.badSamples.length = this.badSegments.length = 0;
    for (const { sample, segment } of samples.slice(0, this.maxSamples)) {
      this.badSamples.push({ ...sample, line: sample.line + lineOffset(segment) });
      this.badSegments.push(segment);
    }
    const byPosition = (lists: [string, [number, number]][][], into: Map<string, [number, number]>): void => {
      const all = lists.flat().sort((x, y) => x[1][0] - y[1][0] || x[1][1] - y[1][1]);
      into.clear();
      for (const [name, at] of all) if (into.size < 20 && !into.has(name)) into.set(name, at);
    };
    byPosition([[...this.otherMetricNames], ...parts.map((p) => p.otherMetricNames)], this.otherMetricNames);
    byPosition([[...this.otherExperiments], ...parts.map((p) => p.otherExperiments)], this.otherExperiments);
  }

  /** Applies a new numbering of the variants to the per-unit state. */
  private renumberVariants(to: Int32Array): void {
    if (to.every((v, i) => v === i)) return;
    const st = this.state;
    for (let u = 0, at = 1; u < this.units.size; u++, at += this.stride) {
      const v = st[at]!;
      if (v >= 0) st[at] = to[v]!;
    }
  }

  /**
   * Merges a part's units into this table, but for those the part reduced itself (foldLocal).
   * What is left are the units other parts may have too (and the filters' false positives, a few
   * per cent): interned here — the reading's own hot path — and reduced by finish().
   */
  private mergeUnits(p: AccumulatorState, variantIndex: Int32Array): void {
    const S = this.stride;
    const M = this.metricIsMean.length;
    const src = p.state;
    for (let w = 0, at = 0; w < p.unitCount; w++, at += S) {
      if (src[at + 1] === VARIANT_FOLDED) continue; // in that part's totals already
      const a = p.unitMeta[3 * w + 1]!;
      const u = this.units.intern(p.unitArena, a, a + p.unitMeta[3 * w + 2]!, p.unitMeta[3 * w]!);
      if (u >= this.cap) this.grow(this.cap * 2);
      const v = src[at + 1]!;
      // A part that saw several variants merges as an exposure to "several", which no single variant equals.
      if (v !== VARIANT_NONE) this.exposure(u, v >= 0 ? variantIndex[v]! : VARIANT_MULTI, src[at]!);
      for (let k = 0; k < M; k++) {
        const x = src[at + 2 + k]!;
        const slot = this.pendSlot[k]!;
        if (slot < 0) {
          if (x > this.state[u * S + 2 + k]!) this.state[u * S + 2 + k] = x;
          continue;
        }
        this.state[u * S + 2 + k]! += x;
        for (let q = src[at + slot]!; q >= 0; q = p.pendNext[q]!)
          this.addObservation(u, k, p.pendTs[q]!, p.pendVal[q]!);
      }
    }
  }

  private emptyTotals(): Totals {
    const V = this.variantNames.length;
    const VM = V * this.metricNames.length;
    return {
      n: new Float64Array(V),
      sum: new Float64Array(VM),
      sumSq: new Float64Array(VM),
      preSum: new Float64Array(VM),
      preSumSq: new Float64Array(VM),
      cross: new Float64Array(VM),
      multi: 0,
      unexposed: 0,
      ...(this.daily ? { daily: new DailyCohortsBuilder(V, this.metricNames.length) } : {}),
    };
  }

  /** Adds a part's totals, its variant v being `variantIndex[v]` here. */
  private addTotals(from: ExportedTotals, variantIndex: Int32Array): void {
    const t = this.totals!;
    const M = this.metricNames.length;
    for (let v = 0; v < variantIndex.length; v++) {
      const to = variantIndex[v]!;
      t.n[to]! += from.n[v]!;
      for (let k = 0; k < M; k++) {
        t.sum[to * M + k]! += from.sum[v * M + k]!;
        t.sumSq[to * M + k]! += from.sumSq[v * M + k]!;
        t.preSum[to * M + k]! += from.preSum[v * M + k]!;
        t.preSumSq[to * M + k]! += from.preSumSq[v * M + k]!;
        t.cross[to * M + k]! += from.cross[v * M + k]!;
      }
    }
    t.multi += from.multi;
    t.unexposed += from.unexposed;
    if (from.daily) t.daily!.addData(from.daily, variantIndex);
  }

  /**
   * Adds one final unit record (at `at` in `st`, its held observations in `pend`) to the totals:
   * y per metric (a mean's sum; a proportion's 1 iff its latest positive observation is at or
   * after the first exposure) and, with CUPED, x = the held observations in [first − window, first).
   */
  private foldUnit(
    st: Float64Array,
    at: number,
    pend: { pendTs: Float64Array; pendVal: Float64Array; pendNext: Int32Array },
    variantIndex: Int32Array | undefined,
    t: Totals,
  ): void {
    const M = this.metricNames.length;
    const raw = st[at + 1]!;
    if (raw === VARIANT_FOLDED) return;
    if (raw === VARIANT_NONE) {
      t.unexposed++;
      return;
    }
    if (raw === VARIANT_MULTI) {
      t.multi++;
      return;
    }
    const v = variantIndex ? variantIndex[raw]! : raw;
    t.n[v]!++;
    const first = st[at]!;
    t.daily?.addUnit(first, v);
    const cuped = this.cupedWindowMs > 0;
    for (let k = 0; k < M; k++) {
      const i = v * M + k;
      const acc = st[at + 2 + k]!;
      const y = this.metricIsMean[k] ? acc : acc >= first ? 1 : 0;
      t.daily?.addValue(k, y);
      t.sum[i]! += y;
      t.sumSq[i]! += y * y;
      if (cuped && this.metricIsMean[k]) {
        let x = 0;
        const from = first - this.cupedWindowMs;
        for (let p = st[at + this.pendSlot[k]!]!; p >= 0; p = pend.pendNext[p]!) {
          const ts = pend.pendTs[p]!;
          if (ts >= from && ts < first) x += pend.pendVal[p]!;
        }
        t.preSum[i]! += x;
        t.preSumSq[i]! += x * x;
        t.cross[i]! += x * y;
      }
    }
  }

  /** Reduces the per-unit state to per-variant sufficient statistics. */
  finish(sources: string[]): EventsResult {
    const what = sources.join(', ');
    if (this.variantNames.length === 0) {
      const others = [...this.otherExperiments.keys()];
      throw new InputError(
        this.rows === 0
          ? `--events ${what}: no rows`
          : `--events ${what}: no exposures for experiment "${this.experimentName}"`,
        others.length > 0 ? { hint: `experiments seen: ${others.slice(0, 10).join(', ')}` } : {},
      );
    }
    this.metricNames.forEach((name, k) => {
      if (this.metricRows[k] === 0) {
        const seen = [...this.otherMetricNames.keys()];
        throw new InputError(`--metric ${name}: no observations of metric "${name}" in ${what}`, {
          hint: seen.length > 0 ? `metrics seen: ${seen.slice(0, 10).join(', ')}` : 'the input has no metric rows',
        });
      }
    });
    const M = this.metricNames.length;
    const t = this.totals ?? this.emptyTotals();
    const own = { pendTs: this.pendTs, pendVal: this.pendVal, pendNext: this.pendNext };
    for (let u = 0, at = 0; u < this.units.size; u++, at += this.stride)
      this.foldUnit(this.state, at, own, undefined, t);
    const { n, sum, sumSq, preSum, preSumSq, cross, multi, unexposed } = t;
    const cuped = this.cupedWindowMs > 0;
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
      ...(t.daily
        ? {
            daily: t.daily.build(
              this.variantNames,
              this.metricNames.map((name, k) => ({ name, type: this.metricIsMean[k] ? 'mean' : 'proportion' })),
            ),
          }
        : {}),
    };
  }
}

/** The format of a segment that starts after its file's first line (see beginSegment). */
export interface SegmentStart {
  format: 'json' | 'csv';
  /** The CSV header line. */
  header?: string;
}

/** An accumulator's state as data (see exportState / merge). */
export interface AccumulatorState {
  unitCount: number;
  unitArena: Uint8Array;
  unitMeta: Int32Array;
  unitSlots: Int32Array;
  state: Float64Array;
  pendTs: Float64Array;
  pendVal: Float64Array;
  pendNext: Int32Array;
  pendPeak: number;
  variants: string[];
  variantFirst: number[];
  metricRows: number[];
  otherMetricNames: [string, [number, number]][];
  otherExperiments: [string, [number, number]][];
  otherExperimentRows: number;
  rows: number;
  badLines: number;
  badSamples: BadLine[];
  badSegments: number[];
  segmentLines: number[];
  /** The units the part reduced itself (foldLocal), by its own variant numbering. */
  totals?: ExportedTotals;
}

/** An unparseable line under --strict: names file:line. */
export class BadLineError extends InputError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`, {
      hint: 'fix or drop the line, or leave out --strict to skip unparseable lines',
    });
  }
}

/** Per-variant (× metric) sums over final unit records; see foldUnit. */
interface Totals {
  n: Float64Array;
  sum: Float64Array;
  sumSq: Float64Array;
  preSum: Float64Array;
  preSumSq: Float64Array;
  cross: Float64Array;
  multi: number;
  unexposed: number;
  /** With `daily`: the same units by first-exposure day. */
  daily?: DailyCohortsBuilder;
}

/** Totals as data (the daily cohorts as DailyCohortsData): what a part posts. */
export interface ExportedTotals extends Omit<Totals, 'daily'> {
  daily?: DailyCohortsData;
}

function exportTotals(t: Totals): ExportedTotals {
  const { daily, ...rest } = t;
  return daily ? { ...rest, daily: daily.toData() } : rest;
}
