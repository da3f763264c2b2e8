// Runs a bench script in a process of its own (so its peak RSS and malloc settings are its own) and
// returns the JSON object it prints last.
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';

export function runChild<T = Record<string, unknown>>(script: string, args: readonly string[], extraEnv: Record<string, string> = {}): T {
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', env: { ...process.env, ...extraEnv } });
  if (child.status !== 0) throw new Error(`${basename(script)} ${args.join(' ')} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as T;
}
