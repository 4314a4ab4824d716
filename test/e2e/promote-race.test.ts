import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote } from '../../src/commands/promote.js';
import type { OutStream } from '../../src/context.js';
import { auditTrail, holderChain } from '../../src/core/registry/audit.js';
import type { MlvError } from '../../src/errors.js';
import type { MlflowClient } from '../../src/mlflow/client.js';
import { MoveConflictError, type MoveResult } from '../../src/registry/move.js';
import { createContext } from '../../src/run.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { runMlv, tempDir } from '../helpers/cli.js';
import { Capture } from '../helpers/context.js';
import { clientFor, spawnMlvServer, type SpawnedServer } from './registry-helpers.js';

/**
 * Issue 11 D11: two promotions of one alias at the same moment (`mlv promote race 1 --to prod`
 * and `… race 2 …`). Whatever the interleaving: the loser fails with MoveConflictError (exit 1)
 * and records nothing, no two events record the same previous holder, and the audit trail ends
 * at the version that really holds the alias. 50 trials per registry, run 10 at a time, each a
 * pair of promote() calls with their own client (as two processes have), plus a few pairs of
 * real `mlv promote` processes.
 */

const TRIALS = 50;
const BATCH = 10;

type Outcome = { ok: MoveResult } | { err: unknown };

/** promote() as one `mlv promote NAME REF --to prod --yes` process: its own client, real clock and randomness. */
async function racer(client: MlflowClient, name: string, ref: string): Promise<Outcome> {
  const ctx = createContext(
    { yes: true },
    {
      stdout: new Capture() as OutStream,
      stderr: new Capture() as OutStream,
      stdin: new PassThrough(),
      env: { NO_COLOR: '1' },
      cwd: process.cwd(),
      signal: new AbortController().signal,
      connect: async () => ({ client, label: 'race', close: async () => undefined }),
    },
  );
  try {
    return { ok: await promote(ctx, { name, ref, to: 'prod' }) };
  } catch (err) {
    return { err };
  }
}

async function seed(client: MlflowClient, name: string): Promise<void> {
  await client.createRegisteredModel({ name });
  for (let i = 0; i < 2; i++) {
    const mv = await client.createModelVersion({ name, source: `mlflow-artifacts:/race/${name}/${i}` });
    if (mv.status !== 'READY') await client.waitForReady(name, mv.version);
  }
}

/** The invariants of one trial, given both outcomes and the registry afterwards. */
async function check(client: MlflowClient, name: string, outcomes: Outcome[]): Promise<'conflict' | 'sequential'> {
  const model = await client.getRegisteredModel(name);
  const holder = model.aliases.find((a) => a.alias === 'prod')?.version;
  const events = auditTrail(model.tags).filter((e) => e.target === 'prod');
  const won = outcomes.flatMap((o) => ('ok' in o ? [o.ok] : []));
  const lost = outcomes.flatMap((o) => ('err' in o ? [o.err] : []));
  const context = JSON.stringify({ name, holder, events, won, lost: lost.map(String) });
  for (const err of lost) {
    expect(err, context).toBeInstanceOf(MoveConflictError);
    expect((err as MlvError).exitCode, context).toBe(1);
  }
  expect(won.length, context).toBeGreaterThanOrEqual(1);
  // One event per winner and none for a loser, each naming the holder before it, ending at the real holder.
  expect(events.map((e) => e.key).sort(), context).toEqual(won.map((w) => w.audit_key).sort());
  expect(
    events.map((e) => e.previous),
    context,
  ).toEqual([null, ...events.slice(0, -1).map((e) => e.version)]);
  expect(events[events.length - 1]?.version, context).toBe(holder);
  expect(holderChain(events).at(-1), context).toBe(holder);
  return lost.length === 1 ? 'conflict' : 'sequential';
}

async function trials(clients: [MlflowClient, MlflowClient], prefix: string): Promise<Record<string, number>> {
  const tally: Record<string, number> = { conflict: 0, sequential: 0 };
  for (let start = 0; start < TRIALS; start += BATCH) {
    const names = Array.from({ length: BATCH }, (_, i) => `${prefix}-${start + i}`);
    await Promise.all(names.map((n) => seed(clients[0], n)));
    await Promise.all(
      names.map(async (name) => {
        const outcomes = await Promise.all([racer(clients[0], name, '1'), racer(clients[1], name, '2')]);
        tally[await check(clients[0], name, outcomes)]!++;
      }),
    );
  }
  return tally;
}

describe('concurrent promotions of one alias', () => {
  let spawned: SpawnedServer;
  beforeAll(async () => {
    spawned = await spawnMlvServer();
  });
  afterAll(async () => {
    await spawned?.stop();
  });

  it(`against mlv server: ${TRIALS} trials`, async () => {
    const clients: [MlflowClient, MlflowClient] = [clientFor(spawned.url), clientFor(spawned.url)];
    try {
      const tally = await trials(clients, 'race');
      console.log(`mlv server: ${JSON.stringify(tally)}`);
      expect(tally.conflict! + tally.sequential!).toBe(TRIALS);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 60_000);

  it(`against the embedded registry (one in-process server per racer, one store): ${TRIALS} trials`, async () => {
    const store = path.join(tempDir('mlv-race-embedded-'), 'store');
    const servers: RunningServer[] = await Promise.all(
      [0, 1].map(() => startServer({ storeDir: store, host: '127.0.0.1', port: 0 })),
    );
    const clients = servers.map((s) => clientFor(s.url)) as [MlflowClient, MlflowClient];
    try {
      const tally = await trials(clients, 'race');
      console.log(`embedded registry: ${JSON.stringify(tally)}`);
      expect(tally.conflict! + tally.sequential!).toBe(TRIALS);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.close()));
    }
  }, 60_000);

  it('two real `mlv promote` processes: exit 0 and 1, or both 0 one after the other', async () => {
    const client = clientFor(spawned.url);
    try {
      const names = ['cli-0', 'cli-1', 'cli-2'];
      await Promise.all(names.map((n) => seed(client, n)));
      await Promise.all(
        names.map(async (name) => {
          const run = (ref: string) =>
            runMlv(['--json', '--tracking-uri', spawned.url, 'promote', name, ref, '--to', 'prod', '--yes']);
          const [a, b] = await Promise.all([run('1'), run('2')]);
          const outcomes: Outcome[] = [a, b].map((r) =>
            r.code === 0 ? { ok: r.json<MoveResult>() } : { err: Object.assign(new Error(r.stderr), { code: r.code }) },
          );
          for (const r of [a, b].filter((x) => x.code !== 0)) {
            expect(r.code, r.stderr).toBe(1);
            expect(r.stderr).toMatch(
              /^error: @prod of cli-\d was moved to version \d by another promotion .* not moved, nothing recorded$/m,
            );
          }
          const model = await client.getRegisteredModel(name);
          const events = auditTrail(model.tags);
          expect(events.map((e) => e.key).sort()).toEqual(
            outcomes.flatMap((o) => ('ok' in o ? [o.ok.audit_key] : [])).sort(),
          );
          expect(events.at(-1)?.version).toBe(model.aliases.find((x) => x.alias === 'prod')?.version);
        }),
      );
    } finally {
      await client.close();
    }
  }, 60_000);
});
