import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { inputError, inputName, isGzip } from './input-error.js';

// The naming and errors of inputs, without the streams and zlib (the events reader threads load them).
export { inputError, inputName, isGzip };

/**
 * The one way mlv reads an input file given on the command line: `-` is standard input, anything
 * else a path resolved against the command's working directory. Every failure is one line naming
 * the flag, the file as the user wrote it, and what is wrong:
 *
 *   --events missing.jsonl: no such file
 *   --summary data/: is a directory
 *   --metrics-file secret.json: permission denied
 *   --events big.jsonl.gz: corrupt gzip data (unexpected end of file)
 */
export interface InputOptions {
  /** The flag (or role) named in errors, e.g. `--events`. */
  what: string;
  /** Relative paths are resolved against this directory (the command's `ctx.cwd`). */
  cwd: string;
  /** Read for `-`. */
  stdin: NodeJS.ReadableStream;
  /** Inflate gzip input, detected by its magic bytes rather than the file name. */
  gunzip?: boolean;
}

/** The absolute path of a file input (not meaningful for `-`). */
export function inputPath(file: string, cwd: string): string {
  return path.resolve(cwd, file);
}

/** The whole input as bytes (inflated when `gunzip` is set and it is gzip). */
export async function readInput(file: string, opts: InputOptions): Promise<Buffer> {
  let bytes: Buffer;
  try {
    if (file === '-') {
      const parts: Buffer[] = [];
      for await (const c of opts.stdin) parts.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
      bytes = Buffer.concat(parts);
    } else bytes = await readFile(inputPath(file, opts.cwd));
  } catch (err) {
    throw inputError(opts.what, file, err);
  }
  if (opts.gunzip && isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw inputError(opts.what, file, err);
    }
  }
  return bytes;
}

/** The whole input as UTF-8 text. */
export async function readInputText(file: string, opts: InputOptions): Promise<string> {
  return (await readInput(file, opts)).toString('utf8');
}

/**
 * The input as a stream of chunks (about 1 MiB each), inflated as it is read when `gunzip` is
 * set and the first bytes are gzip's magic number. Errors are raised, as InputErrors, by the
 * iteration.
 */
export async function* inputChunks(file: string, opts: InputOptions): AsyncGenerator<Buffer> {
  const raw = file === '-' ? opts.stdin : createReadStream(inputPath(file, opts.cwd), { highWaterMark: 1 << 20 });
  const it = (raw as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const asBuffer = (v: Buffer | string): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);
  const head: Buffer[] = [];
  let headLen = 0;
  try {
    while (headLen < 2) {
      const r = await it.next();
      if (r.done) break;
      const b = asBuffer(r.value);
      head.push(b);
      headLen += b.length;
    }
  } catch (err) {
    throw inputError(opts.what, file, err);
  }
  const first = Buffer.concat(head);
  if (first.length === 0) return;
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield asBuffer(r.value);
    }
  };
  try {
    if (!(opts.gunzip && isGzip(first))) {
      yield* rest();
      return;
    }
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    const feeder = Readable.from(rest());
    feeder.on('error', (err) => gunzip.destroy(err));
    feeder.pipe(gunzip);
    for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    throw inputError(opts.what, file, err);
  }
}
