import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/program.js';
import { repoRoot } from '../helpers/cli.js';

/**
 * The CI templates call mlv; a renamed flag must not silently break them. Every `mlv <command> …`
 * in templates/ci uses a command and flags that exist.
 */
const dir = path.join(repoRoot, 'templates/ci');
const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));

function invocations(text: string): { command: string; flags: string[] }[] {
  // Shell line continuations and YAML folded blocks put one command on several lines.
  const code = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  const joined = code.replace(/\\\n\s*/g, ' ').replace(/\n {6,}(?=--)/g, ' ');
  const out: { command: string; flags: string[] }[] = [];
  for (const m of joined.matchAll(/(?:^|[\s:])mlv((?: --json)?) ([a-z-]+)([^\n]*)/gm)) {
    // Stop at the end of the mlv command: a pipe, redirect, `||` or a comment.
    const rest = m[3]!.split(/\s(?:\|\|?|>>?|#)\s/)[0]!;
    out.push({
      command: m[2]!,
      flags: [...(m[1] ? ['--json'] : []), ...[...rest.matchAll(/\s(--[a-z][\w-]*)/g)].map((f) => f[1]!)],
    });
  }
  return out;
}

describe('templates/ci', () => {
  it('has a GitHub Actions and a GitLab example', () => {
    expect(files.sort()).toEqual(['github-actions.yml', 'gitlab-ci.yml']);
  });

  it.each(files)('%s calls existing commands with existing flags', async (file) => {
    const program = await buildProgram();
    const globals = program.options.map((o) => o.long);
    const calls = invocations(readFileSync(path.join(dir, file), 'utf8'));
    expect(calls.map((c) => c.command)).toEqual(expect.arrayContaining(['register', 'compare', 'promote']));
    for (const call of calls) {
      const cmd = program.commands.find((c) => c.name() === call.command);
      expect(cmd, `mlv ${call.command}`).toBeDefined();
      const known = new Set([...globals, ...cmd!.options.map((o) => o.long)]);
      for (const flag of call.flags) expect(known.has(flag), `${file}: mlv ${call.command} ${flag}`).toBe(true);
    }
    const promote = calls.find((c) => c.command === 'promote')!;
    expect(promote.flags).toEqual(expect.arrayContaining(['--require', '--no-regression']));
  });
});
