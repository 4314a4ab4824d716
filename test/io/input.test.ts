import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { inputChunks, inputError, readInput, readInputText } from '../../src/io/input.js';

async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

describe('readInput / inputChunks: one reader for a file or stdin', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlv-input-'));
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'sub', 'a.txt'), 'hello\n');
  writeFileSync(path.join(dir, 'sub', 'a.txt.gz'), gzipSync('hello\n'));
  writeFileSync(path.join(dir, 'sub', 'bad.gz'), gzipSync('hello hello hello\n').subarray(0, 12));
  const io = (stdin = new PassThrough()) => ({ what: '--file', cwd: dir, stdin });

  it('resolves a relative path against cwd, and reads - from the given stdin', async () => {
    expect(await readInputText('sub/a.txt', io())).toBe('hello\n');
    expect(await collect(inputChunks('sub/a.txt', io()))).toBe('hello\n');
    const stdin = new PassThrough();
    stdin.end('from stdin');
    expect(await readInputText('-', io(stdin))).toBe('from stdin');
    const stdin2 = new PassThrough();
    stdin2.end('streamed');
    expect(await collect(inputChunks('-', io(stdin2)))).toBe('streamed');
  });

  it('inflates gzip (by magic bytes) only when asked', async () => {
    expect(await readInputText('sub/a.txt.gz', { ...io(), gunzip: true })).toBe('hello\n');
    expect(await collect(inputChunks('sub/a.txt.gz', { ...io(), gunzip: true }))).toBe('hello\n');
    expect((await readInput('sub/a.txt.gz', io()))[0]).toBe(0x1f);
  });

  it.each([
    ['missing.txt', '--file missing.txt: no such file'],
    ['sub/a.txt/x', '--file sub/a.txt/x: no such file'],
    ['sub', '--file sub: is a directory'],
  ])('%s: one line naming the flag, the file and what is wrong', async (file, message) => {
    await expect(readInput(file, io())).rejects.toThrow(new InputError(message));
    await expect(collect(inputChunks(file, io()))).rejects.toThrow(new InputError(message));
  });

  it('corrupt gzip is named as such', async () => {
    const opts = { ...io(), gunzip: true };
    await expect(readInput('sub/bad.gz', opts)).rejects.toThrow(/^--file sub\/bad\.gz: corrupt gzip data \(/);
    await expect(collect(inputChunks('sub/bad.gz', opts))).rejects.toThrow(/^--file sub\/bad\.gz: corrupt gzip data/);
  });

  it('an unreadable file (EACCES; not reproducible as root, so from the error) and other errors', () => {
    const err = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(inputError('--events', 'x.jsonl', err('EACCES', 'EACCES: permission denied, open')).message).toBe(
      '--events x.jsonl: permission denied',
    );
    expect(inputError('--events', '-', err('EIO', 'EIO: i/o error, read')).message).toBe(
      '--events <stdin>: EIO: i/o error, read',
    );
  });
});
