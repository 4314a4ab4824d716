import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/commands/analyze.js';
import { renderMarkdownReport } from '../../src/core/experiment/render-markdown.js';
import { testContext } from '../helpers/context.js';

/** `mlv analyze --md`: the report's tables as Markdown (numbers as in --json, formatted). */

describe('mlv analyze --md', () => {
  it('verdict, SRM and metric tables, notes, the command', async () => {
    const r = await analyze(testContext().ctx, { control: '3/20', treatment: ['9/21'], test: 'fisher', md: true });
    const md = renderMarkdownReport(r);
    expect(md.split('\n')[0]).toBe('## Experiment analysis: **KEEP RUNNING**');
    expect(md).toContain('| variant | units | expected |');
    expect(md).toContain('| control | 20 | 20.5 |');
    expect(md).toContain(
      '| variant | units | rate | difference (95% CI) | relative (95% CI) | p | p adjusted | verdict |',
    );
    // p = fisher.test()$p.value 0.0855; Newcombe [-0.0865 pp, +50.7 pp]; Katz [-9.92%, +806.19%]
    expect(md).toContain(
      '| treatment | 21 | 42.86% | +27.9 pp [-0.0865 pp, +50.7 pp] | +185.71% [-9.92%, +806.19%] | 0.0855 | 0.0855 | inconclusive |',
    );
    expect(md).toContain('- treatment: odds ratio 4.0993 (conditional MLE), exact [0.8004, 28.551]');
    expect(md.trimEnd().endsWith('```\nmlv analyze --control 3/20 --treatment 9/21 --test fisher --md\n```')).toBe(
      true,
    );
  });

  it('--md and --json are two formats', async () => {
    const { ctx } = testContext({ globals: { json: true } });
    await expect(analyze(ctx, { control: '3/20', treatment: ['9/21'], md: true })).rejects.toThrow(
      '--md and --json are two output formats',
    );
  });
});
