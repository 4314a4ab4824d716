import { describe, expect, it } from 'vitest';
import { parseAnalysis } from '../../src/core/rollout/analysis.js';
import { startRollout, type RolloutState } from '../../src/core/rollout/machine.js';
import { encodeFitting, historyKey, parseHistoryKey, STATE_TAG } from '../../src/core/rollout/record.js';
import type { RegisteredModel } from '../../src/mlflow/types.js';
import { historyOf, storedOf } from '../../src/rollout/store.js';

const analysis = parseAnalysis({
  metrics: Array.from({ length: 8 }, (_, i) => ({
    name: `metric-${i}`,
    provider: { serve: { url: 'http://127.0.0.1:1/metrics' } },
    query: 'error_rate',
    successCondition: 'result < 1',
  })),
});

function state(): RolloutState {
  return startRollout(
    {
      model: 'm',
      id: 'abc-0001',
      candidate: { version: '2', ref: '2' },
      stable: { version: '1', ref: '1' },
      steps: [5, 100],
      stepDurationMs: 1000,
      shadowMs: null,
      promoteTo: 'production',
      backend: { kind: 'route' },
      by: 'me',
      now: 0,
    },
    analysis,
  ).state;
}

describe('rollout records in registry tags', () => {
  it('history keys are numbered and parse back', () => {
    expect(historyKey('abc-0001', 7)).toBe('mlv.rollout.h.abc-0001.0007');
    expect(parseHistoryKey('mlv.rollout.h.abc-0001.0007')).toEqual({ id: 'abc-0001', seq: 7 });
    expect(parseHistoryKey('mlv.rollout.lease')).toBeNull();
  });

  it('long check details are shortened until the state fits the tag limit', () => {
    const s = state();
    const long = 'x'.repeat(900);
    for (const m of analysis.metrics)
      s.tallies[m.name]!.last = { metric: m.name, phase: 'failed', at: 0, value: 1, detail: long };
    expect(JSON.stringify(s).length).toBeGreaterThan(5000);
    const text = encodeFitting(s);
    expect(text.length).toBeLessThanOrEqual(5000);
    const back = JSON.parse(text) as RolloutState;
    expect(back.tallies['metric-0']!.last!.detail).toMatch(/^x+…$/);
    expect(back.phase).toBe('progressing');
  });

  it('history entries beyond the committed state (a crash between the two writes) are ignored', () => {
    const s = { ...state(), seq: 2 };
    const entry = (seq: number, id = s.id) => ({
      key: historyKey(id, seq),
      value: JSON.stringify({ seq, action: 'advance' }),
    });
    const model = {
      name: 'm',
      tags: [
        { key: STATE_TAG, value: JSON.stringify(s) },
        entry(2),
        entry(1),
        entry(3), // written, but the state naming it never was
        entry(1, 'older-0000'),
        { key: historyKey(s.id, 4), value: 'not json' },
      ],
      aliases: [],
    } as unknown as RegisteredModel;
    expect(historyOf(model, storedOf(model).state!).map((t) => t.seq)).toEqual([1, 2]);
  });

  it('a hand-edited state tag is an input error naming it', () => {
    const model = { name: 'm', tags: [{ key: STATE_TAG, value: '{oops' }], aliases: [] } as unknown as RegisteredModel;
    expect(() => storedOf(model)).toThrow('the mlv.rollout tag of m is not JSON');
  });
});
