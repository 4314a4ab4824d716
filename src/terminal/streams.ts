import type { Readable, Writable } from 'node:stream';

/** The output and input streams a run writes to and reads from (process's, or a test's), and whether they are TTYs. */
export type OutStream = Writable & { isTTY?: boolean };
export type InStream = Readable & { isTTY?: boolean };
