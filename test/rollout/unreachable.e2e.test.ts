import { describe, expect, it } from 'vitest';
import { runMlv } from '../helpers/cli.js';
import { freePort } from '../helpers/tools.js';

/** The registry unreachable: every rollout verb is exit 3 (remote), and the error names the server. */
describe('mlv rollout with the registry down', () => {
  it.each([['status'], ['run'], ['step'], ['abort'], ['history']])('rollout %s → exit 3', async (verb) => {
    const port = await freePort();
    const r = await runMlv(['rollout', verb, 'churn'], {
      env: { MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' },
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`error: .*127\\.0\\.0\\.1:${port}`));
  });
});
