// Learning-rate schedules: BERT's linear warmup then linear decay to 0 (Hugging Face's
// get_linear_schedule_with_warmup), by optimizer step k = 0, 1, ... (the lr used for step k's update).
import { BertError } from '../errors.ts';

export interface LinearSchedule {
  /** Peak learning rate, reached at k = warmup. */
  lr: number;
  /** Total optimizer steps; the lr is 0 at k = steps. */
  steps: number;
  /** Warmup steps (0 = start at the peak). */
  warmup: number;
}

/** lr * k / warmup while k < warmup, then lr * (steps - k) / (steps - warmup), never below 0. */
export function linearWarmupDecay(schedule: LinearSchedule, k: number): number {
  const { lr, steps, warmup } = schedule;
  if (k < warmup) return (lr * k) / warmup;
  return Math.max(0, (lr * (steps - k)) / Math.max(1, steps - warmup));
}

/**
 * Fine-tuning's form: warmup as a fraction of the steps, rounded up. Computed in float64 exactly as
 * transformers' TrainingArguments.get_warmup_steps does (so 0.07 * 100 gives 8, as there).
 */
export function warmupFromRatio(ratio: number, steps: number): number {
  if (!(ratio >= 0 && ratio <= 1)) throw new BertError(`warmup ratio must be between 0 and 1, got ${ratio}`);
  return Math.ceil(ratio * steps);
}

/** Checks a schedule's numbers, naming the flag a user would fix. */
export function checkSchedule(schedule: LinearSchedule): LinearSchedule {
  const { lr, steps, warmup } = schedule;
  if (!(Number.isFinite(lr) && lr > 0)) throw new BertError(`--lr must be a positive number, got ${lr}`);
  if (!(Number.isSafeInteger(steps) && steps > 0)) throw new BertError(`--steps must be a positive integer, got ${steps}`);
  if (!(Number.isSafeInteger(warmup) && warmup >= 0)) throw new BertError(`--warmup-steps must be a non-negative integer, got ${warmup}`);
  if (warmup > steps) throw new BertError(`--warmup-steps (${warmup}) is more than --steps (${steps})`);
  return schedule;
}
