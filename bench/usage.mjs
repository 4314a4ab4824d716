// The resource-usage probe the benchmarks preload into the processes they time (`node -r HOOK …`):
// at exit the child writes its own peak memory and CPU time to stderr, read back by readUsage.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes the hook into `dir` (once per run) and returns its path, for `-r`/`--require`. */
export function usageHook(dir) {
  mkdirSync(dir, { recursive: true });
  const hook = path.join(dir, 'usage-hook.cjs');
  writeFileSync(
    hook,
    "process.on('exit', () => { const u = process.resourceUsage(); try { require('fs').writeSync(2, '\\nMAXRSS_KB=' + u.maxRSS + '\\nCPU_US=' + (u.userCPUTime + u.systemCPUTime) + '\\n'); } catch {} });\n",
  );
  return hook;
}

/** What the hook wrote: peak RSS in KiB and CPU (user + system) in ms; NaN where it is missing. */
export function readUsage(stderr) {
  return {
    maxRssKb: Number(/MAXRSS_KB=(\d+)/.exec(stderr ?? '')?.[1] ?? NaN),
    cpuMs: Number(/CPU_US=(\d+)/.exec(stderr ?? '')?.[1] ?? NaN) / 1000,
  };
}
