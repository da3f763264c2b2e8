// One optimizer update as BERT's training loops do it, shared by pre-training and fine-tuning:
// clip the (already averaged) gradients to a global norm, then AdamW at the schedule's rate. The
// clipping factor is applied inside AdamW's pass (same float32 values as clipping in place, one
// pass over the gradients fewer); `grads` are left as they came.
import { AdamW, clipScale } from './optimizer.ts';
import { linearWarmupDecay, type LinearSchedule } from './schedule.ts';

/** Applies update `k` (0-based) and returns the lr used and the gradient norm before clipping. */
export function applyUpdate(
  optimizer: AdamW,
  grads: ReadonlyMap<string, Float32Array>,
  k: number,
  opts: { schedule: LinearSchedule; maxGradNorm: number },
): { lr: number; grad_norm: number } {
  const grad_norm = optimizer.gradNorm(grads.values());
  const lr = linearWarmupDecay(opts.schedule, k);
  optimizer.step(grads, lr, clipScale(grad_norm, opts.maxGradNorm));
  return { lr, grad_norm };
}
