import { createRequire } from 'node:module';
import { Command, Option } from 'commander';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Builds the commander program: global flags, then the registration of the command `argv` runs —
 * only that command's module is loaded (start-up is most of a short command's time). `mlv --version`
 * loads none; help without a command, an unknown command or no `argv` (tests) loads them all, so the
 * help listing and "did you mean" stay exactly those of the real commands.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
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
Exit codes: 0 ok · 1 a check or gate said no (or a rollout rolled back) · 2 usage or input error · 3 remote error
            4 authentication refused · 5 a rollout paused · 130 interrupted · 141 stdout closed early
Docs: README.md — environment: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME/PASSWORD, MLV_HOME`,
    );
  // commander would exit(1) on a usage error; main.ts maps it to exit 2. Sub-commands made with
  // .command() inherit this.
  program.exitOverride();

  const wanted = argv === undefined ? commands : commandsFor(argv.slice(2), valueOptions(program));
  const registrations = await Promise.all(wanted.map((c) => c.load()));
  for (const register of registrations) register(program);
  return program;
}

interface CommandEntry {
  /** The word that selects the command (`mlv <name> …`); its module registers exactly that name. */
  name: string;
  load: () => Promise<(program: Command) => void>;
}

/**
 * One line per command, in the order `mlv --help` lists them. A new command: export
 * `registerX(program: Command)` from src/commands/x.ts (a folder src/commands/x/ for a noun with
 * verbs, registering its sub-commands itself) and add its line here.
 */
const commands: CommandEntry[] = [
  { name: 'register', load: () => import('./commands/register.js').then((m) => m.registerRegister) },
  { name: 'show', load: () => import('./commands/show.js').then((m) => m.registerShow) },
  { name: 'compare', load: () => import('./commands/compare.js').then((m) => m.registerCompare) },
  { name: 'promote', load: () => import('./commands/promote.js').then((m) => m.registerPromote) },
  { name: 'rollback', load: () => import('./commands/rollback.js').then((m) => m.registerRollback) },
  { name: 'smoke', load: () => import('./commands/smoke.js').then((m) => m.registerSmoke) },
  { name: 'sample-size', load: () => import('./commands/sample-size.js').then((m) => m.registerSampleSize) },
  { name: 'analyze', load: () => import('./commands/analyze.js').then((m) => m.registerAnalyze) },
  { name: 'server', load: () => import('./commands/server.js').then((m) => m.registerServer) },
  { name: 'serve', load: () => import('./commands/serve.js').then((m) => m.registerServe) },
  { name: 'route', load: () => import('./commands/route.js').then((m) => m.registerRoute) },
  { name: 'assign', load: () => import('./commands/assign.js').then((m) => m.registerAssign) },
  { name: 'rollout', load: () => import('./commands/rollout.js').then((m) => m.registerRollout) },
];

/** The names of the command entries, for tests that check each module registers its name. */
export const commandNames: readonly string[] = commands.map((c) => c.name);

/** The global flags that take a value (`--tracking-uri <uri>`): the word after them is not a command. */
function valueOptions(program: Command): Set<string> {
  const flags = new Set<string>();
  for (const o of program.options) {
    if (!o.required && !o.optional) continue;
    if (o.long) flags.add(o.long);
    if (o.short) flags.add(o.short);
  }
  return flags;
}

/** The command entries `args` (argv without node and the script) needs registered. */
function commandsFor(args: readonly string[], valueFlags: Set<string>): CommandEntry[] {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (!a.startsWith('-') || a === '-') words.push(a);
    else if (valueFlags.has(a)) i++; // `--tracking-uri URI`; `--tracking-uri=URI` is one word
  }
  if (words.length === 0 && args.some((a) => a === '-V' || a === '--version')) return [];
  // `mlv help promote` is `mlv promote --help`.
  const name = words[0] === 'help' && words[1] !== undefined ? words[1] : words[0];
  const entry = commands.find((c) => c.name === name);
  return entry ? [entry] : commands;
}
