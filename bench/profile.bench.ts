// Where a pre-training step's time goes (mini, batch 32 x 128; base, one micro-batch of 8 x 128, and a
// step of 4 of them in one graph run): ORT's profiler per op type, and the host-side phases of the loop
// around the graph run. See bench/profile-child.ts.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLIBC_KEEP_FREED } from './pretrain.bench.ts';

const here = dirname(fileURLToPath(import.meta.url));

function profile(args: string[], extraEnv: Record<string, string> = {}): Record<string, unknown> {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'profile-child.ts'), ...args], { encoding: 'utf8', env: { ...process.env, ...extraEnv } });
  if (child.status !== 0) throw new Error(`profile-child ${args.join(' ')} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

export async function run(): Promise<Record<string, unknown>> {
  // base: one micro-batch of 8, as its pre-training bench accumulates them
  const base = ['base', '8', '128', '3'];
  return {
    pretrain_mini: profile(['mini', '32', '128', '4']),
    pretrain_base_micro_batch: profile(base),
    ...(process.platform === 'linux' ? { pretrain_base_micro_batch_glibc_keep_freed: profile(base, GLIBC_KEEP_FREED) } : {}),
    // a whole base step as `bert pretrain` runs it: 4 micro-batches of 8 summed in one graph run
    pretrain_base_step_in_graph: profile([...base, '4'], process.platform === 'linux' ? GLIBC_KEEP_FREED : {}),
  };
}
