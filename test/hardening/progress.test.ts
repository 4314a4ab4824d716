import { describe, expect, it } from 'vitest';
import { uploadProgress } from '../../src/registry/publish.js';

/** Issue 11: the upload shows %, rate and ETA (was only "uploading 89.8 MiB of 191 MiB"). */
describe('uploadProgress', () => {
  const MiB = 2 ** 20;
  it.each([
    [0, 191 * MiB, 0, 'uploading 0 B of 191 MiB (0%)'],
    [89.8 * MiB, 191 * MiB, 500, 'uploading 89.8 MiB of 191 MiB (47%)'],
    [50 * MiB, 100 * MiB, 5000, 'uploading 50.0 MiB of 100 MiB (50%, 10.0 MiB/s, ETA 5 s)'],
    [1 * MiB, 100 * MiB, 10_000, 'uploading 1.0 MiB of 100 MiB (1%, 102 KiB/s, ETA 17 min)'],
    [100 * MiB, 100 * MiB, 2000, 'uploading 100 MiB of 100 MiB (100%, 50.0 MiB/s, ETA 0 s)'],
  ])('%d of %d after %d ms', (sent, total, ms, expected) => {
    expect(uploadProgress(sent, total, ms)).toBe(expected);
  });
});
