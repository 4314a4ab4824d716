import { CLASSIFIER_V1, CLASSIFIER_V2 } from '../../scripts/make-onnx-fixtures.js';
import { generateInputs } from '../../src/core/smoke/generate.js';

/**
 * Expected figures for the fixture classifiers, computed from their definition (not from mlv's
 * output): shared by the smoke and compare --predictions tests.
 */

/**
 * The fixture classifier evaluated in plain double precision from its definition:
 * logits = x·W + b, probabilities = softmax(logits), label = argmax(logits).
 */
export function classify(p: { W: number[][]; b: number[] }, x: ArrayLike<number>, rows: number) {
  const labels: number[] = [];
  const probs: number[][] = [];
  const margins: number[] = [];
  for (let r = 0; r < rows; r++) {
    const logits = [0, 1].map((k) => p.b[k]! + [0, 1, 2, 3].reduce((s, j) => s + x[r * 4 + j]! * p.W[j]![k]!, 0));
    const e = logits.map((l) => Math.exp(l - Math.max(...logits)));
    const z = e[0]! + e[1]!;
    probs.push([e[0]! / z, e[1]! / z]);
    labels.push(logits[1]! > logits[0]! ? 1 : 0);
    margins.push(Math.abs(logits[1]! - logits[0]!));
  }
  return { labels, probs, margins };
}

/** The `features` input mlv generates for the classifier from a seed. */
export const features = (seed: number, batch: number) =>
  generateInputs([{ name: 'features', type: 'float32', typeText: 'tensor(float)', shape: ['N', 4] }], { seed, batch })
    .features!.data as Float32Array;

/** v2 against v1 on the same rows: label agreement, max/mean |Δ probability|, smallest logit margin of either. */
export function v2AgainstV1(x: ArrayLike<number>, rows: number) {
  const v1 = classify(CLASSIFIER_V1, x, rows);
  const v2 = classify(CLASSIFIER_V2, x, rows);
  const agree = v1.labels.filter((l, i) => l === v2.labels[i]).length / rows;
  const probDiffs = v1.probs.flatMap((p, i) => [0, 1].map((k) => Math.abs(p[k]! - v2.probs[i]![k]!)));
  return {
    agree,
    maxProb: Math.max(...probDiffs),
    meanProb: probDiffs.reduce((a, b) => a + b, 0) / probDiffs.length,
    minMargin: Math.min(...v1.margins, ...v2.margins),
  };
}
