// One optimizer step from micro-batches, shared by pre-training and fine-tuning: forward + backward of
// each micro-batch (TrainStep), their gradients averaged (GradAccumulator, or in the graph when the
// TrainStep runs them all at once), then clipped to a global norm and applied by AdamW at the
// schedule's rate (applyUpdate). The loops around it only say where micro-batches come from and what
// to keep of each result.
import type { ParamTensor } from '../model/runner.ts';
import type { HostTensor } from '../runtime/session.ts';
import { BertError } from '../errors.ts';
import { AdamW, GradAccumulator } from './optimizer.ts';
import type { LinearSchedule } from './schedule.ts';
import type { MicroBatchResult, TrainStep } from './step.ts';
import { applyUpdate } from './update.ts';

export interface OptimizerStepOptions {
  /** Most micro-batches per optimizer step (a step may have fewer: a short last batch). */
  gradAccum: number;
  schedule: LinearSchedule;
  maxGradNorm: number;
}

/** The micro-batches of one optimizer step. */
export interface MicroBatches {
  /** How many (1 to gradAccum). */
  count: number;
  /** The dropout-mask index of the first; each next one adds 1 (see TrainStep.run). */
  firstIndex: number;
  /** The feeds of micro-batch `m` (0-based), asked for in order, each once. */
  feeds(m: number): Record<string, HostTensor> | Promise<Record<string, HostTensor>>;
  /** Sees micro-batch `m`'s loss and outputs. */
  onResult?(result: MicroBatchResult, m: number): void;
}

export interface OptimizerStepResult {
  /** The mean of the micro-batches' losses. */
  loss: number;
  lr: number;
  /** The global gradient norm before clipping. */
  grad_norm: number;
}

export class OptimizerStep {
  private readonly accumulator: GradAccumulator | undefined;

  constructor(
    private readonly step: TrainStep,
    private readonly optimizer: AdamW,
    /** The model's parameters: `optimizer` updates all of them or, when some are frozen, the rest. */
    private readonly params: ReadonlyMap<string, ParamTensor>,
    private readonly opts: OptimizerStepOptions,
  ) {
    if (step.microBatches > 1 && step.microBatches !== opts.gradAccum) {
      throw new BertError(`the training step runs ${step.microBatches} micro-batches at once, but gradAccum is ${opts.gradAccum}`);
    }
    this.accumulator = opts.gradAccum > 1 && step.microBatches === 1 ? new GradAccumulator(optimizer.params) : undefined;
  }

  /** Runs optimizer step `k` (0-based, the schedule's step) over `micro`, updating the parameters in place. */
  async run(k: number, micro: MicroBatches): Promise<OptimizerStepResult> {
    if (!(micro.count >= 1 && micro.count <= this.opts.gradAccum)) {
      throw new BertError(`an optimizer step takes 1 to ${this.opts.gradAccum} micro-batches, got ${micro.count}`);
    }
    const perRun = this.step.microBatches;
    if (perRun > 1 && micro.count !== perRun) {
      throw new BertError(`the training step runs exactly ${perRun} micro-batches at once, got ${micro.count}`);
    }
    let lossSum = 0;
    let grads: ReadonlyMap<string, Float32Array> | undefined;
    for (let m = 0; m < micro.count; m += perRun) {
      const feeds = [];
      for (let j = 0; j < perRun; j++) feeds.push(await micro.feeds(m + j));
      const r = await this.step.runMicroBatches(feeds, this.params, micro.firstIndex + m);
      r.results.forEach((x, j) => {
        lossSum += x.loss;
        micro.onResult?.(x, m + j);
      });
      if (this.accumulator) this.accumulator.add(r.grads);
      else grads = r.grads;
    }
    if (this.accumulator) grads = this.accumulator.average();
    const { lr, grad_norm } = applyUpdate(this.optimizer, grads!, k, { schedule: this.opts.schedule, maxGradNorm: this.opts.maxGradNorm });
    return { loss: lossSum / micro.count, lr, grad_norm };
  }
}
