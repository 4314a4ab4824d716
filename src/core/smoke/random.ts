/**
 * A seeded pseudo-random source for generated inputs, so `--seed 7` gives the same inputs on
 * every machine and Node version.
 *
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state advanced by 0x6D2B79F5 and mixed.
 * @example mulberry32(1)() // 0.6270739405881613
 */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal draws by the Box–Muller transform: z = √(−2 ln u₁) · cos(2π u₂), with u₁ in
 * (0, 1]. One pair of uniforms per draw (the sine half is discarded for simplicity).
 */
export function normal(uniform: () => number): () => number {
  return () => {
    const u1 = 1 - uniform();
    const u2 = uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
}
