import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/serve/event-log.js';
import { tempDir } from '../helpers/cli.js';

const exposure = (i: number) => ({
  type: 'exposure',
  experiment: 'e',
  unit: `u${i}`,
  variant: 'stable',
  ts: '2026-01-01T00:00:00.000Z',
});

describe('EventLog', () => {
  it('writes JSON Lines, rotating before a file would pass maxBytes', async () => {
    const dir = tempDir('mlv-event-log-');
    const written: Record<string, number> = {};
    const log = new EventLog({
      target: dir,
      maxBytes: 1000,
      flushMs: 1,
      onWritten: (t, n) => (written[t] = (written[t] ?? 0) + n),
    });
    await log.open();
    for (let i = 0; i < 100; i++) log.write(exposure(i));
    await log.close();
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(5);
    expect(files.every((f) => f.startsWith(log.prefix) && f.endsWith('.jsonl'))).toBe(true);
    for (const f of files) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(1000);
    const lines = files.flatMap((f) => readFileSync(path.join(dir, f), 'utf8').trim().split('\n'));
    expect(lines.map((l) => JSON.parse(l).unit)).toEqual(Array.from({ length: 100 }, (_, i) => `u${i}`));
    expect(written).toEqual({ exposure: 100 });
    expect(log.written).toBe(100);
    expect(log.dropped).toBe(0);
  });

  it('drops and counts lines beyond its buffer instead of waiting, and after close', async () => {
    const out = new PassThrough();
    let dropped = 0;
    const log = new EventLog({
      target: '-',
      stdout: out,
      maxBytes: 1e9,
      maxBuffered: 500,
      onDropped: (n) => (dropped += n),
    });
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    for (let i = 0; i < 20; i++) log.write(exposure(i));
    await log.close();
    log.write(exposure(99));
    const lines = Buffer.concat(chunks).toString().trim().split('\n');
    // Each line is 100 bytes: 5 fit in 500 buffered bytes; 15 more and the one after close are dropped.
    expect(JSON.stringify(exposure(0)).length + 1).toBe(100);
    expect(lines).toHaveLength(5);
    expect(dropped).toBe(16);
    expect(log.dropped).toBe(16);
  });
});
