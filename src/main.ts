import { CommanderError, type Command } from 'commander';
import { ExitCode, MlvError, exitCodeOf } from './errors.js';
import { buildProgram } from './program.js';
import { redactSecrets } from './mlflow/redact.js';
import { installSignalHandlers, interruptedAbnormally } from './signals.js';
import { EXIT_PIPE_CLOSED, resultPrinted, stdoutWasClosed, watchClosedPipes } from './streams.js';
import { errorLine } from './terminal/escape.js';

/**
 * The only place that decides an exit code. Commands throw; this prints `error: …` and
 * `hint: …` on stderr (with `--json` also `{"error": {code, message, exit_code}}` on stdout) and
 * sets process.exitCode (not process.exit(), so stdout drains).
 */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  const args = argv.slice(2);
  const end = args.indexOf('--');
  const globals = end === -1 ? args : args.slice(0, end);
  const verbose = globals.includes('--verbose') || globals.includes('-v');
  const json = globals.includes('--json');
  let commanderMessage: string | undefined;
  routeCommanderErrors(program, (line) => (commanderMessage = line));
  try {
    await program.parseAsync(argv);
    return interruptedAbnormally() ? ExitCode.interrupted : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0; commander has printed them.
      if (err.exitCode === 0) return ExitCode.ok;
      // commander printed `error: …` (through routeCommanderErrors)
      if (json) printErrorDocument('MLV_USAGE', commanderMessage ?? err.message, ExitCode.usage);
      return ExitCode.usage;
    }
    if (interruptedAbnormally() || (err instanceof MlvError && err.exitCode === ExitCode.interrupted)) {
      process.stderr.write('interrupted\n');
      if (json) printErrorDocument('MLV_INTERRUPTED', 'interrupted', ExitCode.interrupted);
      return ExitCode.interrupted;
    }
    const line = printError(err, verbose);
    if (json) {
      printErrorDocument(err instanceof MlvError ? err.code : 'MLV_INTERNAL', line, exitCodeOf(err));
    }
    return exitCodeOf(err);
  }
}

/** Prints the error on stderr; returns the message as printed (cut, escaped, secrets removed). */
function printError(err: unknown, verbose: boolean): string {
  const write = (s: string) => process.stderr.write(s + '\n');
  if (err instanceof MlvError) {
    const message = clean(err.message);
    write(`error: ${message}`);
    if (err.hint) write(`hint: ${clean(err.hint)}`);
    if (verbose && err.stack) write(redactSecrets(err.stack));
    return message;
  }
  const message = `internal error: ${clean(err instanceof Error ? err.message : String(err))}`;
  write(`error: ${message}`);
  if (verbose && err instanceof Error && err.stack) write(redactSecrets(err.stack));
  else write('hint: run again with --verbose for the stack trace, and please report it');
  return message;
}

const clean = (s: string) => errorLine(redactSecrets(s));

/**
 * The `--json` failure document on stdout, so a script parsing stdout gets a document either way.
 * Not printed when the command already printed its result (a failed gate prints the checks, then
 * exits 1): stdout holds exactly one document.
 */
function printErrorDocument(code: string, message: string, exitCode: number): void {
  if (resultPrinted()) return;
  process.stdout.write(JSON.stringify({ error: { code, message, exit_code: exitCode } }, null, 2) + '\n');
}

/**
 * commander's own errors, through the same cleaning as ours, in one sentence: for a value our
 * parser refused, commander's "option '--metric <key=value>' argument 'auc:0.9' is invalid." is
 * dropped when our message already names the flag and quotes the value.
 */
function routeCommanderErrors(program: Command, remember: (message: string) => void): void {
  const outputError = (str: string, write: (s: string) => void) => {
    const text = str.replace(/\n$/, '').replace(/^error: /, '');
    const m = /^option '(-[^' ]*)?,? ?(--[^' ]+)?[^']*' argument '[\s\S]*?' is invalid\. ([\s\S]*)$/.exec(text);
    const flag = m?.[2] ?? m?.[1];
    const message = clean(m && flag && m[3]!.includes(flag) ? m[3]! : text);
    remember(message);
    write(`error: ${message}\n`);
  };
  const apply = (cmd: Command) => {
    cmd.configureOutput({ outputError });
    for (const sub of cmd.commands) apply(sub);
  };
  apply(program);
}

installSignalHandlers();
watchClosedPipes(process.stdout, process.stderr);
const code = await main(process.argv);
process.exitCode = code === ExitCode.ok && stdoutWasClosed() ? EXIT_PIPE_CLOSED : code;
