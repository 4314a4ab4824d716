import { bytesEqual } from './bytes.js';
import { EXPOSURE, type Fields, METRIC, TYPE_EXPOSURE, TYPE_METRIC, TYPE_NONE } from './fields.js';
import { DAYS_IN_MONTH, daysFromCivil, digits2, epochToMs, parseNumberBytes, parseTimestampBytes } from './numbers.js';

const VARIANT = Buffer.from('variant');
const EXPERIMENT = Buffer.from('experiment');

/**
 * Scans one flat JSON object starting at buf[a] === '{' into f. Returns the offset after the
 * closing brace when understood, or -1 when the line needs JSON.parse (escapes, nesting, anything
 * unusual — including invalid JSON, which JSON.parse then reports). Never reads past `end`.
 */
export function scanFlatJson(buf: Uint8Array, a: number, end: number, f: Fields, metrics: Buffer[]): number {
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
        // The string fields' cases look alike on purpose: flat stores to named fields keep this the events hot path's fastest form.
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
