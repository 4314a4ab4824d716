import { describe, expect, it } from 'vitest';
import { hashSlot } from '../../src/core/serve/bucket.js';
import {
  abRoute,
  assign,
  canaryRoute,
  inShadow,
  lane,
  parseRoute,
  routeJson,
  type Route,
  type RouteSpec,
} from '../../src/core/serve/route.js';
import { InputError } from '../../src/errors.js';

const stable = { version: '3', ref: '@production' };
const canary = (weight: number, extra: Partial<Parameters<typeof canaryRoute>[0]> = {}) =>
  canaryRoute({ model: 'churn', stable, candidate: { version: '4', ref: 'v1.1.0', weight }, ...extra });
const units = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);

/**
 * ±4σ of a binomial count: σ = sqrt(n·p·(1−p)). For n = 20000, p = 0.25 this is 61.237
 * (scipy: `scipy.stats.binom(20000, 0.25).std()` → 61.2372…); the bound fails by chance with
 * probability 6.3e-5 (`2 * scipy.stats.norm.sf(4)`).
 */
const fourSigma = (n: number, p: number) => 4 * Math.sqrt(n * p * (1 - p));

describe('canaryRoute', () => {
  it('builds the documented shape with stable taking the remainder', () => {
    const r = canary(5);
    expect(r).toEqual({
      model: 'churn',
      experiment: 'churn',
      salt: 'churn',
      hash_version: 2,
      stable,
      candidate: { version: '4', ref: 'v1.1.0', weight: 5 },
      variants: [
        { name: 'stable', version: '3', ref: '@production', weight: 95 },
        { name: 'candidate', version: '4', ref: 'v1.1.0', weight: 5 },
      ],
      shadow: null,
    });
  });

  it('salt defaults to the experiment, which defaults to the model', () => {
    expect(canary(5, { experiment: 'exp1' }).salt).toBe('exp1');
    expect(canary(5, { experiment: 'exp1', salt: 's' }).salt).toBe('s');
  });

  it('a unit is in the candidate iff bucket < weight / 100', () => {
    const r = canary(12.34);
    for (const u of units(3000)) {
      const inCandidate = hashSlot('churn', u) / 10000 < 12.34 / 100;
      expect(assign(r, u).variant).toBe(inCandidate ? 'candidate' : 'stable');
    }
  });

  it('ramps monotonically 5 → 25 → 50 → 25: units only move stable → candidate going up, back going down', () => {
    const steps = [5, 25, 50, 25, 0].map((w) => canary(w));
    let before = units(20000).map((u) => assign(steps[0]!, u).variant);
    for (let i = 1; i < steps.length; i++) {
      const after = units(20000).map((u) => assign(steps[i]!, u).variant);
      const up = steps[i]!.candidate!.weight > steps[i - 1]!.candidate!.weight;
      const wrongWay = after.filter((v, k) => v !== before[k] && v === (up ? 'stable' : 'candidate')).length;
      const moved = after.filter((v, k) => v !== before[k]).length;
      expect(wrongWay).toBe(0);
      expect(moved).toBeGreaterThan(0);
      before = after;
    }
    expect(before.every((v) => v === 'stable')).toBe(true);
  });

  it.each([5, 25, 50])('splits 20000 units at weight %i within ±4σ', (w) => {
    const n = 20000;
    const r = canary(w);
    const hits = units(n).filter((u) => assign(r, u).variant === 'candidate').length;
    expect(Math.abs(hits - (n * w) / 100)).toBeLessThanOrEqual(fourSigma(n, w / 100));
  });

  it('a request without a unit goes to stable', () => {
    expect(assign(canary(100), undefined)).toEqual({ variant: 'stable', version: '3', slot: null });
    expect(assign(canary(100), '')).toEqual({ variant: 'stable', version: '3', slot: null });
    expect(assign(canary(100), 'u1')).toMatchObject({ variant: 'candidate', version: '4' });
  });
});

describe('abRoute', () => {
  const ab = (a: number, b: number, c: number) =>
    abRoute({
      model: 'churn',
      stable,
      variants: [
        { name: 'b', version: '5', ref: '5', weight: b },
        { name: 'a', version: '4', ref: '4', weight: a },
        { name: 'c', version: '6', ref: '6', weight: c },
      ],
    });

  it('orders arms stable, then by name, and gives stable the remainder', () => {
    expect(ab(20, 30, 10).variants.map((v) => [v.name, v.weight])).toEqual([
      ['stable', 40],
      ['a', 20],
      ['b', 30],
      ['c', 10],
    ]);
  });

  it('gives arm i of m the lane starting at floor(i·10000/m)', () => {
    expect([0, 1, 2].map((i) => lane(i, 3))).toEqual([
      { start: 0, end: 3333 },
      { start: 3333, end: 6666 },
      { start: 6666, end: 10000 },
    ]);
    const r = ab(20, 30, 10);
    for (const u of units(2000)) {
      const s = hashSlot('churn', u);
      const expected = s < 2000 ? 'a' : s >= 3333 && s < 6333 ? 'b' : s >= 6666 && s < 7666 ? 'c' : 'stable';
      expect(assign(r, u)).toEqual({
        variant: expected,
        version: { a: '4', b: '5', c: '6', stable: '3' }[expected],
        slot: s,
      });
    }
  });

  it("changing one arm's weight moves units only between that arm and stable", () => {
    const before = ab(20, 30, 10);
    const after = ab(20, 15, 10);
    const moves = new Map<string, number>();
    for (const u of units(20000)) {
      const x = assign(before, u).variant;
      const y = assign(after, u).variant;
      if (x !== y) moves.set(`${x}→${y}`, (moves.get(`${x}→${y}`) ?? 0) + 1);
    }
    expect([...moves.keys()]).toEqual(['b→stable']);
    const moved = moves.get('b→stable')!;
    expect(moved).toBeGreaterThan(0);
  });

  it('splits 20000 units within ±4σ for every arm', () => {
    const r = ab(20, 30, 10);
    const n = 20000;
    const counts = new Map<string, number>();
    for (const u of units(n)) {
      const v = assign(r, u).variant;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const v of r.variants) {
      expect(Math.abs((counts.get(v.name) ?? 0) - (n * v.weight) / 100)).toBeLessThanOrEqual(
        fourSigma(n, v.weight / 100),
      );
    }
  });

  it.each([
    [
      [{ name: 'stable', version: '4', ref: '4', weight: 10 }],
      'route: variants[0].name must be a name other than "stable" and "candidate"',
    ],
    [[{ name: 'bad name', version: '4', ref: '4', weight: 10 }], 'route: variants[0].name must be a variant name'],
    [
      [
        { name: 'a', version: '4', ref: '4', weight: 60 },
        { name: 'b', version: '5', ref: '5', weight: 50 },
      ],
      'route: the weights of the arms besides stable must be at most 100 in total, got 110',
    ],
    [
      [
        { name: 'a', version: '4', ref: '4', weight: 60 },
        { name: 'b', version: '5', ref: '5', weight: 10 },
      ],
      'route: variants["a"].weight must be at most 50 with 2 arms besides stable',
    ],
    [
      [{ name: 'a', version: '4', ref: '4', weight: 10.001 }],
      'route: variants[0].weight must be a number 0–100 with at most 2 decimals, got 10.001',
    ],
  ])('refuses %j', (variants, message) => {
    expect(() => abRoute({ model: 'm', stable, variants })).toThrow(InputError);
    expect(() => abRoute({ model: 'm', stable, variants })).toThrow(message);
  });
});

describe('inShadow', () => {
  it('copies about percent % of keys, independently of the arm', () => {
    const r = canary(50, { shadow: { version: '5', ref: '5', percent: 20 } });
    const n = 20000;
    let shadowed = 0;
    let shadowedCandidate = 0;
    for (const u of units(n)) {
      if (inShadow(r, u)) {
        shadowed++;
        if (assign(r, u).variant === 'candidate') shadowedCandidate++;
      }
    }
    expect(Math.abs(shadowed - n * 0.2)).toBeLessThanOrEqual(fourSigma(n, 0.2));
    expect(Math.abs(shadowedCandidate - shadowed * 0.5)).toBeLessThanOrEqual(fourSigma(shadowed, 0.5));
  });

  it('is all or nothing at 100 and 0 and without a shadow', () => {
    expect(inShadow(canary(5, { shadow: { version: '5', ref: '5', percent: 100 } }), 'x')).toBe(true);
    expect(inShadow(canary(5, { shadow: { version: '5', ref: '5', percent: 0 } }), 'x')).toBe(false);
    expect(inShadow(canary(5), 'x')).toBe(false);
  });
});

describe('parseRoute', () => {
  const stored: Route = { ...canary(5), revision: 7, updated_by: 'ana@host', updated_at: '2026-12-01T10:00:00.000Z' };

  it('round-trips routeJson', () => {
    expect(parseRoute(routeJson(stored), 'tag')).toEqual(stored);
    expect(parseRoute(JSON.parse(routeJson(stored)) as unknown, 'tag')).toEqual(stored);
  });

  it('fills defaults for a minimal hand-written file and ignores unknown fields', () => {
    const r = parseRoute({
      model: 'churn',
      stable: { version: 3 },
      candidate: { version: '4', weight: 10 },
      future: 1,
    });
    expect(r).toEqual({
      model: 'churn',
      revision: 0,
      experiment: 'churn',
      salt: 'churn',
      hash_version: 2,
      stable: { version: '3', ref: '3' },
      candidate: { version: '4', ref: '4', weight: 10 },
      variants: [
        { name: 'stable', version: '3', ref: '3', weight: 90 },
        { name: 'candidate', version: '4', ref: '4', weight: 10 },
      ],
      shadow: null,
      updated_by: null,
      updated_at: null,
    });
  });

  it('assigns identically after a round trip', () => {
    const again = parseRoute(routeJson(stored));
    for (const u of units(500)) expect(assign(again, u)).toEqual(assign(stored as RouteSpec, u));
  });

  const base = JSON.parse(routeJson(stored)) as Record<string, unknown>;
  const withField = (patch: Record<string, unknown>) => ({ ...base, ...patch });
  it.each([
    ['{', 'f.json: not valid JSON'],
    [[], 'f.json: the route must be a JSON object, got []'],
    [withField({ model: '' }), 'f.json: model must be a non-empty string'],
    [withField({ revision: -1 }), 'f.json: revision must be an integer ≥ 0, got -1'],
    [withField({ revision: 1.5 }), 'f.json: revision must be an integer ≥ 0, got 1.5'],
    [withField({ hash_version: 1 }), 'f.json: hash_version must be 2'],
    [withField({ experiment: 7 }), 'f.json: experiment must be a non-empty string'],
    [withField({ salt: '' }), 'f.json: salt must be a non-empty string'],
    [withField({ stable: null }), 'f.json: stable must be an object {"version", "ref"}, got null'],
    [withField({ stable: { version: 'three' } }), 'f.json: stable.version must be a version number ("3"), got "three"'],
    [withField({ stable: { version: '0' } }), 'f.json: stable.version must be a version number ("3"), got "0"'],
    [
      withField({ candidate: { version: '4', ref: '4', weight: 101 } }),
      'f.json: candidate.weight must be a number 0–100 with at most 2 decimals, got 101',
    ],
    [
      withField({ candidate: { version: '4', ref: '4', weight: -1 } }),
      'f.json: candidate.weight must be a number 0–100',
    ],
    [
      withField({ candidate: { version: '4', ref: '4', weight: '5' } }),
      'f.json: candidate.weight must be a number 0–100 with at most 2 decimals, got "5"',
    ],
    [
      withField({ candidate: { version: '4', ref: '4', weight: 6 } }),
      'f.json: variants["candidate"].weight must be candidate.weight 6, got 5',
    ],
    [withField({ candidate: null }), 'f.json: candidate must be set when variants has a "candidate" arm, got null'],
    [
      withField({ shadow: { version: '5', ref: '5', percent: 100.5 } }),
      'f.json: shadow.percent must be a number 0–100 with at most 2 decimals, got 100.5',
    ],
    [withField({ shadow: { version: '5', ref: '5' } }), 'f.json: shadow.percent must be a number 0–100'],
    [withField({ variants: [] }), 'f.json: variants must be a non-empty array'],
    [
      withField({
        variants: [
          { name: 'stable', version: '3', ref: '3', weight: 95 },
          { name: 'candidate', version: '4', ref: '4', weight: 4 },
        ],
      }),
      'f.json: variants["candidate"].weight must be candidate.weight 5, got 4',
    ],
    [
      withField({
        candidate: null,
        variants: [
          { name: 'stable', version: '3', ref: '3', weight: 95 },
          { name: 'a', version: '4', ref: '4', weight: 4 },
        ],
      }),
      'f.json: variants must be weights summing to 100, got 99',
    ],
    [
      withField({
        variants: [
          { name: 'stable', version: '9', ref: '3', weight: 95 },
          { name: 'candidate', version: '4', ref: '4', weight: 5 },
        ],
      }),
      'f.json: variants["stable"].version must be the stable version 3, got "9"',
    ],
    [
      withField({ variants: [{ name: 'candidate', version: '4', ref: '4', weight: 100 }] }),
      'f.json: variants must be to contain the "stable" arm',
    ],
    [
      withField({
        variants: [
          { name: 'stable', version: '3', ref: '3', weight: 95 },
          { name: 'stable', version: '3', ref: '3', weight: 5 },
        ],
      }),
      'f.json: variants[1].name must be unique, got "stable"',
    ],
    [
      withField({
        variants: [
          { name: 'stable', version: '3', ref: '3', weight: 95 },
          { name: 'x y', version: '4', ref: '4', weight: 5 },
        ],
      }),
      'f.json: variants[1].name must be a variant name',
    ],
    [withField({ updated_at: 'yesterday' }), 'f.json: updated_at must be an ISO 8601 time, got "yesterday"'],
  ])('case %# → %s', (input, message) => {
    let thrown: unknown;
    try {
      parseRoute(input, 'f.json');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as Error).message).toContain(message);
    expect((thrown as Error).message).not.toContain('\n');
  });
});
