/**
 * "Log an exposure at most once per unit per route revision per process", in bounded memory: two
 * generations of recently seen units. A unit is new unless it is in either generation; when the
 * current generation holds `capacity / 2` units it becomes the old one and the oldest is dropped.
 * So at most `capacity` units are remembered, and a unit seen again after about `capacity / 2`
 * other units may be logged twice — harmless, `mlv analyze` keeps each unit's first exposure.
 * A new route revision starts afresh: every unit is exposed again, once, under that revision.
 */
export class ExposureDedupe {
  private current = new Set<string>();
  private previous = new Set<string>();
  private revision: number | undefined;
  private readonly half: number;

  constructor(capacity = 200_000) {
    this.half = Math.max(1, Math.floor(capacity / 2));
  }

  /** True the first time (within the memory) `unit` is seen under `revision`. */
  firstSight(revision: number, unit: string): boolean {
    if (revision !== this.revision) {
      this.revision = revision;
      this.current = new Set();
      this.previous = new Set();
    }
    if (this.current.has(unit) || this.previous.has(unit)) return false;
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(unit);
    return true;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
