import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, startLoad, unitIds } from './load.js';

describe('test/helpers/load', () => {
  let server: http.Server;
  let base: string;
  const connections = new Set<unknown>();
  let units: string[] = [];
  const bodies: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const unit = req.headers['x-unit-id'] as string | undefined;
        if (req.url === '/drop') return void req.socket.destroy();
        units.push(unit ?? '');
        bodies.push(Buffer.concat(chunks).toString());
        // The last digit of the unit decides the variant; every tenth unit gets a 500.
        const digit = Number((unit ?? '0').slice(-1));
        const headers: Record<string, string> = {};
        if (unit) headers['X-Mlv-Variant'] = digit % 2 ? 'candidate' : 'stable';
        res.writeHead(digit === 7 ? 500 : 200, headers).end('{}');
      });
    });
    server.on('connection', (s) => connections.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('sends exactly the bounded count over at most `concurrency` kept-alive sockets, counted by status and variant', async () => {
    units = [];
    connections.clear();
    const r = await load({ url: `${base}/invocations`, requests: 500, concurrency: 4, body: { inputs: [[1, 2]] } });
    expect(r).toMatchObject({ sent: 500, completed: 500, errors: 0 });
    expect(connections.size).toBeLessThanOrEqual(4);
    expect(bodies.at(-1)).toBe('{"inputs":[[1,2]]}');

    // Expected counts, from the same units the server saw.
    const expected = { stable: 0, candidate: 0 };
    let fails = 0;
    for (const u of units) {
      const d = Number(u.slice(-1));
      expected[d % 2 ? 'candidate' : 'stable']++;
      if (d === 7) fails++;
    }
    expect(r.byVariant).toEqual(expected);
    expect(r.byStatus).toEqual(fails ? { '200': 500 - fails, '500': fails } : { '200': 500 });
    expect(r.byVariantStatus.candidate!['500']).toBe(fails);
    expect(r.latencyMs.p99).toBeGreaterThan(0);
    expect(r.latencyMs.max).toBeGreaterThanOrEqual(r.latencyMs.p99);
  });

  it('draws units from mulberry32(seed): one seed, one sequence', async () => {
    units = [];
    await load({ url: base, requests: 50, concurrency: 1, units: { seed: 42, pool: 1000, prefix: 'u' } });
    const gen = unitIds(42, 1000, 'u');
    expect(units).toEqual(Array.from({ length: 50 }, gen));
    expect(new Set(units).size).toBeGreaterThan(40);
    units = [];
    const r = await load({ url: base, requests: 10, units: false });
    expect(units).toEqual(Array(10).fill(''));
    expect(r.byVariant).toEqual({ none: 10 });
  });

  it('stops at the time bound, at stop(), and paces to ratePerSecond', async () => {
    const timed = await load({ url: base, requests: Infinity, durationMs: 300, ratePerSecond: 100 });
    // 100/s for 0.3 s: requests 0..29 are due before the bound (request i is due at i·10 ms).
    expect(timed.sent).toBeGreaterThanOrEqual(20);
    expect(timed.sent).toBeLessThanOrEqual(31);
    expect(timed.durationMs).toBeGreaterThanOrEqual(290);

    const bg = startLoad({ url: base, requests: Infinity, durationMs: 60_000, ratePerSecond: 200 });
    await new Promise((r) => setTimeout(r, 200));
    expect(bg.snapshot().completed).toBeGreaterThan(0);
    const r = await bg.stop();
    expect(r.durationMs).toBeLessThan(5000);
    expect(r.sent).toBe(r.completed);
  });

  it('counts requests that get no answer as errors, with their messages', async () => {
    const r = await load({ url: `${base}/drop`, requests: 6, concurrency: 2 });
    expect(r).toMatchObject({ sent: 6, completed: 0, errors: 6 });
    expect(r.errorMessages[0]).toMatch(/socket hang up|ECONNRESET/);
    const refused = await load({ url: 'http://127.0.0.1:1/', requests: 2 });
    expect(refused.errors).toBe(2);
  });
});
