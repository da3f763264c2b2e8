// Where a pre-training step's time goes (mini, batch 32 x 128; base, one micro-batch of 8 x 128, and a
// step of 4 of them in one graph run): ORT's profiler per op type, and the host-side phases of the loop
// around the graph run, the step's GEMMs by shape against a plain MatMul measured beside them, and its
// other kernels' bytes against ORT's own Add. See bench/profile-child.ts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './child.ts';
import { GLIBC_TRAINING_MALLOC } from './pretrain.bench.ts';

const here = dirname(fileURLToPath(import.meta.url));

const profile = (args: string[], extraEnv: Record<string, string> = {}) => runChild(join(here, 'profile-child.ts'), args, extraEnv);

export async function run(): Promise<Record<string, unknown>> {
  // base: one micro-batch of 8, as its pre-training bench accumulates them
  const base = ['base', '8', '128', '3'];
  return {
    pretrain_mini: profile(['mini', '32', '128', '4']),
    // as `bert pretrain` runs it on Linux (src/cli/respawn.ts)
    ...(process.platform === 'linux' ? { pretrain_mini_glibc_keep_freed: profile(['mini', '32', '128', '4'], GLIBC_TRAINING_MALLOC) } : {}),
    pretrain_base_micro_batch: profile(base),
    ...(process.platform === 'linux' ? { pretrain_base_micro_batch_glibc_keep_freed: profile(base, GLIBC_TRAINING_MALLOC) } : {}),
    // a whole base step as `bert pretrain` runs it: 4 micro-batches of 8 summed in one graph run
    pretrain_base_step_in_graph: profile([...base, '4'], process.platform === 'linux' ? GLIBC_TRAINING_MALLOC : {}),
  };
}
