import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mlvBin, runMlv, tempDir } from '../helpers/cli.js';
import { clientFor, fixture, spawnMlvServer, type SpawnedServer } from '../e2e/registry-helpers.js';

/**
 * Issue 11: one regression test per item, each running the command the issue gives (against a
 * fresh embedded store, or `mlv server` where a second tool has to write what mlv itself refuses).
 */

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const model = fixture('classifier-v1.onnx');

function workDir(): string {
  const dir = tempDir('mlv-harden-');
  writeFileSync(path.join(dir, 'model.bin'), 'weights');
  return dir;
}

describe.concurrent('input refused before anything is written (exit 2)', () => {
  it.each([
    // D3
    [
      ['register', 'model.bin', '--name', 'm', '--semver', '99999999999999999999.0.0'],
      'error: --semver must be a semantic version with X, Y and Z at most 9007199254740991 (2^53 − 1), got "99999999999999999999.0.0"',
    ],
    // D4
    [
      ['register', 'model.bin', '--name', 'evil\u001b[2J\u001b[31mRED\u001b]0;pwned\u0007'],
      'error: --name must not contain control characters (found U+001B), got "evil\\u001b[2J\\u001b[31mRED\\u001b]0;pwned\\u0007"',
    ],
    [
      ['register', 'model.bin', '--name', 'm', '--tag', 'team=a\nb'],
      'error: --tag team must not contain control characters (found U+000A)',
    ],
    [['register', 'model.bin', '--name', 'm\u202eevil'], 'found U+202E'],
    // D10
    [
      ['register', 'model.bin', '--name', 'm', '--metric', 'auc=0.9', '--metric', 'auc=0.8'],
      'error: --metric auc given twice',
    ],
    [['register', 'model.bin', '--name', 'm', '--param', 'lr=1', '--param', 'lr=2'], 'error: --param lr given twice'],
    [['register', 'model.bin', '--name', 'm', '--tag', 't=1', '--tag', 't=2'], 'error: --tag t given twice'],
    // messages: one sentence, not commander's "option … argument … is invalid." in front of ours
    [
      ['register', 'model.bin', '--name', 'm', '--metric', 'auc:0.9'],
      /^error: --metric must be KEY=NUMBER, got "auc:0.9"\n$/,
    ],
    // D8
    [['sample-size', '--baseline', '0.1', '--mde', '1e-300'], 'error: an effect of 1e-300 is too small to size'],
    [['sample-size', '--baseline', '0.1', '--mde', '1e-154'], 'error: an effect of 1e-154 is too small to size'],
    [['sample-size', '--baseline', '0.1', '--mde', '1e-9'], 'error: an effect of 1e-9 is too small to size'],
    // messages: bounds without floating-point noise
    [['sample-size', '--baseline', '0.95', '--mde', '0.1'], 'hint: --mde must lie in (-0.95, 0.05)\n'],
    [
      ['sample-size', '--baseline', '0.5', '--mde', '-0.6'],
      'error: the treatment rate 0.5 − 0.6 = -0.1 must stay in (0, 1)',
    ],
    // D9 (documented choice: refuse)
    [
      ['analyze', '--control', 'mean=1,sd=0,n=10', '--treatment', 'mean=2,sd=0,n=10'],
      "error: zero variance in both control and treatment (every unit has the same value), so Welch's t-test is undefined",
    ],
  ])('%j', async (args, expected) => {
    const dir = workDir();
    const r = await runMlv(args, { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    if (typeof expected === 'string') expect(r.stderr).toContain(expected);
    else expect(r.stderr).toMatch(expected);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stdout).toBe('');
    expect(existsSync(path.join(dir, '.mlv')), 'nothing was written').toBe(false);
  });

  it.each([
    // D5
    ['deep.json', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000), 'error: deep.json nests JSON deeper than 64 levels'],
    // D10, within a file
    ['dup.json', '{"auc": 0.9, "auc": 0.8}', 'error: dup.json: key auc given twice'],
    ['dup.txt', 'auc=0.9\nauc=0.8\n', 'error: dup.txt:2: key auc given twice'],
    ['nested-dup.json', '{"eval": {"auc": 1}, "eval.auc": 2}', 'error: nested-dup.json: key eval.auc given twice'],
    // messages: a JSON array, and `true` as a metric
    ['array.json', '[{"auc": 0.9}]', 'error: array.json holds a JSON array; a metrics or params file is a JSON object'],
    ['bool.json', '{"auc": 0.9, "ok": true}', 'error: metric ok in bool.json must be a number, got true'],
    // D7: binary input is echoed escaped
    [
      'binary.txt',
      'auc\u0000\u0001\u001b[2J 0.9\n',
      'error: binary.txt:1: expected key=value or key: value, got "auc\\x00\\x01\\e[2J 0.9"',
    ],
  ])('--metrics-file %s', async (file, content, expected) => {
    const dir = workDir();
    writeFileSync(path.join(dir, file), content);
    const r = await runMlv(['register', 'model.bin', '--name', 'm', '--metrics-file', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(expected);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(existsSync(path.join(dir, '.mlv'))).toBe(false);
  });

  it('D6: a 2M-key metrics file is refused unread, before any run exists', async () => {
    const dir = workDir();
    const keys = Array.from({ length: 2_000_000 }, (_, i) => `"k${i}": ${i}`);
    writeFileSync(path.join(dir, 'huge.json'), `{${keys.join(',')}}`);
    const r = await runMlv(['register', 'model.bin', '--name', 'big', '--metrics-file', 'huge.json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: --metrics-file huge.json is [\d.]+ MiB; mlv reads at most 4.0 MiB\n$/);
    expect(existsSync(path.join(dir, '.mlv'))).toBe(false);
  });

  it('D6: more metrics than a register logs is exit 2', async () => {
    const dir = workDir();
    const keys = Array.from({ length: 10_001 }, (_, i) => `"k${i}": ${i}`);
    writeFileSync(path.join(dir, 'many.json'), `{${keys.join(',')}}`);
    const r = await runMlv(['register', 'model.bin', '--name', 'm', '--metrics-file', 'many.json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error: many.json holds 10001 metrics; mlv register logs at most 10000');
  });

  it('D7: a 100 kB key is quoted as 100 characters and a count', async () => {
    const key = 'k'.repeat(100_000);
    const r = await runMlv(['register', 'model.bin', '--name', 'm', '--metric', `${key}=1`], { cwd: workDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: --metric key "${'k'.repeat(100)}…" (100000 characters) is not valid for MLflow: it is longer than 250 characters\n`,
    );
  });
});

it('register --help says --name is required', async () => {
  const r = await runMlv(['register', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/-n, --name <name> +registered model name, required/);
});

describe.concurrent('registry stores', () => {
  it('read-only commands on a missing embedded store create nothing', async () => {
    const dir = workDir();
    const r = await runMlv(['show'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: no registry at ./.mlv (register a model first, or set MLFLOW_TRACKING_URI)\n');
    expect(existsSync(path.join(dir, '.mlv'))).toBe(false);
    const named = await runMlv(['show', 'churn'], { cwd: dir, env: { MLV_HOME: 'elsewhere' } });
    expect(named.stderr).toContain('error: no registry at ./elsewhere');
    expect(existsSync(path.join(dir, 'elsewhere'))).toBe(false);
  });

  it('D13: MLV_HOME=/proc/nope mlv show exits 2 at once', async () => {
    for (const args of [['show'], ['register', 'model.bin', '--name', 'm']]) {
      const r = await runMlv(args, { cwd: workDir(), env: { MLV_HOME: '/proc/nope' }, timeoutMs: 15_000 });
      expect(r.signal, 'did not hang').toBeNull();
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/error: (no registry at \/proc\/nope|cannot open the registry store \/proc\/nope)/);
    }
  });

  it('--json failures print {"error": {code, message, exit_code}} on stdout', async () => {
    const dir = workDir();
    const missing = await runMlv(['--json', 'show'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.json()).toEqual({
      error: {
        code: 'MLV_NOT_FOUND',
        message: 'no registry at ./.mlv (register a model first, or set MLFLOW_TRACKING_URI)',
        exit_code: 2,
      },
    });
    const usage = await runMlv(['register', 'model.bin', '--name', 'm', '--metric', 'x', '--json'], { cwd: dir });
    expect(usage.code).toBe(2);
    expect(usage.json()).toEqual({
      error: { code: 'MLV_USAGE', message: '--metric must be KEY=NUMBER, got "x"', exit_code: 2 },
    });
  });
});

describe('against mlv server', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnMlvServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('D5: a 100k-deep body is HTTP 400, not 500', async () => {
    const body = '{"name":'.repeat(100_000) + '"x"' + '}'.repeat(100_000);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        `${server.url}/api/2.0/mlflow/registered-models/create`,
        { method: 'POST', headers: { 'Content-Type': 'application/json' } },
        (res) => {
          let t = '';
          res.on('data', (b: Buffer) => (t += b.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(400);
    expect(JSON.parse(text)).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'Request body nests JSON deeper than 64 levels',
    });
  });

  it('D3: a semver tag above 2^53 − 1 written by another tool does not break register or --bump', async () => {
    const env = { MLFLOW_TRACKING_URI: server.url };
    const first = await runMlv(['--json', 'register', model, '--name', 'huge', '--semver', '1.0.0'], { env });
    expect(first.code, first.stderr).toBe(0);
    const client = clientFor(server.url);
    try {
      await client.setModelVersionTag('huge', '1', 'mlv.semver', '99999999999999999999.0.0');
    } finally {
      await client.close();
    }
    const bump = await runMlv(
      ['--json', 'register', fixture('classifier-v2.onnx'), '--name', 'huge', '--bump', 'patch'],
      {
        env,
      },
    );
    expect(bump.stderr).not.toContain('internal error');
    expect(bump.code, bump.stderr).toBe(0);
    expect(bump.json()).toMatchObject({ version: '2', semver: '0.0.1' });
    const show = await runMlv(['show', 'huge'], { env });
    expect(show.code, show.stderr).toBe(0);
  });

  it('D4: what another tool wrote is printed escaped: no control character reaches the terminal', async () => {
    const env = { MLFLOW_TRACKING_URI: server.url };
    const evil = 'evil\u001b[2J\u001b[31mRED\u001b]0;pwned\u0007\nsecond\tcol\u202e';
    const ok = await runMlv(['--json', 'register', model, '--name', 'plain', '--semver', '1.0.0'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const source = ok.json<{ source: string; run_id: string }>();
    const client = clientFor(server.url);
    try {
      await client.createRegisteredModel({ name: evil, description: `desc ${evil}` });
      await client.createModelVersion({
        name: evil,
        source: source.source,
        runId: source.run_id,
        description: evil,
        tags: { 'mlv.semver': '1.0.0', 'mlv.sha256': evil },
      });
    } finally {
      await client.close();
    }
    const list = await runMlv(['show'], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toMatch(RAW_CONTROL);
    expect(list.stdout).toContain('evil\\e[2J\\e[31mRED\\e]0;pwned\\x07\\nsecond\\tcol\\u{202e}');
    const one = await runMlv(['show', evil], { env });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout + one.stderr).not.toMatch(RAW_CONTROL);
    const compare = await runMlv(['compare', evil, '1', '1', '--md'], { env });
    expect(compare.stdout + compare.stderr).not.toMatch(RAW_CONTROL);
    const json = await runMlv(['--json', 'show'], { env });
    const models = json.json<{ models: { name: string }[] }>().models;
    expect(models.map((m) => m.name)).toContain(evil);
    // a header and one row per model: the newline and the tab in the name split no TSV row or column
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(1 + models.length);
    expect(new Set(rows.map((r) => r.split('\t').length)).size).toBe(1);
  });
});

/** Runs mlv in a pseudo-terminal (`script`), waits for `until` in its output, types Ctrl-C. */
async function ctrlCAt(dir: string, args: string, until: string): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, TERM: 'xterm', NO_COLOR: '1' };
  const child = spawn('script', ['-qfec', `${process.execPath} ${mlvBin} ${args}`, '/dev/null'], {
    cwd: dir,
    env,
    stdio: 'pipe',
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no prompt: ${out}`)), 20_000);
    child.on('close', () => reject(new Error(`exited before the prompt: ${out}`)));
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(until)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdin.write('\u0003');
  return { code: await exited, out };
}

describe('prompts in a terminal', () => {
  const dir = workDir();
  beforeAll(async () => {
    const reg = await runMlv(['register', model, '--name', 'churn', '--semver', '1.0.0', '--metric', 'auc=0.9'], {
      cwd: dir,
    });
    expect(reg.code, reg.stderr).toBe(0);
  });

  it('D2: mlv promote churn 1 --to production, then Ctrl-C → exit 130 "interrupted"', async () => {
    const { code, out } = await ctrlCAt(dir, 'promote churn 1 --to production', '(y/N)');
    expect(code).toBe(130);
    expect(out).toContain('interrupted');
    expect(out).not.toContain('internal error');
    expect(out).not.toContain('User force closed');
  }, 30_000);

  it('the gate checklist comes before the y/N question', async () => {
    const { code, out } = await ctrlCAt(dir, "promote churn 1 --to production --require 'auc>=0.5'", '(y/N)');
    expect(code).toBe(130);
    expect(out).toMatch(/✓ auc>=0\.5 +auc = 0\.9[\s\S]*\(y\/N\)/);
  }, 30_000);

  it('mlv promote without arguments offers the models, then the versions, then the alias', async () => {
    const { code, out } = await ctrlCAt(dir, 'promote', 'Which model?');
    expect(code).toBe(130);
    expect(out).toContain('churn');
    expect(out).not.toContain("required option '--to'");
  }, 30_000);

  it('without a terminal a missing --to is a usage error naming it', async () => {
    const r = await runMlv(['promote', 'churn', '1'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: missing --to: the alias to move');
  });
});

describe('D12: parallel register --bump', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnMlvServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('4 concurrent register --bump patch of different artifacts all succeed, with 4 different semvers', async () => {
    const dir = workDir();
    const files = [1, 2, 3, 4].map((i) => {
      const f = path.join(dir, `m${i}.bin`);
      writeFileSync(f, `weights ${i}`);
      return f;
    });
    const env = { MLFLOW_TRACKING_URI: server.url };
    const runs = await Promise.all(
      files.map((f) => runMlv(['--json', 'register', f, '--name', 'par', '--bump', 'patch'], { env, cwd: dir })),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const semvers = runs.map((r) => r.json<{ semver: string }>().semver).sort();
    expect(semvers).toEqual(['0.0.1', '0.0.2', '0.0.3', '0.0.4']);
    const show = await runMlv(['--json', 'show', 'par'], { env });
    const versions = show.json<{ versions: { semver: string; status: string }[] }>().versions;
    expect(versions.map((v) => v.semver).sort()).toEqual(semvers);
    expect(versions.every((v) => v.status === 'READY')).toBe(true);
  }, 60_000);

  it('with an explicit --semver, a parallel register of the same semver is still refused', async () => {
    const dir = workDir();
    const env = { MLFLOW_TRACKING_URI: server.url };
    const files = [1, 2, 3].map((i) => {
      const f = path.join(dir, `e${i}.bin`);
      writeFileSync(f, `explicit ${i}`);
      return f;
    });
    const runs = await Promise.all(
      files.map((f) => runMlv(['register', f, '--name', 'exact', '--semver', '1.0.0'], { env, cwd: dir })),
    );
    expect(runs.map((r) => r.code).sort()).toEqual([0, 2, 2]);
  }, 60_000);
});
