import { stat } from 'node:fs/promises';
import { type InputOptions, inputChunks, inputName, inputPath } from '../input.js';
import { EventsAccumulator } from './accumulator.js';
import type { EventSource, EventsResult, ParallelOptions, ReadEventsOptions } from './types.js';

/**
 * A file path (resolved against `cwd`), or `-` for `stdin`. Gzip is detected by its magic bytes,
 * not the name.
 */
export function eventSource(name: string, io: Pick<InputOptions, 'cwd' | 'stdin'>): EventSource {
  return {
    name: inputName(name),
    ...(name === '-' ? {} : { path: inputPath(name, io.cwd) }),
    chunks: () => inputChunks(name, { what: '--events', gunzip: true, ...io }),
  };
}

/**
 * Reads every source (line numbers per source) and returns per-variant sufficient statistics.
 * With `parallel.threads` > 1 the input is read by that many threads (parallel.ts), with the
 * same result; else in turn, here. Lines are split at newline bytes, so UTF-8 sequences are
 * never cut.
 */
export async function readEvents(
  sources: EventSource[],
  opts: ReadEventsOptions,
  onProgress?: (rows: number) => void,
  parallel?: ParallelOptions,
): Promise<EventsResult> {
  if (parallel !== undefined && parallel.threads > 1) {
    const { readEventsParallel } = await import('./parallel.js');
    const r = await readEventsParallel(sources, opts, parallel, onProgress);
    if (r !== undefined) return r;
  }
  return readSequentially(sources, opts, onProgress);
}

async function readSequentially(
  sources: EventSource[],
  opts: ReadEventsOptions,
  onProgress?: (rows: number) => void,
): Promise<EventsResult> {
  const acc = new EventsAccumulator(opts, await plainSize(sources));
  for (const src of sources) {
    acc.beginFile(src.name);
    let carry: Buffer | undefined;
    let lastReport = 0;
    for await (const chunk of src.chunks()) {
      const nl = chunk.lastIndexOf(10);
      if (nl === -1) {
        carry = carry ? Buffer.concat([carry, chunk]) : chunk;
        continue;
      }
      let from = 0;
      if (carry) {
        // Complete the carried partial line first; the rest of the chunk is read in place.
        const first = chunk.indexOf(10);
        const joined = Buffer.concat([carry, chunk.subarray(0, first + 1)]);
        acc.push(joined, 0, joined.length);
        from = first + 1;
      }
      if (from < nl + 1) acc.push(chunk, from, nl + 1);
      carry = nl + 1 < chunk.length ? Buffer.from(chunk.subarray(nl + 1)) : undefined;
      if (onProgress && acc.rows - lastReport >= 1_000_000) {
        lastReport = acc.rows;
        onProgress(acc.rows);
      }
    }
    if (carry && carry.length > 0) acc.push(carry, 0, carry.length);
  }
  return acc.finish(sources.map((s) => s.name));
}

/** The bytes of the sources that are files (to size the tables; 0 for the others, or when unreadable). */
async function plainSize(sources: EventSource[]): Promise<number> {
  const size = async (path: string | undefined): Promise<number> => {
    if (path === undefined) return 0;
    try {
      const st = await stat(path);
      return st.isFile() ? st.size : 0;
    } catch {
      return 0; // reported when it is read
    }
  };
  const sizes = await Promise.all(sources.map((s) => size(s.path)));
  return sizes.reduce((a, b) => a + b, 0);
}
