import type { Fields } from './fields.js';
import { parseNumberBytes, parseTimestampBytes } from './numbers.js';

/** CSV events: the header's layout, a fast scanner for unquoted lines, and a full line splitter. */

/** Where each known column is (-1 = absent), in the order type, experiment, unit, variant, metric, value, ts. */
export interface CsvLayout {
  cols: Int32Array<ArrayBuffer>;
  width: number;
}

const COLUMNS = ['type', 'experiment', 'unit', 'variant', 'metric', 'value', 'ts'];

/** The layout of a header line; null when it lacks a unit, a ts, and a variant or metric column. */
export function csvLayout(header: string): CsvLayout | null {
  const names = splitCsvLine(header);
  const cols = new Int32Array(COLUMNS.length).fill(-1);
  (names ?? []).forEach((n, i) => {
    const j = COLUMNS.indexOf(n.trim().toLowerCase());
    if (j >= 0) cols[j] = i;
  });
  if (cols[2]! < 0 || cols[6]! < 0 || (cols[3]! < 0 && cols[4]! < 0)) return null;
  return { cols, width: names?.length ?? 0 };
}

/**
 * One unquoted CSV line starting at a, into f (and its number of fields into f.fieldCount):
 * returns the offset after its newline, or -1 when the line holds a quote (splitCsvLine takes it).
 */
export function scanCsvLine(buf: Uint8Array, a: number, end: number, f: Fields, cols: Int32Array): number {
  f.reset();
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
        csvField(buf, col, start, e, cols, f);
      }
      col++;
      start = i + 1;
      h = 0x811c9dc5 | 0;
      if (c === 10) break;
    } else if (c === 34) return -1;
    else h = Math.imul(h ^ c, 16777619);
  }
  f.fieldCount = col;
  return i + 1;
}

function csvField(buf: Uint8Array, col: number, a: number, b: number, cols: Int32Array, f: Fields): void {
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
