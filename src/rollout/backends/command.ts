import { spawn } from 'node:child_process';
import { fmtValue } from '../../core/rollout/expression.js';
import { RemoteError } from '../../errors.js';
import type { Backend, TrafficTarget } from './types.js';

/**
 * The `command` backend: runs the user's shell command for every weight change, with
 *   {weight}         the candidate's share (0–100)
 *   {stable_weight}  100 − weight
 *   {candidate}      the candidate's version number
 *   {stable}         the stable version number (after a promotion: the candidate's)
 * substituted (all are numbers, so nothing needs quoting), and the same in the environment as
 * MLV_WEIGHT, MLV_STABLE_WEIGHT, MLV_CANDIDATE_VERSION, MLV_STABLE_VERSION, MLV_PHASE. A non-zero
 * exit (or no exit within the timeout) means the step failed to apply. With `verify`, a second
 * command must print the weight now in effect (its last line, a number) — the read-back.
 */
export class CommandBackend implements Backend {
  readonly kind = 'command';
  constructor(
    private readonly command: string,
    private readonly opts: {
      verify?: string | undefined;
      timeoutMs?: number;
      cwd?: string;
      env?: NodeJS.ProcessEnv;
    } = {},
  ) {}

  static vars(t: TrafficTarget): Record<string, string> {
    const promoted = t.phase === 'promoted';
    return {
      weight: fmtValue(t.weight),
      stable_weight: fmtValue(Number((100 - t.weight).toFixed(2))),
      candidate: t.candidate.version,
      stable: promoted ? t.candidate.version : t.stable.version,
    };
  }

  static substitute(template: string, vars: Record<string, string>): string {
    return template.replace(/\{(weight|stable_weight|candidate|stable)\}/g, (_, k: string) => vars[k]!);
  }

  async check(): Promise<void> {}

  async apply(t: TrafficTarget): Promise<string> {
    const vars = CommandBackend.vars(t);
    const env = {
      ...(this.opts.env ?? process.env),
      MLV_WEIGHT: vars.weight,
      MLV_STABLE_WEIGHT: vars.stable_weight,
      MLV_CANDIDATE_VERSION: vars.candidate,
      MLV_STABLE_VERSION: vars.stable,
      MLV_PHASE: t.phase,
    };
    await this.run(CommandBackend.substitute(this.command, vars!), env as NodeJS.ProcessEnv);
    if (this.opts.verify) {
      const out = await this.run(CommandBackend.substitute(this.opts.verify, vars!), env as NodeJS.ProcessEnv);
      const last = out.trim().split('\n').at(-1)?.trim() ?? '';
      if (Number(last) !== t.weight)
        throw new RemoteError(`the verify command printed "${last}", not the weight just set (${vars.weight})`, {
          code: 'MLV_BACKEND',
        });
    }
    return `command: weight ${vars.weight}`;
  }

  private run(cmd: string, env: NodeJS.ProcessEnv): Promise<string> {
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', cmd], { env, cwd: this.opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new RemoteError(`the backend command could not start: ${e.message}`, { code: 'MLV_BACKEND', cause: e }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) return resolve(Buffer.concat(out).toString());
        const why = signal
          ? `was killed (${signal}${signal === 'SIGKILL' ? `, over ${timeoutMs} ms` : ''})`
          : `exited ${code}`;
        const tail = Buffer.concat(err).toString().trim().split('\n').at(-1) ?? '';
        reject(
          new RemoteError(`the backend command ${why}${tail ? `: ${tail.slice(0, 300)}` : ''}`, {
            code: 'MLV_BACKEND',
          }),
        );
      });
    });
  }
}
