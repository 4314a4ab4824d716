import { ExitCode } from './errors.js';

/** Aborted on the first Ctrl-C (or SIGTERM); commands pass `ctx.signal` to long operations. */
export const interruptController = new AbortController();

export function wasInterrupted(): boolean {
  return interruptController.signal.aborted;
}

let interruptIsNormalStop = false;
/**
 * For commands whose normal end is Ctrl-C or SIGTERM (`mlv server`): after this, an interrupt
 * ends the process with exit 0 instead of 130/143. A second Ctrl-C still forces 130.
 */
export function treatInterruptAsNormalStop(): void {
  interruptIsNormalStop = true;
}

/** Interrupted, and the running command did not declare that a normal way to stop. */
export function interruptedAbnormally(): boolean {
  return wasInterrupted() && !interruptIsNormalStop;
}

let installed = false;
/** Installs the SIGINT/SIGTERM handlers once. A second Ctrl-C leaves at once. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (code: number) => () => {
    if (interruptController.signal.aborted) process.exit(code);
    interruptController.abort(new Error('interrupted'));
    process.exitCode = interruptIsNormalStop ? ExitCode.ok : code;
    // Give the command a moment to clean up (close the embedded server, remove temp files).
    setTimeout(() => process.exit(interruptIsNormalStop ? ExitCode.ok : code), 2000).unref();
  };
  process.on('SIGINT', onSignal(ExitCode.interrupted));
  process.on('SIGTERM', onSignal(143));
}
