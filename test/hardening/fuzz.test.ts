import http from 'node:http';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intArg, numberArg } from '../../src/commands/args.js';
import { renderShow, type ShowResult } from '../../src/commands/show.js';
import { parseArmSpec, parseDuration, parseMetricSpec, parseSplit } from '../../src/core/experiment/inputs.js';
import { jsonProblem } from '../../src/core/json.js';
import { parseKeyValue, parseNoRegression, parseRequirement, parseTolerance } from '../../src/core/registry/gates.js';
import { validateModelName } from '../../src/core/registry/names.js';
import {
  metricsFromFile,
  paramsFromFile,
  parseKeyValueFile,
  parseMetricArg,
  parseParamArg,
} from '../../src/core/registry/provenance.js';
import { parseVersionRef, validateAliasName } from '../../src/core/registry/refs.js';
import { normalizeSemver } from '../../src/core/registry/semver.js';
import { MlvError } from '../../src/errors.js';
import { errorLine } from '../../src/terminal/escape.js';
import { testContext } from '../helpers/context.js';
import { tempDir } from '../helpers/cli.js';

/**
 * Issue 11: random and adversarial strings (control characters, RTL overrides, 10 kB, invalid
 * UTF-8 read from a file) thrown at every name, alias, tag and metric parser, at the human
 * renderers and at the server's JSON endpoints: never an internal error, never a 500, never an
 * unescaped control character on a terminal. Seeded (FUZZ_SEED, printed) and bounded.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
// No shrinking: a failure is reported at once with its seed and path (shrinking 10 kB strings takes minutes).
const params = { seed: SEED, numRuns: RUNS, endOnFailure: true };

console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay), ${RUNS} runs per property`);

const NASTY = [
  '\u001b[2J',
  '\u001b]0;pwned\u0007',
  '\u001b[31m',
  '\u009b31m',
  '\u202e',
  '\u2066',
  '\u200f',
  '\u0000',
  '\r\n',
  '\t',
  '\u007f',
  '\ud800',
  '..',
  '/',
  '%2e%2e/',
  "'; DROP TABLE x; --",
  '"',
  '=',
  '@',
  'v1',
  'latest',
  '1e309',
  'NaN',
  '-0',
  '99999999999999999999',
  '9007199254740993',
  'auc',
  '>=',
  '0.9',
  '{',
  '}',
  '[',
];

const adversarial: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.array(fc.constantFrom(...NASTY), { maxLength: 8 }).map((a) => a.join('')),
  fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b).toString('utf8')),
  fc.constantFrom('x'.repeat(10_000), `${'\u001b'.repeat(5000)}`, `k${'\u202e'.repeat(3000)}=1`),
);

// After our own colour sequences and newlines are removed, nothing a terminal acts on is left.

const SGR = /\u001b\[[0-9;]*m/g;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const terminalSafe = (s: string) => !CONTROL.test(s.replace(SGR, '').replace(/[\n\t]/g, ''));

type Parser = [string, (s: string) => unknown];
const parsers: Parser[] = [
  ['--name', (s) => validateModelName(s)],
  ['--alias', (s) => validateAliasName(s, '--alias')],
  ['REF', (s) => parseVersionRef(s)],
  ['--metric', (s) => parseMetricArg(s)],
  ['--param', (s) => parseParamArg(s)],
  ['--tag', (s) => parseParamArg(s, '--tag')],
  ['--semver', (s) => normalizeSemver(s)],
  ['--require', (s) => parseRequirement(s)],
  ['--no-regression', (s) => parseNoRegression(s)],
  ['--tolerance', (s) => parseTolerance(s)],
  ['--require-tag', (s) => parseKeyValue(s, '--require-tag')],
  ['--control', (s) => parseArmSpec(s, '--control')],
  ['analyze --metric', (s) => parseMetricSpec(s, '--metric')],
  ['--expected-split', (s) => parseSplit(s)],
  ['--max-age', (s) => parseDuration(s, '--max-age')],
  ['--alpha', (s) => numberArg('--alpha', (x) => x > 0 && x < 1)(s)],
  ['--batch', (s) => intArg('--batch', 1)(s)],
  ['metrics file', (s) => metricsFromFile(s, 'm.txt')],
  ['params file', (s) => paramsFromFile(s, 'p.txt')],
];

describe('parsers', () => {
  it.each(parsers)('%s: accepts or refuses with an input error, printed escaped', (_name, parse) => {
    fc.assert(
      fc.property(adversarial, (s) => {
        try {
          parse(s);
        } catch (err) {
          if (!(err instanceof MlvError) && !(err instanceof InvalidArgumentError)) throw err;
          if (err instanceof MlvError) expect(err.exitCode).toBe(2);
          const line = errorLine(err.message);
          expect(terminalSafe(line)).toBe(true);
          expect(line.length).toBeLessThan(1100);
        }
      }),
      params,
    );
  });

  it('names and tags that are accepted hold no control character', () => {
    fc.assert(
      fc.property(adversarial, (s) => {
        const accepted = (() => {
          try {
            return validateModelName(s);
          } catch {
            return undefined;
          }
        })();
        if (accepted !== undefined) expect(CONTROL.test(accepted)).toBe(false);
      }),
      params,
    );
  });

  it('JSON metrics and params files with adversarial keys and values, and invalid UTF-8', () => {
    const value = fc.oneof(fc.double(), adversarial, fc.boolean(), fc.constant(null), fc.array(fc.integer()));
    const file = fc.oneof(
      fc.dictionary(adversarial, fc.oneof(value, fc.dictionary(adversarial, value))).map((o) => JSON.stringify(o)),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from([0x7b, ...b]).toString('utf8')),
    );
    fc.assert(
      fc.property(file, (text) => {
        for (const parse of [metricsFromFile, paramsFromFile, parseKeyValueFile]) {
          try {
            parse(text, 'f.json');
          } catch (err) {
            if (!(err instanceof MlvError)) throw err;
            expect(terminalSafe(errorLine(err.message))).toBe(true);
          }
        }
        jsonProblem(text);
      }),
      { ...params, numRuns: Math.ceil(RUNS / 3) },
    );
  });
});

describe('human views of what a registry holds', () => {
  const result = fc.record({
    models: fc.array(
      fc.record({
        name: adversarial,
        description: adversarial,
        latest_version: fc.option(fc.constantFrom('1', '2')),
        latest_semver: fc.option(adversarial),
        aliases: fc.dictionary(adversarial, adversarial, { maxKeys: 3 }),
        updated_at: fc.option(adversarial),
      }),
      { maxLength: 4 },
    ),
  });
  const versions = fc.record({
    name: adversarial,
    description: adversarial,
    aliases: fc.dictionary(adversarial, adversarial, { maxKeys: 3 }),
    total_versions: fc.nat(5),
    versions: fc.array(
      fc.record({
        version: adversarial,
        semver: fc.option(adversarial),
        aliases: fc.array(adversarial, { maxLength: 2 }),
        stage: adversarial,
        status: adversarial,
        metrics: fc.dictionary(adversarial, fc.double(), { maxKeys: 3 }),
        created_at: fc.option(adversarial),
        run_id: fc.option(adversarial),
        sha256: fc.option(adversarial),
        description: adversarial,
      }),
      { maxLength: 3 },
    ),
  });

  it.each([
    ['a terminal, with colour', true],
    ['a pipe', false],
  ])('show, on %s: no control character, one TSV row per entry', (_how, tty) => {
    fc.assert(
      fc.property(fc.oneof(result, versions), adversarial, (r, message) => {
        const { ctx, stdout, stderr } = testContext({ tty, env: tty ? { FORCE_COLOR: '1' } : {} });
        ctx.output(r as ShowResult, renderShow);
        ctx.warn(message);
        ctx.info(message);
        const bad = (t: string) => JSON.stringify(CONTROL.exec(t.replace(SGR, '').replace(/\n/g, ''))?.[0]);
        expect(terminalSafe(stdout.text), `stdout holds ${bad(stdout.text)}`).toBe(true);
        expect(terminalSafe(stderr.text), `stderr holds ${bad(stderr.text)}`).toBe(true);
        if (!tty && 'models' in r && r.models.length > 0) {
          expect(stdout.text.trimEnd().split('\n')).toHaveLength(r.models.length + 1);
        }
      }),
      { ...params, numRuns: Math.ceil(RUNS / 3) },
    );
  });
});

describe('long cells', () => {
  it('a 30 kB name holding a wide character renders in a boxed table at once (cli-table3 is quadratic)', () => {
    const name = `${'x'.repeat(10_000)}\u{1f600}${'y'.repeat(20_000)}`;
    const { ctx, stdout } = testContext({ tty: true });
    const started = performance.now();
    ctx.output(
      { models: [{ name, description: '', latest_version: '1', latest_semver: null, aliases: {}, updated_at: null }] },
      renderShow,
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(stdout.text).toContain('… (30002 characters)');
  });
});

describe('mlv server JSON endpoints', () => {
  let server: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    const { startServer } = await import('../../src/server/index.js');
    server = await startServer({ storeDir: path.join(tempDir('mlv-fuzz-'), 'store'), host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  afterAll(() => agent.destroy());

  function send(method: string, endpoint: string, body: string | Buffer | undefined, query = ''): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${server.url}/api/2.0/mlflow/${endpoint}${query}`,
        { method, agent, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const POSTS = [
    'experiments/create',
    'runs/create',
    'runs/log-batch',
    'runs/set-tag',
    'runs/log-metric',
    'runs/log-parameter',
    'registered-models/create',
    'registered-models/update',
    'registered-models/rename',
    'registered-models/set-tag',
    'registered-models/alias',
    'registered-models/search',
    'model-versions/create',
    'model-versions/set-tag',
    'model-versions/transition-stage',
    'model-versions/search',
    'logged-models',
  ];
  const GETS = [
    'registered-models/get',
    'registered-models/search',
    'model-versions/get',
    'model-versions/search',
    'experiments/get-by-name',
    'registered-models/alias',
    'runs/get',
    'metrics/get-history',
  ];
  const FIELDS = [
    'name',
    'new_name',
    'key',
    'value',
    'alias',
    'version',
    'run_id',
    'experiment_id',
    'source',
    'stage',
    'filter',
    'description',
    'tags',
    'metrics',
    'params',
    'max_results',
    'order_by',
    'page_token',
  ];

  const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      adversarial,
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), adversarial), tie('v'), { maxKeys: 4 }),
    ),
  })).v;
  const body = fc.oneof(
    fc.dictionary(fc.constantFrom(...FIELDS), jsonValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
    fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
    fc.nat(200).map((n) => '{"name":['.repeat(n) + ']}'.repeat(n)),
  );

  it('POST random bodies: never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POSTS), body, async (endpoint, b) => {
        const status = await send('POST', endpoint, b);
        expect(status, `${endpoint} ${String(b).slice(0, 200)}`).toBeLessThan(500);
      }),
      params,
    );
  });

  it('GET random query strings: never a 500', async () => {
    const query = fc
      .array(fc.tuple(fc.constantFrom(...FIELDS), adversarial), { maxLength: 4 })
      .map((pairs) => '?' + new URLSearchParams(pairs).toString());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...GETS), query, async (endpoint, q) => {
        const status = await send('GET', endpoint, undefined, q);
        expect(status, `${endpoint}${q}`).toBeLessThan(500);
      }),
      params,
    );
  });
});
