// The paper's central experiment as one routine: the same architecture fine-tuned from a pre-trained
// model folder and from random weights, each arm with the same recipe chosen the same way (one fixed
// learning rate, or the best of a small grid by mean dev score), every run stopped early on dev, and
// scored once on a separate test file. Several seeds per arm and several labeled-set sizes (the
// low-resource curve); the trivial baselines beside them. `npm start` and `bert experiment` both use it.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ColumnOptions } from '../data/tasks/generic.ts';
import { BertError } from '../errors.ts';
import { trivialBaselines } from './comparison-baselines.ts';
import { evaluateModel } from './finetune-eval.ts';
import { finetune, sample } from './finetune.ts';
import { labelMapOf, readTaskExamples, taskSpec, type TaskExamples } from './finetune-tasks.ts';

export type Arm = 'pretrained' | 'random';
export const ARMS: readonly Arm[] = ['pretrained', 'random'];
export const ARM_NAMES: Record<Arm, string> = { pretrained: 'pre-trained', random: 'random init' };

export interface ComparisonTask {
  /** A `bert finetune` task name (token-classification, ner, sst2, mrpc, ...). */
  task: string;
  train: string;
  /** Picks the learning rate and the stopping step; never the test file. */
  dev: string;
  /** Scored once per run, with the parameters dev picked. */
  test: string;
  columns?: ColumnOptions;
}

export interface ComparisonRecipe {
  /** Peak learning rates; with more than one, each arm (and size) keeps the one with the best mean dev score. */
  lrs: number[];
  batchSize: number;
  /** Length of the linear warmup/decay schedule in optimizer steps (rounded up to whole epochs); early stopping usually ends a run first. */
  steps: number;
  /** Score dev every this many steps. */
  evalEvery: number;
  /** Stop after this many dev scores without a better one. */
  patience: number;
  warmupRatio: number;
  weightDecay: number;
  maxSeqLength: number;
  /** Pieces between the starts of overlapping windows over long inputs. */
  docStride?: number;
  /** Train only the output layer on the encoder's features (the paper's feature-based approach, section 5.3). */
  freezeEncoder?: boolean;
}

export interface ComparisonOptions {
  /** The pre-trained model folder (with tokenizer files); the random arm uses its config and tokenizer. */
  model: string;
  task: ComparisonTask;
  /** Run folders go in OUT/runs. */
  out: string;
  /** Fine-tuning seeds: each seeds the labeled sample (the same for both arms), the head, data order and dropout. */
  seeds: number[];
  /** Labeled-set sizes (a seeded sample of the training file); a size at or over the file's size means all of it. */
  sizes: number[];
  /** The size reported as the headline (default: the first of `sizes`). */
  mainSize?: number;
  recipe: ComparisonRecipe;
  /** Seeds run at the sizes other than the headline (default all of `seeds`; fewer makes the curve cheaper). */
  curveSeeds?: number;
  /** 'each' picks the learning rate on dev at every size; 'main' picks it at the headline size and reuses it (cheaper). */
  selectAt?: 'each' | 'main';
  /** Keep every run's best weights (default: only their scores, curves and logs). */
  keepModels?: boolean;
  threads?: number;
  log?: (line: string) => void;
  onRun?: (run: RunRecord) => void;
}

/** One fine-tuning run: one arm, labeled-set size, learning rate and seed. */
export interface RunRecord {
  arm: Arm;
  examples: number;
  lr: number;
  seed: number;
  /** The best dev score; its parameters are the ones tested. */
  dev: number;
  test: number;
  best_step: number;
  steps: number;
  stopped_early: boolean;
  /** Dev main metric at each evaluation. */
  curve: { steps: number[]; scores: number[] };
  seconds: number;
}

export interface ArmResult {
  /** The learning rate this arm kept. */
  lr: number;
  /** Test score per seed, in `seeds` order. */
  scores: number[];
  mean: number;
  /** Sample standard deviation over seeds (0 for one seed). */
  std: number;
  /** Best dev score per seed. */
  dev: number[];
  /** Dev score over fine-tuning steps, one curve per seed. */
  curves: Array<{ seed: number; steps: number[]; scores: number[] }>;
}

export interface SizeResult {
  examples: number;
  pretrained: ArmResult;
  random: ArmResult;
  /** Baseline name -> test score (mean over the seeds' labeled samples). */
  baselines: Record<string, number>;
}

export interface ComparisonResult {
  task: string;
  /** The task's main metric, in [0, 1] (accuracy, F1, ...). */
  metric: string;
  seeds: number[];
  /** The headline labeled-set size, and how many training examples there were. */
  examples: number;
  train_examples: number;
  test_examples: number;
  recipe: ComparisonRecipe;
  pretrained: ArmResult;
  random: ArmResult;
  baselines: Record<string, number>;
  /** Every size, smallest first: the low-resource curve. */
  sizes: SizeResult[];
  runs: RunRecord[];
  seconds: number;
}

export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const variance = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

function checkOptions(o: ComparisonOptions): void {
  const r = o.recipe;
  if (o.seeds.length === 0) throw new BertError('a comparison needs at least one seed');
  if (o.curveSeeds !== undefined && !(Number.isInteger(o.curveSeeds) && o.curveSeeds > 0)) throw new BertError(`curveSeeds must be a positive integer, got ${o.curveSeeds}`);
  if (o.sizes.length === 0 || o.sizes.some((n) => !(Number.isInteger(n) && n > 0))) throw new BertError(`labeled-set sizes must be positive integers, got ${JSON.stringify(o.sizes)}`);
  if (r.lrs.length === 0 || r.lrs.some((x) => !(x > 0))) throw new BertError(`learning rates must be positive, got ${JSON.stringify(r.lrs)}`);
  for (const [k, v] of [['batchSize', r.batchSize], ['steps', r.steps], ['evalEvery', r.evalEvery], ['patience', r.patience]] as const) {
    if (!(Number.isInteger(v) && v > 0)) throw new BertError(`recipe.${k} must be a positive integer, got ${v}`);
  }
}

const fmt = (x: number) => (100 * x).toFixed(1);

/** Runs both arms over every size, learning rate and seed; see the file's opening comment. */
export async function compareInitializations(o: ComparisonOptions): Promise<ComparisonResult> {
  checkOptions(o);
  const t0 = performance.now();
  const say = o.log ?? (() => {});
  const spec = taskSpec(o.task.task);
  const train = readTaskExamples(spec, o.task.train, o.task.columns);
  const test = readTaskExamples(spec, o.task.test, o.task.columns);
  const labels = labelMapOf(spec, train);
  const available = train.examples.length;
  const sizes = [...new Set(o.sizes.map((n) => Math.min(n, available)))].sort((a, b) => a - b);
  const mainSize = Math.min(o.mainSize ?? o.sizes[0]!, available);
  // The headline size first, so that 'main' selection knows its learning rates before the other sizes run.
  const order = [mainSize, ...sizes.filter((n) => n !== mainSize)];
  const runs: RunRecord[] = [];
  const results = new Map<number, SizeResult>();
  const chosen = new Map<Arm, number>();
  let metric = '';

  const runOne = async (arm: Arm, examples: number, lr: number, seed: number): Promise<RunRecord> => {
    const t = performance.now();
    const dir = join(o.out, 'runs', `${arm}-n${examples}-lr${lr}-seed${seed}`);
    mkdirSync(dir, { recursive: true });
    const r = o.recipe;
    const stepsPerEpoch = Math.ceil(examples / r.batchSize);
    const common = { task: o.task.task, maxSeqLength: r.maxSeqLength, docStride: r.docStride, columns: o.task.columns, threads: o.threads };
    const result = await finetune({
      ...common,
      model: o.model,
      train: o.task.train,
      dev: o.task.dev,
      out: dir,
      epochs: Math.max(1, Math.ceil(r.steps / stepsPerEpoch)),
      lr,
      batchSize: r.batchSize,
      warmupRatio: r.warmupRatio,
      weightDecay: r.weightDecay,
      seed,
      evalEvery: r.evalEvery,
      earlyStopping: r.patience,
      randomInit: arm === 'random',
      freezeEncoder: r.freezeEncoder,
      maxTrainExamples: examples,
    });
    const scored = await evaluateModel({ ...common, model: dir, data: o.task.test, batchSize: 64 });
    if (!o.keepModels) rmSync(join(dir, 'model.safetensors'), { force: true });
    const main = result.best.main;
    metric = main;
    const record: RunRecord = {
      arm, examples, lr, seed,
      dev: result.best.metrics[main]!,
      test: scored.metrics[main]!,
      best_step: result.best.step,
      steps: result.steps,
      stopped_early: result.stoppedEarly,
      curve: { steps: result.evals.map((e) => e.step), scores: result.evals.map((e) => e.metrics[main]!) },
      seconds: +((performance.now() - t) / 1000).toFixed(1),
    };
    say(`  ${ARM_NAMES[arm].padEnd(11)} n=${examples} lr ${lr} seed ${seed}: dev ${fmt(record.dev)} (step ${record.best_step} of ${record.steps}${record.stopped_early ? ', stopped early' : ''})  test ${fmt(record.test)}  ${record.seconds} s`);
    runs.push(record);
    o.onRun?.(record);
    return record;
  };

  for (const examples of order) {
    const seeds = examples === mainSize ? o.seeds : o.seeds.slice(0, o.curveSeeds ?? o.seeds.length);
    say(`${spec.name}: ${examples} labeled examples${examples === available ? ' (all)' : ''}, seeds ${seeds.join(', ')}`);
    const arms = {} as Record<Arm, ArmResult>;
    for (const arm of ARMS) {
      const lrs = o.selectAt === 'main' && chosen.has(arm) ? [chosen.get(arm)!] : o.recipe.lrs;
      let best: { lr: number; dev: number; runs: RunRecord[] } | undefined;
      for (const lr of lrs) {
        const done: RunRecord[] = [];
        for (const seed of seeds) done.push(await runOne(arm, examples, lr, seed));
        const dev = meanStd(done.map((r) => r.dev)).mean;
        if (best === undefined || dev > best.dev) best = { lr, dev, runs: done };
      }
      if (examples === mainSize) chosen.set(arm, best!.lr);
      const scores = best!.runs.map((r) => r.test);
      arms[arm] = {
        lr: best!.lr, scores, ...meanStd(scores), dev: best!.runs.map((r) => r.dev),
        curves: best!.runs.map((r) => ({ seed: r.seed, ...r.curve })),
      };
      if (lrs.length > 1) say(`  ${ARM_NAMES[arm]} keeps lr ${best!.lr} (mean dev ${fmt(best!.dev)})`);
    }
    const baselines = averageBaselines(seeds.map((seed) => trivialBaselines(spec, sampled(train, examples, seed), test, labels)));
    results.set(examples, { examples, ...arms, baselines });
  }

  const head = results.get(mainSize)!;
  return {
    task: spec.name, metric, seeds: [...o.seeds], examples: mainSize, train_examples: available, test_examples: test.examples.length,
    recipe: o.recipe, pretrained: head.pretrained, random: head.random, baselines: head.baselines,
    sizes: sizes.map((n) => results.get(n)!), runs, seconds: +((performance.now() - t0) / 1000).toFixed(1),
  };
}

/** The same seeded sample of training examples fine-tuning draws (finetune's maxTrainExamples). */
function sampled(train: TaskExamples, n: number, seed: number): TaskExamples {
  return { ...train, examples: sample<unknown>(train.examples, n, seed) } as TaskExamples;
}

function averageBaselines(perSeed: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const names = Object.keys(perSeed[0] ?? {});
  return Object.fromEntries(names.map((k) => [k, meanStd(perSeed.map((b) => b[k]!)).mean]));
}
