// `bert finetune`: one added output layer and every parameter trained end to end (paper, section 4).
// Batches are drawn in a seeded shuffled order and padded to their longest row; each optimizer step
// averages gradAccum micro-batches, clips and applies AdamW on a linear warmup/decay schedule. The dev
// set is scored every epoch (or every N steps) with the task's main metric; the best parameters are
// kept in `out` as a plain Hugging Face model folder, and training stops early when asked.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/folder.ts';
import { loadWeights } from '../checkpoint/weights.ts';
import { epochOrder } from '../data/dataset.ts';
import type { ColumnOptions } from '../data/tasks/generic.ts';
import { BertError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { BertConfig } from '../model/config.ts';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.ts';
import { ForwardRunner, taskHead } from './finetune-forward.ts';
import { finetuneObjective, headParameters } from './finetune-objectives.ts';
import {
  buildTaskFeatures, collate, labelMapOf, numChoices, readTaskExamples, scoreTask, taskSpec, type TaskData,
} from './finetune-tasks.ts';
import { OptimizerStep } from './accumulate.ts';
import { AdamW } from './optimizer.ts';
import { writeLossCurveSvg } from './plot.ts';
import { checkSchedule, warmupFromRatio } from './schedule.ts';
import { TrainStep } from './step.ts';
import { finetunedConfig } from './finetune-config.ts';

export { finetunedConfig } from './finetune-config.ts';

/** How inputs become features; eval and predict must use what training used. */
export interface FeatureFlags {
  maxSeqLength: number;
  docStride?: number;
  maxQueryLength?: number;
  columns?: ColumnOptions;
}

export interface FinetuneOptions extends FeatureFlags {
  task: string;
  /** The model folder to start from (its encoder; a head is added fresh when it has none). */
  model: string;
  train: string;
  dev: string;
  out: string;
  epochs: number;
  lr: number;
  batchSize: number;
  warmupRatio: number;
  weightDecay: number;
  maxGradNorm?: number;
  gradAccum?: number;
  seed: number;
  /** Score the dev set every N optimizer steps (0: at the end of every epoch). */
  evalEvery?: number;
  /** Stop after this many dev evaluations without a better main metric (0: never). */
  earlyStopping?: number;
  /** The same architecture from random initialisation instead of the model's weights (the paper's baseline). */
  randomInit?: boolean;
  /**
   * The paper's feature-based approach (section 5.3) instead of fine-tuning: only the added output
   * layer is trained; the encoder (every `bert.` parameter, pooler included) stays as loaded.
   */
  freezeEncoder?: boolean;
  /** Train on a seeded sample of this many training examples (a budget for small machines). */
  maxTrainExamples?: number;
  /** Score on the first N dev examples only. */
  maxDevExamples?: number;
  threads?: number;
  onStart?: (info: { steps: number; train_examples: number; dev_examples: number }) => void;
  onStep?: (record: FinetuneStepRecord) => void;
  onEval?: (record: FinetuneEvalRecord) => void;
  onMessage?: (message: string) => void;
}

export interface FinetuneStepRecord {
  step: number;
  steps: number;
  epoch: number;
  loss: number;
  lr: number;
  grad_norm: number;
  examples_per_second: number;
}

export interface FinetuneEvalRecord {
  step: number;
  epoch: number;
  metrics: Record<string, number>;
  main: string;
  best: boolean;
}

export interface FinetuneResult {
  steps: number;
  /** The best dev evaluation: its parameters are the model saved in `out`. */
  best: FinetuneEvalRecord;
  history: FinetuneStepRecord[];
  evals: FinetuneEvalRecord[];
  stoppedEarly: boolean;
  modelDir: string;
  config: BertConfig;
}

/** HF's encoder parameters (embeddings, layers, pooler) are `bert.*`; the task's output layer is not. */
function isEncoderParameter(name: string): boolean {
  return name.startsWith('bert.');
}

/** A seeded sample of `n` of `items`, kept in file order. */
export function sample<T>(items: readonly T[], n: number | undefined, seed: number): T[] {
  if (n === undefined || n >= items.length) return [...items];
  const keep = [...epochOrder(items.length, seed ^ 0x5eed, 0)].slice(0, n).sort((a, b) => a - b);
  return keep.map((i) => items[i]!);
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const say = o.onMessage ?? (() => {});
  const gradAccum = o.gradAccum ?? 1;
  if (o.batchSize % gradAccum !== 0) throw new BertError(`--batch-size ${o.batchSize} is not a multiple of --grad-accum ${gradAccum}`);
  if (!(Number.isInteger(o.epochs) && o.epochs > 0)) throw new BertError(`--epochs must be a positive integer, got ${o.epochs}`);
  const micro = o.batchSize / gradAccum;
  const spec = taskSpec(o.task);
  const ckpt = loadCheckpoint(o.model);
  const tokenizer = BertTokenizer.fromDirectory(o.model);
  const padId = tokenizer.specialIds.pad;
  if (o.maxSeqLength > ckpt.config.max_position_embeddings) {
    throw new BertError(`--max-seq-length ${o.maxSeqLength} is more than the model's max_position_embeddings ${ckpt.config.max_position_embeddings}`);
  }

  // Labels are fixed once, by the training file; the dev file must use the same ones.
  const trainExamples = readTaskExamples(spec, o.train, o.columns);
  const labels = labelMapOf(spec, trainExamples);
  const featureOpts = { max_seq_length: o.maxSeqLength, doc_stride: o.docStride, max_query_length: o.maxQueryLength };
  const trainSample = { ...trainExamples, examples: sample<unknown>(trainExamples.examples, o.maxTrainExamples, o.seed) } as typeof trainExamples;
  const trainAll = buildTaskFeatures(tokenizer, trainSample, spec, labels, { ...featureOpts, training: true });
  const trainFeatures = trainAll.features;
  const devExamples = readTaskExamples(spec, o.dev, o.columns);
  const dev = limitExamples(buildTaskFeatures(tokenizer, devExamples, spec, labels, { ...featureOpts, training: false }), o.maxDevExamples);
  for (const n of [...trainAll.notes.map((m) => `train: ${m}`), ...dev.notes.map((m) => `dev: ${m}`)]) say(n);

  const head = taskHead(spec, labels, trainAll);
  if (spec.family === 'multiple-choice' && numChoices(dev) !== head.numLabels) {
    throw new BertError(`dev examples have ${numChoices(dev)} endings, training examples ${head.numLabels}`, o.dev);
  }
  const config = finetunedConfig(ckpt.config, spec, labels);
  const params = loadWeights(o.randomInit ? undefined : ckpt, { ...headParameters(config, head), config, seed: o.seed, say, writable: true }).params;

  const stepsPerEpoch = Math.ceil(trainFeatures.length / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const schedule = checkSchedule({ lr: o.lr, steps: totalSteps, warmup: warmupFromRatio(o.warmupRatio, totalSteps) });
  const trained = (name: string) => !(o.freezeEncoder && isEncoderParameter(name));
  const step = await TrainStep.compile(finetuneObjective(config, head, { training: true }), { seed: o.seed, threads: o.threads, trained });
  const forward = await ForwardRunner.compile(config, head, { padId, threads: o.threads });
  const optimizer = new AdamW(new Map([...params].filter(([name]) => trained(name))), { weightDecay: o.weightDecay, eps: 1e-6 });
  const update = new OptimizerStep(step, optimizer, params, { gradAccum, schedule, maxGradNorm: o.maxGradNorm ?? 1 });
  mkdirSync(o.out, { recursive: true });

  const history: FinetuneStepRecord[] = [];
  const evals: FinetuneEvalRecord[] = [];
  let best: FinetuneEvalRecord | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  let k = 0;
  let microIndex = 0;
  const evalEvery = o.evalEvery ?? 0;
  const patience = o.earlyStopping ?? 0;

  const evaluate = async (epoch: number): Promise<boolean> => {
    const scores = scoreTask(dev, await forward.run(dev, params, o.batchSize), labels);
    const value = scores.metrics[scores.main]!;
    const better = best === undefined || value > best.metrics[best.main]!;
    const record: FinetuneEvalRecord = { step: k, epoch, metrics: scores.metrics, main: scores.main, best: better };
    evals.push(record);
    if (better) {
      best = record;
      sinceBest = 0;
      // Each file is replaced atomically and config.json (the same every time) last, so the folder always holds one whole model.
      saveCheckpoint(o.out, config, params, { tokenizerDir: o.model });
      writeFileAtomic(join(o.out, 'eval_results.json'), `${JSON.stringify({ task: spec.name, step: k, epoch, main: scores.main, ...scores.metrics }, null, 2)}\n`);
    } else sinceBest++;
    o.onEval?.(record);
    return patience > 0 && sinceBest >= patience;
  };

  o.onStart?.({ steps: totalSteps, train_examples: trainFeatures.length, dev_examples: dev.features.length });
  try {
    outer: for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = epochOrder(trainFeatures.length, o.seed, epoch);
      for (let start = 0; start < order.length; start += o.batchSize) {
        const t0 = performance.now();
        const batch = [...order.subarray(start, Math.min(order.length, start + o.batchSize))].map((i) => trainFeatures[i]!);
        const count = Math.ceil(batch.length / micro);
        const { loss, lr, grad_norm } = await update.run(k, {
          count,
          firstIndex: microIndex,
          feeds: (m) => collate(batch.slice(m * micro, (m + 1) * micro), head.family, true, padId),
        });
        microIndex += count;
        k++;
        const record: FinetuneStepRecord = {
          step: k, steps: totalSteps, epoch: epoch + (start + batch.length) / order.length, loss, lr, grad_norm,
          examples_per_second: batch.length / ((performance.now() - t0) / 1000),
        };
        history.push(record);
        o.onStep?.(record);
        const endOfEpoch = start + o.batchSize >= order.length;
        const due = evalEvery > 0 ? k % evalEvery === 0 || k === totalSteps : endOfEpoch;
        if (due && (await evaluate(record.epoch))) {
          stoppedEarly = true;
          say(`early stopping: no better ${best!.main} in ${patience} evaluations`);
          break outer;
        }
      }
    }
  } finally {
    await step.dispose();
    await forward.dispose();
  }
  writeFinetuneCurve(o.out, history, evals);
  return { steps: k, best: best!, history, evals, stoppedEarly, modelDir: o.out, config };
}

function limitExamples(data: TaskData, n: number | undefined): TaskData {
  if (n === undefined) return data;
  const features = data.features.filter((f) => f.example_index < n);
  const e = data.examples;
  const examples = { ...e, examples: e.examples.slice(0, n) } as typeof e;
  return { ...data, examples, features };
}

/** Train loss (smoothed) and the dev main metric against the step, as OUT/curve.svg; returns its path. */
export function writeFinetuneCurve(out: string, history: readonly FinetuneStepRecord[], evals: readonly FinetuneEvalRecord[]): string {
  const path = join(out, 'curve.svg');
  const main = evals[0]?.main ?? 'metric';
  writeLossCurveSvg(
    path,
    [
      { name: 'train loss', x: history.map((r) => r.step), y: history.map((r) => r.loss) },
      { name: `dev ${main}`, x: evals.map((r) => r.step), y: evals.map((r) => r.metrics[main]!) },
    ],
    { title: 'Fine-tuning', xLabel: 'step', yLabel: 'loss / metric', smoothing: 0 },
  );
  return path;
}
