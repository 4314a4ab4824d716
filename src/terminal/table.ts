import { createRequire } from 'node:module';
import type TableType from 'cli-table3';
import type { Style } from './style.js';

// Loaded only for a TTY (CommonJS, so synchronously): piped output, what scripts read, skips it.
const loadTable = () => createRequire(import.meta.url)('cli-table3') as typeof TableType;

export type Cell = string | number | null | undefined;

/**
 * A table for humans on a TTY (box drawing, bold header), tab-separated rows when piped so
 * `cut -f` and `awk -F'\t'` work. Null/undefined cells print as "-".
 */
export function renderTable(style: Style, head: string[], rows: Cell[][]): string {
  const text = (c: Cell): string => (c === null || c === undefined || c === '' ? '-' : String(c));
  if (!style.tty) {
    return [head, ...rows].map((r) => r.map(text).join('\t')).join('\n');
  }
  const Table = loadTable();
  const table = new Table({
    head: head.map((h) => style.bold(h)),
    style: { head: [], border: [], compact: true },
  });
  for (const r of rows) table.push(r.map(text));
  return table.toString();
}
