/**
 * A reader for the Prometheus text exposition format (version 0.0.4, what prom-client writes):
 *   # HELP name text
 *   # TYPE name counter|gauge|histogram|summary|untyped
 *   name{label="value",…} 12.5 [timestamp]
 * Label values may contain \\, \" and \n escapes. Values: floats, NaN, +Inf, -Inf.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class ExpositionError extends Error {}

/** Like Go's ParseFloat, which Prometheus uses: NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(s: string): number {
  const l = s.toLowerCase();
  if (l === '+inf' || l === 'inf') return Infinity;
  if (l === '-inf') return -Infinity;
  if (l === 'nan') return NaN;
  const n = Number(s);
  if (s === '' || Number.isNaN(n)) throw new ExpositionError(`not a number: "${s}"`);
  return n;
}

/** Every sample of a scrape, in order. Comments and blank lines are skipped. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const nameEnd = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line);
    if (!nameEnd) throw new ExpositionError(`line ${i + 1}: no metric name`);
    const name = nameEnd[0];
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === '{') {
      pos++;
      for (;;) {
        while (line[pos] === ' ' || line[pos] === ',') pos++;
        if (line[pos] === '}') {
          pos++;
          break;
        }
        const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(pos));
        if (!key || line[pos + key[0].length] !== '=' || line[pos + key[0].length + 1] !== '"')
          throw new ExpositionError(`line ${i + 1}: bad label`);
        pos += key[0].length + 2;
        let value = '';
        for (;;) {
          const c = line[pos];
          if (c === undefined) throw new ExpositionError(`line ${i + 1}: unterminated label value`);
          pos++;
          if (c === '"') break;
          if (c === '\\') {
            const e = line[pos++];
            value += e === 'n' ? '\n' : (e ?? '');
          } else value += c;
        }
        labels[key[0]] = value;
      }
    }
    const rest = line.slice(pos).trim().split(/\s+/);
    out.push({ name, labels, value: parseValue(rest[0] ?? '') });
  }
  return out;
}
