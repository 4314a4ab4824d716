import { CommanderError } from 'commander';
import { ExitCode, MlvError, exitCodeOf } from './errors.js';
import { buildProgram } from './program.js';
import { redactSecrets } from './mlflow/redact.js';
import { installSignalHandlers, interruptedAbnormally } from './signals.js';

/**
 * The only place that decides an exit code. Commands throw; this prints `error: …` and
 * `hint: …` on stderr and sets process.exitCode (not process.exit(), so stdout drains).
 */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    await program.parseAsync(argv);
    return interruptedAbnormally() ? ExitCode.interrupted : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0; commander has printed them.
      if (err.exitCode === 0) return ExitCode.ok;
      return ExitCode.usage; // commander already printed `error: …`
    }
    if (interruptedAbnormally()) {
      process.stderr.write('interrupted\n');
      return ExitCode.interrupted;
    }
    printError(err, verbose);
    return exitCodeOf(err);
  }
}

function printError(err: unknown, verbose: boolean): void {
  const write = (s: string) => process.stderr.write(redactSecrets(s) + '\n');
  if (err instanceof MlvError) {
    write(`error: ${err.message}`);
    if (err.hint) write(`hint: ${err.hint}`);
    if (verbose && err.stack) write(err.stack);
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`error: internal error: ${message}`);
  if (verbose && err instanceof Error && err.stack) write(err.stack);
  else write('hint: run again with --verbose for the stack trace, and please report it');
}

installSignalHandlers();
const code = await main(process.argv);
process.exitCode = code;
