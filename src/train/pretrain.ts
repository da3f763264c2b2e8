// `bert pretrain`: the BERT pre-training loop. Micro-batches come from a read-ahead worker; each runs
// forward + backward as one ORT graph; gradients are averaged over accumulation steps, clipped to a
// global norm, and applied by AdamW on a linear warmup/decay schedule. Checkpoints are atomic, and a
// resumed run continues exactly: same data order, same dropout masks, same optimizer state.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/folder.ts';
import { bertParameterShapes } from '../checkpoint/keys.ts';
import { loadWeights } from '../checkpoint/weights.ts';
import { epochOrder, openPretrainingData, type PretrainingDataset } from '../data/dataset.ts';
import { prefetchBatches, type PrefetchedBatch } from '../data/prefetch.ts';
import { BertError } from '../errors.ts';
import type { BertConfig } from '../model/config.ts';
import { ModelRunner, type ParamTensor } from '../model/runner.ts';
import {
  listCheckpoints, optimizerStatePath, pruneCheckpoints, readTrainingState, saveTrainingCheckpoint, type TrainingState,
} from './checkpoints.ts';
import { preTrainingFeeds, preTrainingObjective } from './objectives.ts';
import { AdamW } from './optimizer.ts';
import { loadOptimizerState } from './optimizer-file.ts';
import { OptimizerStep } from './accumulate.ts';
import { writeLossCurveSvg, type LineSeries } from './plot.ts';
import { checkSchedule } from './schedule.ts';
import { TrainStep } from './step.ts';

export interface PretrainOptions {
  /** Pre-training data: a shard folder or a BERT JSONL file. */
  data: string;
  config: BertConfig;
  /** Start from this model folder (ours or Hugging Face's) instead of random weights. */
  init?: string;
  /** Tokenizer files to copy into every saved model folder. */
  tokenizerDir?: string;
  out: string;
  /** Examples per optimizer step (split into gradAccum micro-batches). */
  batchSize: number;
  lr: number;
  warmupSteps: number;
  steps: number;
  weightDecay: number;
  maxGradNorm: number;
  gradAccum: number;
  /**
   * Where micro-batch gradients are summed: 'graph' runs all gradAccum micro-batches in one ORT run
   * (micro-batch-graph.ts: the gradients leave ORT once per step; a larger graph, slower to compile,
   * and one more gradient-sized buffer), 'host' runs them one by one. The same bits either way.
   */
  accumulate: 'graph' | 'host';
  seed: number;
  shuffle: boolean;
  /** Save a checkpoint every N steps (0: only at the end). */
  saveEvery: number;
  keepLast: number;
  resume: boolean;
  /** Stop (after checkpointing) once this step is reached, as a preempted job would; `--resume` continues. */
  stopAfter?: number;
  /** Held-out pre-training data evaluated at the end (MLM accuracy/perplexity, NSP accuracy). */
  evalData?: string;
  threads?: number;
  /** Called once training is about to start, with the step it starts from (0, or a resumed step). */
  onStart?: (startStep: number) => void;
  /** Called after every optimizer step (progress bars, JSON logs). */
  onStep?: (record: PretrainStepRecord) => void;
  /** Called with messages worth showing a person (resumed from, missing keys, saved to). */
  onMessage?: (message: string) => void;
}

export interface PretrainStepRecord {
  step: number;
  steps: number;
  loss: number;
  mlm_loss: number;
  nsp_loss: number;
  mlm_accuracy: number;
  nsp_accuracy: number;
  lr: number;
  grad_norm: number;
  tokens_per_second: number;
}

export interface EvalResult {
  examples: number;
  mlm_loss: number;
  mlm_accuracy: number;
  mlm_perplexity: number;
  nsp_loss: number;
  nsp_accuracy: number;
}

export interface PretrainResult {
  steps: number;
  params: Map<string, ParamTensor>;
  history: PretrainStepRecord[];
  eval?: EvalResult;
  modelDir: string;
}

/** The options that must not change across a resume (they decide what the steps compute). */
function runIdentity(o: PretrainOptions): Record<string, unknown> {
  return { batchSize: o.batchSize, gradAccum: o.gradAccum, seed: o.seed, shuffle: o.shuffle, lr: o.lr, warmupSteps: o.warmupSteps, steps: o.steps };
}

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const say = o.onMessage ?? (() => {});
  if (o.batchSize % o.gradAccum !== 0) throw new BertError(`--batch-size ${o.batchSize} is not a multiple of --grad-accum ${o.gradAccum}`);
  const schedule = checkSchedule({ lr: o.lr, steps: o.steps, warmup: o.warmupSteps });
  const micro = o.batchSize / o.gradAccum;
  mkdirSync(o.out, { recursive: true });
  const dataset = openPretrainingData(o.data);
  if (dataset.size < micro) throw new BertError(`${dataset.size} examples, fewer than one micro-batch of ${micro}`, o.data);

  // Where to start: a checkpoint to resume, or step 0.
  let params: Map<string, ParamTensor>;
  let state: TrainingState = { step: 0, epoch: 0, position: 0, seed: o.seed, history: [], options: runIdentity(o) };
  const last = o.resume ? listCheckpoints(o.out).at(-1) : undefined;
  if (o.resume && !last) say(`no checkpoint in ${o.out}: starting from step 0`);
  if (last) {
    state = readTrainingState(last.dir);
    const want = JSON.stringify(runIdentity(o));
    if (JSON.stringify(state.options) !== want) {
      throw new BertError(`cannot resume: the checkpoint was made with ${JSON.stringify(state.options)}, this run asks for ${want}`, last.dir);
    }
    params = new Map(loadCheckpoint(last.dir).tensors);
    say(`resuming from ${last.dir} (step ${state.step})`);
  } else {
    const shapes = bertParameterShapes(o.config, 'pretraining');
    params = loadWeights(o.init, { shapes, modelName: 'BertForPreTraining', config: o.config, seed: o.seed, say, writable: true }).params;
  }

  const objective = preTrainingObjective(o.config, { training: true });
  const step = await TrainStep.compile(objective, { seed: o.seed, threads: o.threads, microBatches: o.accumulate === 'graph' ? o.gradAccum : 1 });
  const optimizer = new AdamW(params, { weightDecay: o.weightDecay, eps: 1e-6 });
  if (last) loadOptimizerState(optimizer, optimizerStatePath(last.dir));
  const update = new OptimizerStep(step, optimizer, params, { gradAccum: o.gradAccum, schedule, maxGradNorm: o.maxGradNorm });

  const history = state.history as unknown as PretrainStepRecord[];
  const batches = batchStream(dataset, micro, o.seed, o.shuffle, state.epoch, state.position);
  const tokensPerStep = o.batchSize * dataset.maxSeqLength;
  o.onStart?.(state.step);
  try {
    const stop = Math.min(o.steps, o.stopAfter ?? o.steps);
    while (state.step < stop) {
      const t0 = performance.now();
      const sums = { mlm_loss: 0, nsp_loss: 0, mlm_correct: 0, mlm_count: 0, nsp_correct: 0 };
      let next: { epoch: number; position: number } = state;
      const { loss, lr, grad_norm: gradNorm } = await update.run(state.step, {
        count: o.gradAccum,
        firstIndex: state.step * o.gradAccum,
        feeds: async () => {
          const item = await batches.next();
          next = { epoch: item.epoch, position: item.next_position };
          return preTrainingFeeds(item.batch);
        },
        onResult: (r) => {
          for (const k of ['mlm_loss', 'nsp_loss', 'mlm_correct', 'mlm_count', 'nsp_correct'] as const) sums[k] += Number(r.outputs[k]!.data[0]);
        },
      });
      state = { ...state, step: state.step + 1, epoch: next.epoch, position: next.position };
      const record: PretrainStepRecord = {
        step: state.step,
        steps: o.steps,
        loss,
        mlm_loss: sums.mlm_loss / o.gradAccum,
        nsp_loss: sums.nsp_loss / o.gradAccum,
        mlm_accuracy: sums.mlm_correct / Math.max(1, sums.mlm_count),
        nsp_accuracy: sums.nsp_correct / o.batchSize,
        lr,
        grad_norm: gradNorm,
        tokens_per_second: tokensPerStep / ((performance.now() - t0) / 1000),
      };
      history.push(record);
      o.onStep?.(record);
      if ((o.saveEvery > 0 && state.step % o.saveEvery === 0) || state.step === stop) {
        const dir = saveTrainingCheckpoint(o.out, o.config, params, optimizer, { ...state, history: history as never }, o.tokenizerDir);
        pruneCheckpoints(o.out, o.keepLast);
        say(`saved ${dir}`);
      }
    }
  } finally {
    await batches.close();
    await step.dispose();
  }

  dataset.close();
  if (state.step < o.steps) return { steps: state.step, params, history, modelDir: listCheckpoints(o.out).at(-1)!.dir };
  // The final model, as a plain model folder in `out` itself.
  const config = { ...o.config, architectures: ['BertForPreTraining'] };
  saveCheckpoint(o.out, config, params, o.tokenizerDir === undefined ? {} : { tokenizerDir: o.tokenizerDir });
  const evalResult = o.evalData ? await evaluatePretraining(o.config, params, o.evalData, micro, o.threads) : undefined;
  return { steps: state.step, params, history, eval: evalResult, modelDir: o.out };
}

interface StreamItem extends PrefetchedBatch {
  epoch: number;
}

/** Endless micro-batches over epochs, each epoch in its own seeded order, starting at (epoch, position). */
function batchStream(dataset: PretrainingDataset, micro: number, seed: number, shuffle: boolean, epoch0: number, position0: number) {
  let epoch = epoch0;
  let position = position0;
  let it: AsyncGenerator<PrefetchedBatch> | undefined;
  return {
    async next(): Promise<StreamItem> {
      for (;;) {
        it ??= prefetchBatches(dataset, epochOrder(dataset.size, seed, epoch, shuffle), micro, 4, { start: position, dropLast: true });
        const r = await it.next();
        // An epoch ends when no full micro-batch is left in it; the next starts at 0 in a new order.
        const epochEnds = r.done || r.value.next_position + micro > dataset.size;
        if (epochEnds) {
          await it.return(undefined);
          it = undefined;
        }
        if (r.done) {
          epoch += 1;
          position = 0;
          continue;
        }
        epoch = epochEnds ? epoch + 1 : epoch;
        position = epochEnds ? 0 : r.value.next_position;
        return { ...r.value, epoch, next_position: position };
      }
    },
    async close(): Promise<void> {
      await it?.return(undefined);
    },
  };
}

/** MLM accuracy / perplexity and NSP accuracy of `params` on held-out pre-training data (dropout off). */
export async function evaluatePretraining(
  config: BertConfig,
  params: ReadonlyMap<string, ParamTensor>,
  data: string,
  batchSize: number,
  threads?: number,
): Promise<EvalResult> {
  if (!existsSync(data)) throw new BertError('held-out data not found', data);
  const dataset = openPretrainingData(data);
  const objective = preTrainingObjective(config, { training: false });
  const runner = await ModelRunner.create(objective.ctx, objective.outputs, { threads });
  const sums = { mlm: 0, mlmCorrect: 0, mlmCount: 0, nsp: 0, nspCorrect: 0, n: 0 };
  try {
    for (let start = 0; start < dataset.size; start += batchSize) {
      const idx = Array.from({ length: Math.min(batchSize, dataset.size - start) }, (_, i) => start + i);
      const r = await runner.run(preTrainingFeeds(dataset.batch(idx)), params);
      const count = Number(r.mlm_count!.data[0]);
      sums.mlm += Number(r.mlm_loss!.data[0]) * count; // the loss is a mean over this batch's masked tokens
      sums.mlmCorrect += Number(r.mlm_correct!.data[0]);
      sums.mlmCount += count;
      sums.nsp += Number(r.nsp_loss!.data[0]) * idx.length;
      sums.nspCorrect += Number(r.nsp_correct!.data[0]);
      sums.n += idx.length;
    }
  } finally {
    await runner.dispose();
    dataset.close();
  }
  const mlmLoss = sums.mlm / Math.max(1, sums.mlmCount);
  return {
    examples: sums.n,
    mlm_loss: mlmLoss,
    mlm_accuracy: sums.mlmCorrect / Math.max(1, sums.mlmCount),
    mlm_perplexity: Math.exp(mlmLoss),
    nsp_loss: sums.nsp / Math.max(1, sums.n),
    nsp_accuracy: sums.nspCorrect / Math.max(1, sums.n),
  };
}

/**
 * Draws the run's losses (total, MLM, NSP) as OUT/loss.svg, and its MLM and NSP accuracy on training
 * batches as OUT/accuracy.svg (where next-sentence learning shows: its loss moves little against MLM's),
 * with context-free baselines as dashed lines when given. Returns both paths.
 */
export function writePretrainCurves(
  out: string,
  history: readonly PretrainStepRecord[],
  baselines: { mlm_accuracy?: number; nsp_accuracy?: number } = {},
): { loss: string; accuracy: string } {
  const x = history.map((r) => r.step);
  const series = (key: 'loss' | 'mlm_loss' | 'nsp_loss' | 'mlm_accuracy' | 'nsp_accuracy', color?: string): LineSeries => ({ name: key, x, y: history.map((r) => r[key]), color });
  const paths = { loss: join(out, 'loss.svg'), accuracy: join(out, 'accuracy.svg') };
  writeLossCurveSvg(paths.loss, [series('loss'), series('mlm_loss'), series('nsp_loss')], { title: 'Pre-training loss', yLabel: 'loss', smoothing: 0.8 });
  const colors = { mlm_accuracy: '#4e79a7', nsp_accuracy: '#f28e2b' } as const;
  const accuracy = [series('mlm_accuracy', colors.mlm_accuracy), series('nsp_accuracy', colors.nsp_accuracy)];
  const ends = x.length > 0 ? [x[0]!, x[x.length - 1]!] : [];
  for (const key of ['mlm_accuracy', 'nsp_accuracy'] as const) {
    const b = baselines[key];
    if (b !== undefined) accuracy.push({ name: `${key} baseline`, x: ends, y: ends.map(() => b), color: colors[key], dashed: true });
  }
  writeLossCurveSvg(paths.accuracy, accuracy, { title: 'Pre-training accuracy on training batches', yLabel: 'accuracy', smoothing: 0.95 });
  return paths;
}

