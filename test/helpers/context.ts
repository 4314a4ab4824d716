import { PassThrough, Writable } from 'node:stream';
import type { Context, OutStream } from '../../src/context.js';
import { mulberry32 } from '../../src/core/smoke/random.js';
import type { Connection } from '../../src/mlflow/connect.js';
import { createContext, type GlobalOptions } from '../../src/run.js';
import type { Prompter } from '../../src/terminal/prompt.js';

/** An in-memory output stream that remembers what was written. */
export class Capture extends Writable {
  chunks: string[] = [];
  isTTY: boolean;
  constructor(isTTY = false) {
    super();
    this.isTTY = isTTY;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

export interface TestContext {
  ctx: Context;
  stdout: Capture;
  stderr: Capture;
}

/**
 * A Context for command tests: captured streams (TTY or piped), a fixed clock and a seeded
 * random source; pass `connect` to use a server the test started.
 */
export function testContext(
  opts: {
    tty?: boolean;
    globals?: GlobalOptions;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    now?: Date;
    prompter?: Prompter;
    connect?: () => Promise<Connection>;
  } = {},
): TestContext {
  const stdout = new Capture(opts.tty ?? false);
  const stderr = new Capture(opts.tty ?? false);
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = opts.tty ?? false;
  const ctx = createContext(opts.globals ?? {}, {
    stdout: stdout as OutStream,
    stderr: stderr as OutStream,
    stdin,
    env: { NO_COLOR: opts.tty ? undefined : '1', ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
    signal: new AbortController().signal,
    now: () => opts.now ?? new Date('2026-01-02T03:04:05Z'),
    random: mulberry32(42),
    ...(opts.prompter ? { prompter: opts.prompter } : {}),
    ...(opts.connect ? { connect: opts.connect } : {}),
  });
  return { ctx, stdout, stderr };
}
