import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const httpModule = pathToFileURL(path.resolve(import.meta.dirname, '../../dist/mlflow/http.js')).href;

describe('the HTTP layer and undici', () => {
  it("loads undici's Agent and request API from their files, not its index (fetch, WebSocket, caches)", () => {
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(httpModule)});
      const files = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/undici/'));
      process.stdout.write(JSON.stringify(files));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as string[]).map((f) => f.split(`${path.sep}undici${path.sep}`)[1]);
    expect(files).toContain('lib/dispatcher/agent.js');
    expect(files).toContain('lib/api/api-request.js');
    expect(files).not.toContain('index.js');
    expect(files.filter((f) => f!.startsWith('lib/web/'))).toEqual([]);
  });
});
