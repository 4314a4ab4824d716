/**
 * Numbers and cells as mlv prints them: one number formatter with a preset per kind of output,
 * and the pure pieces of Markdown and time formatting the renderers share.
 */

export interface NumberFormat {
  /** Significant digits. */
  digits: number;
  /** Below this magnitude (and not 0), exponent notation. */
  small: number;
  /** From this magnitude on, exponent notation. */
  large: number;
  /** Digits after the point in exponent notation. */
  expDigits: number;
  /** Integers as they are (`12345`, not `1.235e+4`). */
  integers?: boolean;
  /** NaN and ±Infinity as `-` instead of their names. */
  dashNonFinite?: boolean;
  /** `+` before zero and positive numbers. */
  sign?: boolean;
}

/**
 * @example formatNumber(0.123456789, { digits: 4, small: 1e-3, large: 1e6, expDigits: 2 }) // '0.1235'
 * @example formatNumber(1e-7, { digits: 4, small: 1e-3, large: 1e6, expDigits: 2 }) // '1.00e-7'
 */
export function formatNumber(x: number | null | undefined, f: NumberFormat): string {
  if (x === null || x === undefined) return '-';
  if (!Number.isFinite(x)) return f.dashNonFinite ? '-' : String(x);
  const a = Math.abs(x);
  const s =
    f.integers && Number.isInteger(x)
      ? String(x)
      : a !== 0 && (a < f.small || a >= f.large)
        ? x.toExponential(f.expDigits)
        : String(Number(x.toPrecision(f.digits)));
  return f.sign && x >= 0 ? `+${s}` : s;
}

/**
 * An integer with thousands separators, as `n.toLocaleString('en-US')` writes it — without ICU,
 * whose first use costs ~20 ms of start-up (the events reader's progress, counts in reports).
 * Non-integers fall back to toLocaleString.
 * @example groupDigits(1234567) // '1,234,567'
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const s = String(Math.abs(n));
  let out = s.slice(0, ((s.length - 1) % 3) + 1);
  for (let i = out.length; i < s.length; i += 3) out += ',' + s.slice(i, i + 3);
  return n < 0 || Object.is(n, -0) ? '-' + out : out;
}

/** Registry numbers (metrics, gate limits): up to 6 significant digits, integers whole. */
export const REGISTRY_NUMBER: NumberFormat = { digits: 6, small: 1e-4, large: 1e9, expDigits: 3, integers: true };

/** Formats a number for a checklist or a table: up to 6 significant digits, no exponent for ordinary values. */
export function fmt(n: number | null | undefined): string {
  return formatNumber(n, REGISTRY_NUMBER);
}

/** A signed number: `+0.1`, `-2`, `0`. */
export function signed(n: number | null): string {
  if (n === null) return '-';
  const s = fmt(n);
  return n > 0 ? `+${s}` : s;
}

/** A signed percentage from a ratio: 0.125 → `+12.5%`. */
export function percent(ratio: number | null): string {
  if (ratio === null) return '-';
  const pct = ratio * 100;
  // Two decimals for ordinary changes; significant digits for tiny ones so they do not read as 0%.
  const s = Math.abs(pct) >= 0.01 || pct === 0 ? String(Number(pct.toFixed(2))) : fmt(pct);
  return ratio > 0 ? `+${s}%` : `${s}%`;
}

/** `2026-01-02T03:04:05.000Z` → `2026-01-02 03:04` (UTC). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.length >= 16 ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso;
}

/** A Markdown table cell: pipes escaped, newlines flattened. */
export function mdCell(s: string | number | null | undefined): string {
  if (s === null || s === undefined || s === '') return '–';
  return String(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function mdTable(head: string[], rows: (string | number | null | undefined)[][], align?: ('l' | 'r')[]): string {
  const sep = head.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [head.map(mdCell), sep, ...rows.map((r) => r.map(mdCell))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
