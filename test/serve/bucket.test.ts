import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucket, fnv1a32, fnv1a32OfDecimal, growthbookHash, hashSlot, seeded } from '../../src/core/serve/bucket.js';
import { repoRoot } from '../helpers/cli.js';

const cases = JSON.parse(readFileSync(path.join(repoRoot, 'fixtures/growthbook/hash-cases.json'), 'utf8')) as {
  hash: [string, string, number, number | null][];
};

/** FNV-1a written the way GrowthBook's SDK writes it (shift-and-add multiply), to cross-check Math.imul. */
function shiftAddFnv(str: string): number {
  let hval = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    hval ^= str.charCodeAt(i);
    hval += (hval << 1) + (hval << 4) + (hval << 7) + (hval << 8) + (hval << 24);
  }
  return hval >>> 0;
}

describe('GrowthBook hash (fixtures/growthbook/hash-cases.json)', () => {
  it('has the published version-2 vectors', () => {
    expect(cases.hash.filter((c) => c[2] === 2)).toHaveLength(7);
  });

  it.each(cases.hash)('hash(%j, %j, v%i) = %j', (seed, value, version, expected) => {
    expect(growthbookHash(seed, value, version)).toBe(expected);
  });

  it('bucket and hashSlot are version 2', () => {
    expect(bucket('seed', 'a')).toBe(0.0505);
    expect(hashSlot('seed', 'a')).toBe(505);
    expect(hashSlot('foo', 'def')).toBe(2019);
  });
});

describe('fnv1a32', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('%j → %i (the FNV-1a 32-bit reference values)', (s, h) => {
    expect(fnv1a32(s)).toBe(h);
  });

  it('agrees with the shift-and-add form over UTF-16 code units, astral characters included', () => {
    const samples = ['user-1', 'é', '😀', 'ünïcödé-😀-x', 'x'.repeat(1000), '\u0000\uffff'];
    for (let i = 0; i < 200; i++) samples.push(`u${i * 7919}-${String.fromCharCode(i * 331)}`);
    for (const s of samples) expect(fnv1a32(s)).toBe(shiftAddFnv(s));
    // Two code units for an astral character, as charCodeAt sees it (not its UTF-8 bytes).
    expect(fnv1a32('😀')).toBe(shiftAddFnv('\ud83d\ude00'));
  });
});

describe('fnv1a32OfDecimal', () => {
  it('is fnv1a32(String(n)) across the unsigned 32-bit range, powers of ten and their neighbours included', () => {
    const ns = [0, 1, 9, 10, 11, 99, 100, 101, 999_999_999, 1_000_000_000, 1_000_000_001, 2 ** 32 - 1];
    for (let p = 1; p <= 1e9; p *= 10) ns.push(p - 1, p, p + 1);
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      ns.push(x);
    }
    for (const n of ns) expect(fnv1a32OfDecimal(n)).toBe(fnv1a32(String(n)));
  });
});

describe('seeded', () => {
  it('equals hashSlot(seed, unit) for every published v2 seed and many units', () => {
    for (const [seed] of cases.hash.filter((c) => c[2] === 2)) {
      const slotOf = seeded(seed);
      for (let i = 0; i < 300; i++) {
        const unit = `u${i}-${String.fromCharCode(40 + i * 97)}`;
        expect(slotOf(unit)).toBe(hashSlot(seed, unit));
      }
    }
  });
});
