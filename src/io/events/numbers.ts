import { text } from './bytes.js';

/** Numbers and timestamps, from bytes (the scanners) or strings (the slow paths). */

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/**
 * A decimal number from buf[a, b). Plain decimals with at most 15 digits are computed exactly as
 * JSON.parse would (an integer below 2^53 divided by an exact power of ten is correctly rounded);
 * anything else (exponents, long mantissas) goes to Number(). NaN when not a finite number.
 */
export function parseNumberBytes(buf: Uint8Array, a: number, b: number): number {
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

export const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function digits2(buf: Uint8Array, i: number, b: number): number {
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
export function parseTimestampBytes(buf: Uint8Array, a: number, b: number): number {
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
