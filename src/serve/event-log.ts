import { open, mkdir, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';

/**
 * The event log of `mlv serve`: JSON Lines in the format `mlv analyze --events` reads. Writing
 * never blocks a request: lines go into an in-memory buffer that a background loop writes out
 * (one write at a time); when the buffer is over its bound, lines are dropped and counted. Files
 * rotate by size; their names carry host, pid and a sequence number, so several processes (or
 * pods) can write into one directory and `DIR/*.jsonl` reads them all.
 */

export interface EventLogOptions {
  /** A directory for the files, or "-" for stdout. */
  target: string;
  maxBytes: number;
  /** Buffered bytes beyond which lines are dropped (default 16 MiB). */
  maxBuffered?: number;
  /** How long a line may wait in the buffer (default 200 ms). */
  flushMs?: number;
  stdout?: Writable;
  onWritten?: (type: string, n: number) => void;
  onDropped?: (n: number) => void;
  onError?: (err: Error) => void;
}

export class EventLog {
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private types = new Map<string, number>();
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private file: FileHandle | undefined;
  private fileBytes = 0;
  private seq = 0;
  private closed = false;
  readonly prefix: string;
  dropped = 0;
  written = 0;
  /** The files written so far, oldest first. */
  readonly files: string[] = [];

  constructor(private readonly opts: EventLogOptions) {
    const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
    this.prefix = `serve-${host}-${process.pid}-${Date.now().toString(36)}`;
  }

  async open(): Promise<void> {
    if (this.opts.target !== '-') await mkdir(this.opts.target, { recursive: true });
  }

  /** Queues one event (an object serialised as one line). Never throws, never waits. */
  write(event: { type: string } & Record<string, unknown>): void {
    if (this.closed) return this.drop(1);
    const line = JSON.stringify(event) + '\n';
    if (this.bufferedBytes + line.length > (this.opts.maxBuffered ?? 16 * 1024 * 1024)) return this.drop(1);
    this.buffer.push(line);
    this.bufferedBytes += line.length;
    this.types.set(event.type, (this.types.get(event.type) ?? 0) + 1);
    if (this.bufferedBytes >= 64 * 1024) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.flushMs ?? 200);
  }

  private drop(n: number): void {
    this.dropped += n;
    this.opts.onDropped?.(n);
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
      if (this.buffer.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const lines = this.buffer;
      const types = this.types;
      this.buffer = [];
      this.bufferedBytes = 0;
      this.types = new Map();
      try {
        await this.writeLines(lines);
        this.written += lines.length;
        for (const [t, n] of types) this.opts.onWritten?.(t, n);
      } catch (err) {
        this.drop(lines.length);
        this.opts.onError?.(err as Error);
      }
    }
  }

  private async writeLines(lines: string[]): Promise<void> {
    if (this.opts.target === '-') {
      const out = this.opts.stdout ?? process.stdout;
      const text = lines.join('');
      await new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
      return;
    }
    // Rotate before a chunk that would cross the size limit (a file holds at least one chunk).
    let chunk: string[] = [];
    let chunkBytes = 0;
    const flushChunk = async () => {
      if (chunk.length === 0) return;
      const buf = Buffer.from(chunk.join(''));
      if (this.file && this.fileBytes > 0 && this.fileBytes + buf.length > this.opts.maxBytes) await this.rotate();
      if (!this.file) await this.openNext();
      await this.file!.write(buf);
      this.fileBytes += buf.length;
      chunk = [];
      chunkBytes = 0;
    };
    for (const line of lines) {
      const n = Buffer.byteLength(line);
      if (chunkBytes > 0 && this.fileBytes + chunkBytes + n > this.opts.maxBytes) {
        await flushChunk();
        await this.rotate();
      }
      chunk.push(line);
      chunkBytes += n;
    }
    await flushChunk();
  }

  private async openNext(): Promise<void> {
    const name = path.join(this.opts.target, `${this.prefix}-${String(this.seq++).padStart(4, '0')}.jsonl`);
    this.file = await open(name, 'a');
    this.fileBytes = 0;
    this.files.push(name);
  }

  private async rotate(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
  }

  /** Writes out everything buffered; later writes are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing || this.buffer.length > 0) {
      if (!this.writing) this.kick();
      await this.writing;
    }
    await this.file?.sync().catch(() => undefined);
    await this.file?.close();
    this.file = undefined;
  }
}
