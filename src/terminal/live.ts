import type { Writable } from 'node:stream';

/**
 * A block of lines redrawn in place on a terminal (the live view of `mlv rollout run`): each
 * `draw` moves the cursor back over the previous block and clears it before writing the new one.
 */
export class LiveBlock {
  private lines = 0;
  constructor(private readonly out: Writable) {}

  draw(text: string): void {
    const clear = this.lines > 0 ? `\x1b[${this.lines}F\x1b[J` : '';
    this.out.write(clear + text + '\n');
    this.lines = text.split('\n').length;
  }

  /** Leaves the last block on screen; the next write starts below it. */
  done(): void {
    this.lines = 0;
  }
}
