// `bert finetune`: one added output layer and every parameter trained end to end (paper, section 4).
// Batches are drawn in a seeded shuffled order and padded to their longest row; each optimizer step
// averages gradAccum micro-batches, clips and applies AdamW on a linear warmup/decay schedule. The dev
// set is scored every epoch (or every N steps) with the task's main metric; the best parameters are
// kept in `out` as a plain Hugging Face model folder, and training stops early when asked.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/folder.ts';
import { bertParameterShapes, describeMatch, matchState } from '../checkpoint/keys.ts';
import { epochOrder } from '../data/dataset.ts';
import type { ColumnOptions } from '../data/tasks/generic.ts';
import { LabelMap } from '../data/tasks/labels.ts';
import { BertError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { lengthBuckets } from '../inference/batching.ts';
import type { BertConfig } from '../model/config.ts';
import { initParams } from '../model/init.ts';
import type { ParamTensor } from '../model/runner.ts';
import { CompiledGraph, type HostTensor } from '../runtime/session.ts';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.ts';
import { ARCHITECTURE_OF_FAMILY, finetuneForward, finetuneObjective, HEAD_OF_FAMILY, type FinetuneHead } from './finetune-objectives.ts';
import {
  buildTaskFeatures, collate, featureLength, labelMapOf, numChoices, predictionRecords, readTaskExamples, scoreTask, splitOutputs, taskSpec,
  type FeatureOutput, type TaskData, type TaskScores, type TaskSpec,
} from './finetune-tasks.ts';
import { AdamW, GradAccumulator } from './optimizer.ts';
import { writeLossCurveSvg } from './plot.ts';
import { checkSchedule, warmupFromRatio } from './schedule.ts';
import { TrainStep } from './step.ts';
import { applyUpdate } from './update.ts';

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

/** The encoder of `dir` (or fresh weights) under `head`'s parameter names; missing ones (the new head) fresh, as from_pretrained. */
export function startingParams(
  dir: string,
  config: BertConfig,
  head: FinetuneHead,
  opts: { seed: number; randomInit?: boolean; say: (m: string) => void; tensors?: ReadonlyMap<string, ParamTensor>; source?: string },
): Map<string, ParamTensor> {
  const shapes = bertParameterShapes(config, HEAD_OF_FAMILY[head.family], head.numLabels);
  const fresh = initParams(shapes, config, opts.seed);
  if (opts.randomInit) return fresh;
  const tensors = opts.tensors ?? loadCheckpoint(dir).tensors;
  const match = matchState(shapes, tensors, opts.source ?? dir);
  for (const line of describeMatch(match, ARCHITECTURE_OF_FAMILY[head.family], dir)) opts.say(line);
  // Copies: the optimizer updates in place, and the loaded tensors may be shared.
  return new Map([...shapes.keys()].map((name) => {
    const t = tensors.get(name);
    return [name, t ? { shape: [...t.shape], data: Float32Array.from(t.data) } : fresh.get(name)!];
  }));
}

/** config.json of a fine-tuned model: its class, its label names, regression's problem_type. */
export function finetunedConfig(base: BertConfig, spec: TaskSpec, labels: LabelMap | undefined): BertConfig {
  const { id2label: _i, label2id: _l, problem_type: _p, ...rest } = base;
  const config: BertConfig = { ...rest, architectures: [ARCHITECTURE_OF_FAMILY[spec.family]] };
  if (labels !== undefined) {
    const { id2label, label2id } = labels.toConfig();
    config.id2label = Object.fromEntries(Object.entries(id2label).map(([k, v]) => [Number(k), v]));
    config.label2id = label2id;
    config.problem_type = 'single_label_classification';
  }
  if (spec.family === 'regression') {
    config.id2label = { 0: 'LABEL_0' };
    config.label2id = { LABEL_0: 0 };
    config.problem_type = 'regression';
  }
  return config;
}

function headOf(spec: TaskSpec, labels: LabelMap | undefined, data: TaskData): FinetuneHead {
  switch (spec.family) {
    case 'classification':
    case 'token-classification':
      return { family: spec.family, numLabels: labels!.size };
    case 'multiple-choice':
      return { family: spec.family, numLabels: numChoices(data) };
    default:
      return { family: spec.family, numLabels: 1 };
  }
}

/** A seeded sample of `n` of `items`, kept in file order. */
export function sample<T>(items: readonly T[], n: number | undefined, seed: number): T[] {
  if (n === undefined || n >= items.length) return [...items];
  const keep = [...epochOrder(items.length, seed ^ 0x5eed, 0)].slice(0, n).sort((a, b) => a - b);
  return keep.map((i) => items[i]!);
}

/** A forward graph (dropout off) compiled once, run over features in length buckets. */
export class ForwardRunner {
  private constructor(
    private readonly compiled: CompiledGraph,
    readonly head: FinetuneHead,
  ) {}

  static async compile(config: BertConfig, head: FinetuneHead, threads?: number): Promise<ForwardRunner> {
    const { outputs } = finetuneForward(config, head, { training: false });
    return new ForwardRunner(await CompiledGraph.compile(outputs, { threads }), head);
  }

  /** One output per feature, in feature order. */
  async run(data: TaskData, params: ReadonlyMap<string, ParamTensor>, batchSize: number): Promise<FeatureOutput[]> {
    const lengths = data.features.map(featureLength);
    const maxLen = Math.max(...lengths);
    const out: FeatureOutput[] = new Array(data.features.length);
    for (const batch of lengthBuckets(lengths, { maxBatch: batchSize, maxTokens: batchSize * maxLen })) {
      const features = batch.map((i) => data.features[i]!);
      const feeds: Record<string, HostTensor> = collate(features, this.head.family, false);
      for (const v of this.compiled.inputs) {
        const p = params.get(v.name);
        if (p) feeds[v.name] = { dtype: 'float32', shape: p.shape, data: p.data };
      }
      const r = await this.compiled.run(feeds);
      splitOutputs(features, this.head.family, r, this.head.numLabels).forEach((o, k) => (out[batch[k]!] = o));
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.compiled.dispose();
  }
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

  const head = headOf(spec, labels, trainAll);
  if (spec.family === 'multiple-choice' && numChoices(dev) !== head.numLabels) {
    throw new BertError(`dev examples have ${numChoices(dev)} endings, training examples ${head.numLabels}`, o.dev);
  }
  const config = finetunedConfig(ckpt.config, spec, labels);
  const params = startingParams(o.model, config, head, { seed: o.seed, randomInit: o.randomInit, say, tensors: ckpt.tensors, source: ckpt.source });

  const stepsPerEpoch = Math.ceil(trainFeatures.length / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const schedule = checkSchedule({ lr: o.lr, steps: totalSteps, warmup: warmupFromRatio(o.warmupRatio, totalSteps) });
  const step = await TrainStep.compile(finetuneObjective(config, head, { training: true }), { seed: o.seed, threads: o.threads });
  const forward = await ForwardRunner.compile(config, head, o.threads);
  const optimizer = new AdamW(params, { weightDecay: o.weightDecay, eps: 1e-6 });
  const accumulator = gradAccum > 1 ? new GradAccumulator(params) : undefined;
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
        let lossSum = 0;
        let parts = 0;
        let grads: ReadonlyMap<string, Float32Array> | undefined;
        for (let m = 0; m < batch.length; m += micro) {
          const r = await step.run(collate(batch.slice(m, m + micro), head.family, true), params, microIndex++);
          lossSum += r.loss;
          parts++;
          if (accumulator) accumulator.add(r.grads);
          else grads = r.grads;
        }
        if (accumulator) grads = accumulator.average();
        const { lr, grad_norm } = applyUpdate(optimizer, grads!, k, { schedule, maxGradNorm: o.maxGradNorm ?? 1 });
        k++;
        const record: FinetuneStepRecord = {
          step: k, steps: totalSteps, epoch: epoch + (start + batch.length) / order.length, loss: lossSum / parts, lr, grad_norm,
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

// ---- eval and predict on a fine-tuned folder -------------------------------------------------------

export interface FinetunedModel {
  spec: TaskSpec;
  config: BertConfig;
  labels: LabelMap | undefined;
  params: Map<string, ParamTensor>;
  tokenizer: BertTokenizer;
}

export interface RunOptions extends FeatureFlags {
  model: string;
  task: string;
  data: string;
  batchSize?: number;
  /** SQuAD v2.0: answer '' when the no-answer score beats the best span by more than this (default 0). */
  nullThreshold?: number;
  threads?: number;
  onMessage?: (m: string) => void;
}

async function runOnFile(o: RunOptions, labelled: boolean): Promise<{ data: TaskData; outputs: FeatureOutput[]; labels: LabelMap | undefined }> {
  const spec = taskSpec(o.task);
  const ckpt = loadCheckpoint(o.model);
  const tokenizer = BertTokenizer.fromDirectory(o.model);
  const needsLabels = spec.family === 'classification' || spec.family === 'token-classification';
  let labels: LabelMap | undefined;
  if (needsLabels) {
    if (ckpt.config.id2label === undefined) throw new BertError(`config.json has no id2label: fine-tune this model for ${spec.name} first`, o.model);
    labels = LabelMap.fromConfig({ id2label: Object.fromEntries(Object.entries(ckpt.config.id2label).map(([k, v]) => [String(k), v])) });
  }
  const data = buildTaskFeatures(tokenizer, readTaskExamples(spec, o.data, o.columns), spec, labels, {
    max_seq_length: o.maxSeqLength, doc_stride: o.docStride, max_query_length: o.maxQueryLength, training: false, labelled,
  });
  for (const n of data.notes) o.onMessage?.(n);
  const head = headOf(spec, labels, data);
  const params = startingParams(o.model, ckpt.config, head, { seed: 0, say: o.onMessage ?? (() => {}), tensors: ckpt.tensors, source: ckpt.source });
  const forward = await ForwardRunner.compile(ckpt.config, head, o.threads);
  try {
    return { data, outputs: await forward.run(data, params, o.batchSize ?? 32), labels };
  } finally {
    await forward.dispose();
  }
}

/** `bert eval`: the task's metrics of a fine-tuned folder on a labelled file. */
export async function evaluateModel(o: RunOptions): Promise<TaskScores & { examples: number }> {
  const { data, outputs, labels } = await runOnFile(o, true);
  return { ...scoreTask(data, outputs, labels, { null_threshold: o.nullThreshold }), examples: data.examples.examples.length };
}

/** `bert predict`: one record per input example, in order (labels in the file, if any, are ignored). */
export async function predictRecords(o: RunOptions): Promise<Array<Record<string, unknown>>> {
  const { data, outputs, labels } = await runOnFile(o, false);
  return predictionRecords(data, outputs, labels, { null_threshold: o.nullThreshold });
}
