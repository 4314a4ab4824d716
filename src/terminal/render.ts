import type { Check } from '../core/registry/gates.js';
import { targetLabel, versionLabel } from '../core/registry/refs.js';
import type { Style } from './style.js';

/** Styled rendering shared by the registry commands: key/value lists, gate checklists, moves. */

/** `key  value` lines aligned on a TTY, `key\tvalue` when piped; empty values skipped. */
export function keyValues(style: Style, rows: [string, string | number | null | undefined][]): string {
  const kept = rows.filter((r): r is [string, string | number] => r[1] !== null && r[1] !== undefined && r[1] !== '');
  if (!style.tty) return kept.map(([k, v]) => `${k}\t${v}`).join('\n');
  const width = Math.max(...kept.map(([k]) => k.length));
  return kept.map(([k, v]) => `${style.dim(k.padEnd(width))}  ${v}`).join('\n');
}

/** The gate checklist: one line per check, ✓/✗, name, detail. */
export function checklist(style: Style, checks: readonly Check[]): string {
  if (checks.length === 0) return '';
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => `  ${c.passed ? style.pass : style.fail} ${c.name.padEnd(width)}  ${style.dim(c.detail)}`)
    .join('\n');
}

/**
 * The "✓ registered …" line on stderr — only with --json, where stdout is the document and a person
 * watching still wants a word; without --json the human rendering on stdout says the same.
 */
export function statusLine(ctx: { json: boolean; info(message: string): void }, message: string): void {
  if (ctx.json) ctx.info(message);
}

/** What renderMove shows of a move (src/registry/move.ts MoveResult has these fields and more). */
export interface MoveView {
  name: string;
  version: string;
  semver: string | null;
  target: string;
  target_kind: 'alias' | 'stage';
  previous: string | null;
  previous_semver: string | null;
  checks: readonly Check[];
  promoted: boolean;
  dry_run: boolean;
  changed: boolean;
  archived: readonly string[];
}

/** The promote/rollback report: the move, the gate checklist, and what happened. */
export function renderMove(r: MoveView, style: Style, verb = 'promote'): string {
  const to = targetLabel(r.target, r.target_kind);
  const lines = [
    `${verb} ${style.bold(r.name)} ${versionLabel(r.version, r.semver)} → ${to}   ${style.dim(`(now: ${versionLabel(r.previous, r.previous_semver)})`)}`,
  ];
  const list = checklist(style, r.checks);
  if (list) lines.push(list);
  const failed = r.checks.filter((c) => !c.passed).length;
  if (failed > 0)
    lines.push(
      `${style.fail} ${style.red(`not ${verb === 'promote' ? 'promoted' : 'rolled back'}: ${failed} gate${failed === 1 ? '' : 's'} failed`)} — nothing changed`,
    );
  else if (r.dry_run)
    lines.push(`${style.warn} dry run: would point ${to} at ${versionLabel(r.version, r.semver)}; nothing changed`);
  else if (!r.changed && r.promoted)
    lines.push(`${style.pass} ${to} already points at ${versionLabel(r.version, r.semver)}`);
  else if (r.changed) {
    lines.push(
      `${style.pass} ${style.green(`${to} → ${versionLabel(r.version, r.semver)}`)}${r.archived.length ? `; archived ${r.archived.join(', ')}` : ''}`,
    );
  }
  return lines.join('\n');
}

/** `promoted churn @production → version 3 (v1.2.0) (was version 2)`: the status line after a move. */
export function movedLine(r: MoveView, verb: string): string {
  return `${verb} ${r.name} ${targetLabel(r.target, r.target_kind)} → ${versionLabel(r.version, r.semver)} (was ${versionLabel(r.previous, r.previous_semver)})`;
}
