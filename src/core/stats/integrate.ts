/**
 * Adaptive Gauss–Kronrod (7-point Gauss, 15-point Kronrod) quadrature of f over [a, b]:
 * each interval's error is estimated as |K15 − G7| and the worst interval is bisected until
 * the total estimated error is below max(absTol, relTol·|integral|).
 *
 * Reference: Piessens et al., QUADPACK (1983), QK15 / QAG; scipy.integrate.quad.
 * @example integrate((x) => Math.exp(-x), 0, 1) // 0.6321205588285577
 */
export function integrate(
  f: (x: number) => number,
  a: number,
  b: number,
  opts: { absTol?: number; relTol?: number; maxIntervals?: number } = {},
): number {
  const absTol = opts.absTol ?? 1e-15;
  const relTol = opts.relTol ?? 1e-12;
  const maxIntervals = opts.maxIntervals ?? 2000;
  const first = gk15(f, a, b);
  const intervals: Interval[] = [first];
  let total = first.value;
  let error = first.error;
  while (error > Math.max(absTol, relTol * Math.abs(total)) && intervals.length < maxIntervals) {
    // bisect the interval with the largest error
    let worst = 0;
    for (let i = 1; i < intervals.length; i++) if (intervals[i]!.error > intervals[worst]!.error) worst = i;
    const iv = intervals[worst]!;
    const mid = 0.5 * (iv.a + iv.b);
    const left = gk15(f, iv.a, mid);
    const right = gk15(f, mid, iv.b);
    intervals[worst] = left;
    intervals.push(right);
    total = 0;
    error = 0;
    for (const x of intervals) {
      total += x.value;
      error += x.error;
    }
  }
  return total;
}

interface Interval {
  a: number;
  b: number;
  value: number;
  error: number;
}

const XGK = [
  0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
  0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
  0.207784955007898467600689403773245, 0,
];
const WGK = [
  0.02293532201052922496373200805897, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
  0.140653259715525918745189590510238, 0.16900472663926790282658342659855, 0.190350578064785409913256402421014,
  0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
];
const WG = [
  0.129484966168869693270611432679082, 0.27970539148927666790146777142378, 0.381830050505118944950369775488975,
  0.417959183673469387755102040816327,
];

function gk15(f: (x: number) => number, a: number, b: number): Interval {
  const c = 0.5 * (a + b);
  const h = 0.5 * (b - a);
  const fc = f(c);
  let k = fc * WGK[7]!;
  let g = fc * WG[3]!;
  for (let j = 0; j < 7; j++) {
    const dx = h * XGK[j]!;
    const s = f(c - dx) + f(c + dx);
    k += WGK[j]! * s;
    if (j % 2 === 1) g += WG[(j - 1) / 2]! * s;
  }
  return { a, b, value: k * h, error: Math.abs((k - g) * h) };
}
