// What the demos share: where things are, colours for a terminal, a throw-away embedded registry,
// numbered chapters, and commands shown as a shell would take them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bin = path.join(root, 'bin', 'mlv.js');
export const models = path.join(root, 'fixtures', 'models');
/** `npm run demo… -- --keep` keeps the registry to explore afterwards. */
export const keep = process.argv.includes('--keep');

const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code) => (s) => (tty ? `\u001b[${code}m${s}\u001b[0m` : s);
export const bold = paint('1');
export const dim = paint('2');
export const cyan = paint('36');
export const green = paint('32');
export const red = paint('31');

/**
 * A fresh temporary MLV_HOME: the demo never touches ./.mlv or a configured MLflow server
 * (every MLFLOW_* variable is removed from the environment the CLI gets).
 */
export function demoHome(prefix, extraEnv = {}) {
  const home = mkdtempSync(path.join(tmpdir(), prefix));
  const store = path.join(home, '.mlv');
  const env = { ...process.env, MLV_HOME: store, ...extraEnv };
  for (const k of Object.keys(env)) if (k.startsWith('MLFLOW_')) delete env[k];
  return { home, store, env };
}

let step = 0;
/** A numbered chapter heading and its explanation. */
export function chapter(title, ...text) {
  step += 1;
  console.log(`\n${bold(cyan(`━━ ${step}. ${title} `.padEnd(78, '━')))}`);
  for (const line of text) console.log(dim(line));
}

/** An argument as a POSIX shell would need it quoted. */
export const quote = (a) => (/^[\w@%+=:,./*-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** A command line for the reader: paths inside the repo or the demo home shown relative. */
export function shown(args, home) {
  return args
    .map((a) =>
      a.startsWith(root + path.sep) ? path.relative(root, a) : a.startsWith(home) ? path.relative(home, a) || '.' : a,
    )
    .map(quote)
    .join(' ');
}
