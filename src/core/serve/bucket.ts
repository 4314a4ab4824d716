/**
 * Deterministic bucketing, bit-for-bit the same as GrowthBook's JavaScript SDK (`hash()` in
 * packages/sdk-js/src/util.ts of growthbook/growthbook), so any service with a GrowthBook SDK, or
 * the ten lines below, puts a unit in the same bucket as `mlv serve`.
 *
 * Hash version 2 (the one mlv uses):
 *   slot   = fnv1a32(String(fnv1a32(seed + unit))) mod 10000      an integer 0 … 9999
 *   bucket = slot / 10000                                           a number in [0, 1)
 * Hash version 1 (GrowthBook's legacy one, kept for the published vectors):
 *   bucket = (fnv1a32(unit + seed) mod 1000) / 1000
 * fnv1a32 is 32-bit FNV-1a over the string's UTF-16 code units (JavaScript's `charCodeAt`, not
 * UTF-8 bytes): h = 0x811c9dc5; for each code unit c: h = ((h xor c) × 16777619) mod 2³²; and
 * String(n) is the decimal digits of that unsigned integer.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;

/**
 * 32-bit FNV-1a over UTF-16 code units, as an unsigned integer.
 * @example fnv1a32('a') // 3826002220
 */
export function fnv1a32(s: string): number {
  return fnv1a32Continue(FNV_OFFSET, s);
}

/** FNV-1a of `prefix + s` given `state = fnv1a32(prefix)`: hashing a seed once, then only each unit. */
export function fnv1a32Continue(state: number, s: string): number {
  let h = state;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  }
  return h >>> 0;
}

/** The number of slots in hash version 2: weights with two decimals are whole numbers of slots. */
export const SLOTS = 10000;

/**
 * The version-2 slot of `unit` under `seed`: fnv1a32(String(fnv1a32(seed + unit))) mod 10000.
 * @example hashSlot('seed', 'a') // 505
 */
export function hashSlot(seed: string, unit: string): number {
  return fnv1a32(String(fnv1a32(seed + unit))) % SLOTS;
}

/**
 * hashSlot for a seed hashed once: `seeded(seed)(unit) === hashSlot(seed, unit)`, without building
 * the string seed + unit per call (the hot path of `mlv serve`).
 */
export function seeded(seed: string): (unit: string) => number {
  const state = fnv1a32(seed);
  return (unit) => fnv1a32OfDecimal(fnv1a32Continue(state, unit)) % SLOTS;
}

const POW10 = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/** fnv1a32(String(n)) for an unsigned 32-bit integer n, digit by digit, without making the string. */
export function fnv1a32OfDecimal(n: number): number {
  let h = FNV_OFFSET;
  let i = 0;
  while (i < 9 && POW10[i]! > n) i++;
  for (; i < 10; i++) {
    const d = Math.floor(n / POW10[i]!) % 10;
    h = Math.imul(h ^ (48 + d), FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * GrowthBook's `hash(seed, value, version)`: a bucket in [0, 1), or null for an unknown version.
 * @example growthbookHash('seed', 'a', 2) // 0.0505
 */
export function growthbookHash(seed: string, unit: string, version: number): number | null {
  if (version === 2) return hashSlot(seed, unit) / SLOTS;
  if (version === 1) return (fnv1a32(unit + seed) % 1000) / 1000;
  return null;
}

/** The version-2 bucket of `unit` under `seed`, in [0, 1). */
export function bucket(seed: string, unit: string): number {
  return hashSlot(seed, unit) / SLOTS;
}
