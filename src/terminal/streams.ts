import type { Readable, Writable } from 'node:stream';

/** The process streams as commands see them: a test hands in in-memory ones, `isTTY` unset. */
export type OutStream = Writable & { isTTY?: boolean };
export type InStream = Readable & { isTTY?: boolean };
