import { Chalk, type ChalkInstance } from 'chalk';

/**
 * How human output looks. Decided once per run (see `decideColor`) and passed to every
 * renderer, so renderers stay pure functions of (result, style).
 */
export interface Style {
  readonly color: boolean;
  /** True when stdout is a terminal: tables get borders, numbers get aligned. */
  readonly tty: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  /** ✓ / ✗ markers (plain ASCII-safe words when colour is off keep logs grep-able). */
  pass: string;
  fail: string;
  warn: string;
}

export function makeStyle(opts: { color: boolean; tty: boolean }): Style {
  const chalk: ChalkInstance = new Chalk({ level: opts.color ? 1 : 0 });
  return {
    color: opts.color,
    tty: opts.tty,
    bold: (s) => chalk.bold(s),
    dim: (s) => chalk.dim(s),
    red: (s) => chalk.red(s),
    green: (s) => chalk.green(s),
    yellow: (s) => chalk.yellow(s),
    cyan: (s) => chalk.cyan(s),
    pass: chalk.green('✓'),
    fail: chalk.red('✗'),
    warn: chalk.yellow('!'),
  };
}

/** A style with no colour and no TTY niceties: what tests and pipes get. */
export const plainStyle: Style = makeStyle({ color: false, tty: false });

/**
 * Colour is on only for a TTY, and off for NO_COLOR (any non-empty value, see no-color.org)
 * or --no-color. FORCE_COLOR (non-"0") turns it on even when piped. chalk's own detection
 * ignores NO_COLOR, hence this function.
 */
export function decideColor(opts: { isTTY: boolean; env: NodeJS.ProcessEnv; flag: boolean | undefined }): boolean {
  if (opts.flag === false) return false;
  const force = opts.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  if (opts.env.NO_COLOR !== undefined && opts.env.NO_COLOR !== '') return false;
  if (opts.env.TERM === 'dumb') return false;
  return opts.isTTY;
}
