import { mulberry32 } from '../../src/core/smoke/random.js';

/**
 * Seeded synthetic experiment data for the analyze tests: exposures and metric observations of
 * `units` units in two arms (plus a few units exposed to both), with pre-exposure activity, late
 * observations and rows in shuffled order. Values are multiples of 1/4 so every sum is exact in
 * binary floating point, whatever the order of addition (SQL engines and JS agree to the bit).
 */
export interface Exposure {
  experiment: string;
  unit: string;
  variant: string;
  ts: number;
}
export interface Observation {
  unit: string;
  metric: string;
  value: number | null;
  ts: number;
}

/** The seeded generator of src/core/smoke/random.ts (mulberry32). */
export const rng = mulberry32;

const DAY = 86_400_000;
export const START = Date.UTC(2024, 4, 1);

export function syntheticExperiment(opts: { units: number; seed: number; lift?: number; convLift?: number }) {
  const rand = rng(opts.seed);
  const exposures: Exposure[] = [];
  const observations: Observation[] = [];
  for (let i = 0; i < opts.units; i++) {
    const unit = `u${i}`;
    const treat = rand() < 0.5;
    const variant = treat ? 'treatment' : 'control';
    const first = START + Math.floor(rand() * 10 * DAY);
    exposures.push({ experiment: 'exp', unit, variant, ts: first });
    if (rand() < 0.3) exposures.push({ experiment: 'exp', unit, variant, ts: first + Math.floor(rand() * 3 * DAY) });
    if (rand() < 0.02)
      exposures.push({ experiment: 'exp', unit, variant: treat ? 'control' : 'treatment', ts: first + 1000 });
    if (rand() < 0.05) exposures.push({ experiment: 'other', unit, variant: 'control', ts: first - DAY });
    const level = 1 + Math.floor(rand() * 40); // the unit's spending level: drives pre and post values
    const nPre = Math.floor(rand() * 3);
    for (let k = 0; k < nPre; k++) {
      observations.push({
        unit,
        metric: 'revenue',
        value: (level + Math.floor(rand() * 8)) / 4,
        ts: first - 1 - Math.floor(rand() * 20 * DAY),
      });
    }
    const nPost = Math.floor(rand() * 4);
    for (let k = 0; k < nPost; k++) {
      const v = (level + Math.floor(rand() * 8) + (treat ? (opts.lift ?? 0) : 0)) / 4;
      observations.push({
        unit,
        metric: 'revenue',
        value: k === 2 ? null : v,
        ts: first + Math.floor(rand() * 5 * DAY),
      });
    }
    const pConv = 0.1 + (treat ? (opts.convLift ?? 0) : 0);
    if (rand() < pConv)
      observations.push({ unit, metric: 'converted', value: 1, ts: first + Math.floor(rand() * 5 * DAY) });
    if (rand() < 0.1)
      observations.push({ unit, metric: 'converted', value: 0, ts: first + Math.floor(rand() * 5 * DAY) });
    if (rand() < 0.05) observations.push({ unit, metric: 'converted', value: 1, ts: first - DAY }); // before exposure
  }
  // Observations of units never exposed.
  for (let i = 0; i < opts.units / 20; i++) {
    observations.push({ unit: `x${i}`, metric: 'revenue', value: 3, ts: START + Math.floor(rand() * 10 * DAY) });
  }
  const iso = (t: number) => new Date(t).toISOString();
  const lines = [
    ...exposures.map((e) =>
      JSON.stringify({ type: 'exposure', experiment: e.experiment, unit: e.unit, variant: e.variant, ts: iso(e.ts) }),
    ),
    ...observations.map((o) =>
      JSON.stringify({
        type: 'metric',
        unit: o.unit,
        metric: o.metric,
        ...(o.value === null ? {} : { value: o.value }),
        ts: iso(o.ts),
      }),
    ),
  ];
  // Logs are not sorted.
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return { exposures, observations, lines };
}
