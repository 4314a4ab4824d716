/**
 * What main.ts needs to know about the process's stdout and stderr: whether a command already
 * printed its result, and whether the reader closed the pipe. Kept apart from run.ts so that
 * main.ts loads nothing heavy.
 */

let printed = false;

/** Called by ctx.output: stdout now holds the command's result (main.ts adds no error document). */
export function markResultPrinted(): void {
  printed = true;
}

export function resultPrinted(): boolean {
  return printed;
}

/** 141 = 128 + SIGPIPE, what a shell reports for a program stopped by a closed pipe (git, coreutils). */
export const EXIT_PIPE_CLOSED = 141;

let stdoutClosed = false;

export function stdoutWasClosed(): boolean {
  return stdoutClosed;
}

/**
 * A reader that goes away (`mlv show | head -1`) is not a failure of mlv: the rest of the output
 * is dropped, the command finishes what it was doing (so nothing in the registry is left half
 * done), and the exit status is 141 when stdout was closed and the command otherwise succeeded
 * (a command's own failure status wins). A closed stderr only loses the diagnostics; it does not
 * change the status. Without these listeners Node throws EPIPE as an uncaught exception.
 */
export function watchClosedPipes(stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): void {
  stdout.on('error', () => {
    stdoutClosed = true;
    if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = EXIT_PIPE_CLOSED;
  });
  stderr.on('error', () => {});
}
