import { growInt32 } from './bytes.js';

/**
 * Unit ids interned into dense integers without creating a string per row: an open-addressing
 * table over the ids' UTF-8 bytes (kept once, in an arena). About 30 bytes per unit.
 */
export class UnitTable {
  size = 0;
  arena: Uint8Array;
  private arenaTop = 0;
  /** Per unit, in insertion order: [hash, offset in arena, length]. */
  meta: Int32Array;
  /**
   * Open addressing: unit + 1 per slot (0 = empty). Only 4 bytes a slot, so the part of the table
   * a row touches at random stays small (8 MB for a million units) and mostly in cache; the
   * hash and key bytes it then checks are in insertion order, near the other recent units.
   */
  slots: Int32Array;
  private mask: number;

  /**
   * A small direct-mapped cache of recently seen units (256 KB, stays in L2): logs come in rough
   * time order, so the units of the next rows are mostly the recent ones, and the big table (and
   * its TLB misses, costly in a VM) is skipped.
   */
  private readonly recent = new Int32Array(1 << 16);

  /** Room for `capacity` units (a power of two) before the table grows. */
  constructor(capacity = 1024) {
    this.arena = new Uint8Array(Math.max(1 << 16, 16 * capacity));
    this.meta = new Int32Array(3 * capacity);
    this.slots = new Int32Array(2 * capacity);
    this.mask = 2 * capacity - 1;
  }

  /** The table as data: the ids' bytes, per unit [hash, offset in arena, length], and the slots. */
  exportState(): UnitTableState {
    return { size: this.size, arena: this.arena, meta: this.meta, slots: this.slots };
  }

  /** The id of buf[a, b) (hash h), or -1 when it is not in the table. */
  find(buf: Uint8Array, a: number, b: number, h: number): number {
    return findUnit(this, buf, a, b, h);
  }

  /** The id of buf[a, b) whose FNV-1a hash is h, adding it when new. */
  intern(buf: Uint8Array, a: number, b: number, h: number): number {
    const l = b - a;
    const meta = this.meta;
    const ri = h & 0xffff;
    const r = this.recent[ri]!;
    if (r !== 0) {
      const m = 3 * (r - 1);
      if (meta[m] === h && meta[m + 2] === l) {
        const arena = this.arena;
        const off = meta[m + 1]!;
        let i = 0;
        while (i < l && arena[off + i] === buf[a + i]) i++;
        if (i === l) return r - 1;
      }
    }
    const u = this.lookup(buf, a, b, h);
    this.recent[ri] = u + 1;
    return u;
  }

  private lookup(buf: Uint8Array, a: number, b: number, h: number): number {
    const l = b - a;
    const slots = this.slots;
    const meta = this.meta;
    let slot = h & this.mask;
    for (;;) {
      const s = slots[slot]!;
      if (s === 0) break;
      const m = 3 * (s - 1);
      if (meta[m] === h && meta[m + 2] === l) {
        const arena = this.arena;
        const off = meta[m + 1]!;
        let i = 0;
        while (i < l && arena[off + i] === buf[a + i]) i++;
        if (i === l) return s - 1;
      }
      slot = (slot + 1) & this.mask;
    }
    const u = this.size++;
    if (3 * u + 3 > this.meta.length) this.meta = growInt32(this.meta, this.meta.length * 2);
    if (this.arenaTop + l > this.arena.length) {
      const next = new Uint8Array(Math.max(this.arena.length * 2, this.arenaTop + l));
      next.set(this.arena.subarray(0, this.arenaTop));
      this.arena = next;
    }
    this.arena.set(buf.subarray(a, b), this.arenaTop);
    this.meta[3 * u] = h;
    this.meta[3 * u + 1] = this.arenaTop;
    this.meta[3 * u + 2] = l;
    this.arenaTop += l;
    slots[slot] = u + 1;
    if (this.size * 2 > this.mask + 1) this.rehash();
    return u;
  }

  private rehash(): void {
    const n = (this.mask + 1) * 2;
    const slots = new Int32Array(n);
    const mask = n - 1;
    for (let u = 0; u < this.size; u++) {
      let slot = this.meta[3 * u]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = u + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

export interface UnitTableState {
  size: number;
  arena: Uint8Array;
  meta: Int32Array;
  slots: Int32Array;
}

/** The id of buf[a, b) (hash h) in an exported table, or -1. */
export function findUnit(t: UnitTableState, buf: Uint8Array, a: number, b: number, h: number): number {
  const l = b - a;
  const { slots, meta, arena } = t;
  const mask = slots.length - 1;
  for (let slot = h & mask; ; slot = (slot + 1) & mask) {
    const s = slots[slot]!;
    if (s === 0) return -1;
    const m = 3 * (s - 1);
    if (meta[m] === h && meta[m + 2] === l) {
      const off = meta[m + 1]!;
      let i = 0;
      while (i < l && arena[off + i] === buf[a + i]) i++;
      if (i === l) return s - 1;
    }
  }
}
