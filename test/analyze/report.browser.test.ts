import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runMlv, tempDir } from '../helpers/cli.js';
import { availability } from '../helpers/tools.js';
import { syntheticExperiment } from './synthetic.js';

/**
 * `mlv analyze --report` in a real browser: Debian's chromium (installed by .ci/run), driven by
 * playwright-core. The page renders without console errors or requests, every number tagged with
 * its JSON path equals the `--json` value, and a screenshot is taken (MLV_UPDATE_DOCS=1 writes it to
 * docs/report.png, the one the README shows).
 */

const CHROMIUM = '/usr/bin/chromium';
// In CI the browser must be there (.ci/run installs it); elsewhere the tests say they were skipped.
const chromiumTool = availability(
  'chromium',
  existsSync(CHROMIUM) ? CHROMIUM : undefined,
  'apt-get install chromium (Debian), as .ci/run does',
);

function at(doc: unknown, jsonPath: string): unknown {
  return jsonPath.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], doc);
}

describe.skipIf(chromiumTool.skip)('mlv analyze --report in headless chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!chromiumTool.binary) throw new Error(chromiumTool.missing);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function check(args: string[], dir: string, shot?: string) {
    const r = await runMlv([...args, '--report', 'report.html', '--json'], { cwd: dir });
    expect(r.stderr).toContain('report written to report.html');
    expect(r.code).toBe(0);
    const json = r.json();
    const file = path.join(dir, 'report.html');
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\//); // self-contained: no script, no links out
    const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (req) => {
      if (!req.url().startsWith('file://')) problems.push(`request: ${req.url()}`);
    });
    await page.goto('file://' + file);
    const tagged = await page.$$eval('[data-json]', (els) =>
      els.map((e) => ({
        path: e.getAttribute('data-json')!,
        value: e.getAttribute('data-value')!,
        text: e.textContent!,
      })),
    );
    expect(tagged.length).toBeGreaterThan(10);
    for (const t of tagged) {
      const want = at(json, t.path);
      expect(t.value, t.path).toBe(String(want));
      if (typeof want !== 'number') continue;
      // and the text shows that number (rounded for reading): 5.20%, +0.7 pp, 1,477, 0.0212, 1.2e-5
      const scale = /%|pp$/.test(t.text) ? 100 : 1;
      const shown = Number(
        t.text
          .replace(/[,+%]|pp$/g, '')
          .replace('−', '-')
          .trim(),
      );
      expect(Math.abs(shown - want * scale), `${t.path}: "${t.text}" vs ${want}`).toBeLessThanOrEqual(
        0.005 * Math.abs(want * scale) + 5e-5 * scale,
      );
    }
    expect(await page.textContent('[data-testid=command]')).toBe(json.command);
    expect(await page.$$eval('svg', (s) => s.length)).toBeGreaterThan(0);
    const png = shot ?? path.join(dir, 'report.png');
    await page.screenshot({ path: png, fullPage: true });
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(png).size).toBeGreaterThan(20_000);
    await page.close();
    expect(problems).toEqual([]);
    return { json, html };
  }

  it('events form: verdict, forest plots, SRM, the cumulative effect per day, guardrail, plan', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'events.jsonl'),
      syntheticExperiment({ units: 3000, seed: 5, convLift: 0.04 }).lines.join('\n') + '\n',
    );
    const plan = await runMlv(['sample-size', '--baseline', '0.1', '--mde', '0.02', '--save', 'plan.json'], {
      cwd: dir,
    });
    expect(plan.code).toBe(0);
    const shot = process.env.MLV_UPDATE_DOCS === '1' ? path.join(repoRoot, 'docs', 'report.png') : undefined;
    const { json, html } = await check(
      [
        'analyze',
        '--events',
        'events.jsonl',
        '--experiment',
        'exp',
        '--metric',
        'converted',
        '--guardrail',
        'revenue:mean',
        '--sequential',
        '--plan',
        'plan.json',
      ],
      dir,
      shot,
    );
    expect(json.daily).toHaveLength(2);
    expect(html).toContain('Cumulative effect per day');
    expect(html).toContain('<h2>Guardrails</h2>');
    expect(html).toContain('<h2>Plan</h2>');
  }, 60_000);

  it('counts and summary forms', async () => {
    const dir = tempDir();
    const a = await check(['analyze', '--control', '3/20', '--treatment', '9/21', '--test', 'fisher'], dir);
    expect(a.html).toContain('odds ratio');
    writeFileSync(
      path.join(dir, 'stats.csv'),
      'variant,metric,n,conversions,sum,sum_sq\ncontrol,converted,1000,100,,\ntreatment,converted,1000,130,,\ncontrol,revenue,1000,,5000,40000\ntreatment,revenue,1000,,5200,42000\n',
    );
    const s = await check(['analyze', '--summary', 'stats.csv'], dir);
    expect(s.json.metrics).toHaveLength(2);
  }, 60_000);
});
