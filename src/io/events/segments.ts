import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { EventsAccumulator, SegmentStart } from './accumulator.js';
import { text } from './bytes.js';
import { csvLayout } from './csv.js';

/**
 * Segments: the pieces of the input that readers in parallel take (parallel.ts). A segment is a
 * run of whole lines of one file; segments are numbered in input order (`id`: source index × 2^24
 * + piece), which is all the merge needs to put things back in order.
 *
 * A plain file is cut into byte ranges. A range [start, end) owns the lines that start in it:
 * the reader of a range that does not begin the file skips to the first newline at or after
 * start − 1, and reads on past `end` to the newline ending the last line it owns. So every line
 * is read once, by exactly one reader, wherever the cuts fall. The file's format (JSON Lines, or
 * CSV and its header) is known from its first non-blank line, which always lies in the first
 * range; the other ranges are told it.
 */

export interface RangeSegment {
  id: number;
  name: string;
  path: string;
  start: number;
  end: number;
  /** Set for every range but the first of a file. */
  begin?: SegmentStart;
}

/** Piece numbers are below 2^24 within a source. */
export const PIECES = 2 ** 24;

/**
 * Where the first non-blank line of a file ends, and the format it sets (no `start` when it is
 * not a valid CSV header: the reader of the first segment then fails, as one reader would);
 * undefined when that line is not complete in `head` (`whole`: head is the whole file).
 */
export function detectStart(head: Buffer, whole: boolean): { end: number; start?: SegmentStart } | undefined {
  let pos = 0;
  let first = true;
  while (pos < head.length) {
    let a = pos;
    if (first && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) a += 3;
    first = false;
    let nl = head.indexOf(10, a);
    if (nl === -1) {
      if (!whole) return undefined;
      nl = head.length;
    }
    const blank = (c: number): boolean => c === 32 || c === 9;
    let b = nl;
    while (b > a && (head[b - 1] === 13 || blank(head[b - 1]!))) b--;
    let s = a;
    while (s < b && blank(head[s]!)) s++;
    if (s < b) {
      if (head[s] === 123) return { end: nl + 1, start: { format: 'json' } };
      const header = text(head, s, b);
      if (csvLayout(header) === null) return { end: nl + 1 };
      return { end: nl + 1, start: { format: 'csv', header } };
    }
    pos = nl + 1;
  }
  return undefined;
}

/** Cuts a plain file of `size` bytes into ranges of about `chunk` bytes (one when `start` is unknown). */
export function planRanges(
  source: number,
  name: string,
  path: string,
  size: number,
  chunk: number,
  first: { end: number; start?: SegmentStart } | undefined,
): RangeSegment[] {
  const id = (k: number): number => source * PIECES + k;
  const format = first?.start;
  if (first === undefined || format === undefined || size <= first.end)
    return [{ id: id(0), name, path, start: 0, end: size }];
  const n = Math.min(PIECES - 1, Math.max(1, Math.round(size / chunk)));
  const cuts = [0];
  for (let i = 1; i < n; i++) {
    const b = Math.max(first.end, Math.floor((i * size) / n));
    if (b > cuts[cuts.length - 1]! && b < size) cuts.push(b);
  }
  cuts.push(size);
  return cuts.slice(0, -1).map((start, k) => ({
    id: id(k),
    name,
    path,
    start,
    end: cuts[k + 1]!,
    ...(k > 0 ? { begin: format } : {}),
  }));
}

/** Reads the lines a range owns into `acc` (one segment). */
export async function readRange(acc: EventsAccumulator, seg: RangeSegment, onBlock?: () => void): Promise<void> {
  acc.beginSegment(seg.name, seg.id, seg.begin);
  const fh = await open(seg.path, 'r');
  try {
    await readOwnedLines(fh, seg.start, seg.end, (buf, a, b) => {
      acc.push(buf, a, b);
      onBlock?.();
    });
  } finally {
    await fh.close();
  }
  acc.endSegment();
}

async function readOwnedLines(
  fh: FileHandle,
  start: number,
  end: number,
  lines: (buf: Buffer, a: number, b: number) => void,
): Promise<void> {
  let buf = Buffer.allocUnsafe(Math.min(1 << 20, end - start + 4096)); // grows for a longer line
  let off = start > 0 ? start - 1 : 0; // file offset of buf[0]
  let have = 0;
  let from = 0; // start of the next line in buf, once found
  let skipping = start > 0;
  for (;;) {
    if (have === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
      buf.copy(bigger, 0, 0, have);
      buf = bigger;
    }
    const { bytesRead } = await fh.read(buf, have, buf.length - have, off + have);
    const eof = bytesRead === 0;
    have += bytesRead;
    if (skipping) {
      const nl = buf.indexOf(10);
      if (nl === -1 || nl >= have) {
        if (eof) return;
        off += have;
        have = 0;
        continue;
      }
      skipping = false;
      from = nl + 1;
    }
    if (off + from >= end) return;
    // The last line owned ends at the first newline at or after end − 1.
    const stop = buf.indexOf(10, Math.max(from, end - 1 - off));
    if (stop !== -1 && stop < have) {
      if (stop + 1 > from) lines(buf, from, stop + 1);
      return;
    }
    if (eof) {
      if (have > from) lines(buf, from, have);
      return;
    }
    const last = buf.lastIndexOf(10, have - 1);
    if (last >= from) {
      lines(buf, from, last + 1);
      from = last + 1;
    }
    buf.copy(buf, 0, from, have);
    off += from;
    have -= from;
    from = 0;
  }
}
