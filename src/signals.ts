import { ExitCode } from './errors.js';

/** Aborted on the first Ctrl-C (or SIGTERM); commands pass `ctx.signal` to long operations. */
export const interruptController = new AbortController();

export function wasInterrupted(): boolean {
  return interruptController.signal.aborted;
}

let installed = false;
/** Installs the SIGINT/SIGTERM handlers once. A second Ctrl-C leaves at once. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (code: number) => () => {
    if (interruptController.signal.aborted) process.exit(code);
    interruptController.abort(new Error('interrupted'));
    process.exitCode = code;
    // Give the command a moment to clean up (close the embedded server, remove temp files).
    setTimeout(() => process.exit(code), 2000).unref();
  };
  process.on('SIGINT', onSignal(ExitCode.interrupted));
  process.on('SIGTERM', onSignal(143));
}
