import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { registerRegister } from './commands/register.js';
import { registerShow } from './commands/show.js';
import { registerCompare } from './commands/compare.js';
import { registerPromote } from './commands/promote.js';
import { registerRollback } from './commands/rollback.js';
import { registerSmoke } from './commands/smoke.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerSampleSize } from './commands/sample-size.js';
import { registerServer } from './commands/server.js';
import { registerRollout } from './commands/rollout.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Builds the commander program: global flags and one registration per command. Command modules
 * are small; heavy dependencies (undici, better-sqlite3, onnxruntime-node) load inside actions.
 */
export function buildProgram(): Command {
  const program = new Command('mlv')
    .description('Safe, measurable model releases on MLflow: register, smoke-test, promote, roll back, A/B-test.')
    .version(version, '-V, --version', 'print the mlv version')
    .option('--json', 'print one JSON document on stdout instead of the human view')
    .option('--no-color', 'no colour (also NO_COLOR=1)')
    .option('-v, --verbose', 'stack traces and request logs on stderr')
    .option('-y, --yes', 'answer yes to confirmations')
    .option(
      '--no-input',
      'never prompt; a missing answer is a usage error (automatic when CI is set or stdin is not a TTY)',
    )
    .addOption(
      new Option(
        '--tracking-uri <uri>',
        'MLflow tracking server (overrides MLFLOW_TRACKING_URI; default: embedded registry in ./.mlv)',
      ),
    )
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok · 1 a check or gate said no · 2 usage or input error · 3 remote error · 4 authentication refused · 130 interrupted
Docs: README.md — environment: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME/PASSWORD, MLV_HOME`,
    );
  // commander would exit(1) on a usage error; main.ts maps it to exit 2. Sub-commands made with
  // .command() inherit this.
  program.exitOverride();

  for (const register of commands) register(program);
  return program;
}

type Registration = (program: Command) => void;

/** One line per command, in the order `mlv --help` lists them. */
const commands: Registration[] = [
  registerRegister,
  registerShow,
  registerCompare,
  registerPromote,
  registerRollback,
  registerSmoke,
  registerSampleSize,
  registerAnalyze,
  registerServer,
  registerRollout,
];
