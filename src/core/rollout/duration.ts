import { InputError } from '../../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in the Argo/Go spelling → milliseconds: `2s`, `10m`, `1h30m`, `500ms`, `1.5h`.
 * A bare number is refused (seconds or milliseconds? say which). Zero is allowed only with `allowZero`.
 * @example parseDuration('1h30m', '--step-duration') // 5400000
 */
export function parseDuration(text: string, what: string, opts: { allowZero?: boolean } = {}): number {
  const s = String(text).trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = part.exec(s)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = part.lastIndex;
  }
  if (s === '' || matched !== s.length) {
    throw new InputError(`${what} must be a duration like 2s, 10m, 1h30m or 500ms; got "${text}"`);
  }
  if (total === 0 && !opts.allowZero) throw new InputError(`${what} must be longer than zero, got "${text}"`);
  return Math.round(total);
}

/**
 * Milliseconds → the shortest exact spelling parseDuration reads back: 5400000 → `1h30m`, 2000 → `2s`.
 * @example formatDuration(90_500) // '1m30s500ms'
 */
export function formatDuration(ms: number): string {
  if (!(ms > 0)) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** A duration for people: `4m 05s`, `12s`, `850ms`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}
