// One fine-tuning comparison of the study: a task fine-tuned from a pre-trained model and from the
// same architecture's random weights, with the same recipe and seeds, dev-scored along the way.
import { join } from 'node:path';
import type { PresetName } from '../../model/config.ts';
import { finetune } from '../../train/finetune.ts';
import type { TaskPlan } from './plan.ts';
import type { Stage } from './stages.ts';

export type Arm = 'pretrained' | 'random';

export interface ArmRun {
  seed: number;
  /** The best dev evaluation's main metric (the model kept). */
  score: number;
  metrics: Record<string, number>;
  /** Dev main metric at each evaluation. */
  curve: Array<{ step: number; value: number }>;
  steps: number;
  seconds: number;
}

export interface ComparisonResult {
  task: string;
  metric: string;
  trainExamples: number;
  devExamples: number;
  arms: Record<Arm, ArmRun[]>;
}

/** Relative fine-tuning cost per example at 64 tokens (mini = 1), as pre-training's speeds. */
const COST_FACTOR: Record<PresetName, number> = { tiny: 0.33, mini: 1, small: 3, medium: 6, base: 17, large: 55 };

/** Estimated seconds of one arm-and-seed run at 2 cores: mini trains some 75 and scores some 300 examples of 64 tokens a second. */
function runCost(size: PresetName, t: TaskPlan): number {
  const n = t.trainExamples ?? 5000;
  return COST_FACTOR[size] * (t.maxSeqLength / 64) * ((n * t.epochs) / 75 + (t.evalsPerRun * Math.min(t.devExamples ?? Infinity, t.devSize)) / 300 + 3);
}

export function comparisonStage(id: string, size: PresetName, t: TaskPlan, modelDir: () => string, seeds: readonly number[]): Stage<ComparisonResult> {
  return {
    id,
    title: `${t.title}: ${size} pre-trained vs random init, seeds ${seeds.join(', ')}`,
    cost: 2 * seeds.length * runCost(size, t),
    async run(ctx) {
      const model = modelDir();
      const steps = Math.ceil((t.trainExamples ?? 5000) / t.batchSize) * t.epochs;
      const evalEvery = Math.max(1, Math.ceil(steps / t.evalsPerRun));
      const arms: Record<Arm, ArmRun[]> = { pretrained: [], random: [] };
      let trainExamples = 0;
      let devExamples = 0;
      let metric = '';
      const runs = seeds.flatMap((seed) => (['pretrained', 'random'] as const).map((arm) => ({ seed, arm })));
      for (const [k, { seed, arm }] of runs.entries()) {
        const out = join(ctx.dir, `${arm}-seed${seed}`);
        ctx.command(['bert', 'finetune', '--task', t.task, '--model', model, '--train', t.train, '--dev', t.dev, '--out', out, '--epochs', String(t.epochs),
          '--lr', String(t.lr), '--batch-size', String(t.batchSize), '--max-seq-length', String(t.maxSeqLength), '--warmup-ratio', '0.1', '--seed', String(seed),
          '--eval-every', String(evalEvery), ...(t.trainExamples === undefined ? [] : ['--max-train-examples', String(t.trainExamples)]), ...(arm === 'random' ? ['--random-init'] : [])]);
        const t0 = performance.now();
        const r = await finetune({
          task: t.task, model, train: t.train, dev: t.dev, out, epochs: t.epochs, lr: t.lr, batchSize: t.batchSize, maxSeqLength: t.maxSeqLength,
          warmupRatio: 0.1, weightDecay: 0.01, seed, randomInit: arm === 'random', maxTrainExamples: t.trainExamples, maxDevExamples: t.devExamples, evalEvery,
          onStart: (info) => {
            trainExamples = info.train_examples;
            devExamples = info.dev_examples;
          },
          onStep: (s) => ctx.progress((k + s.step / s.steps) / runs.length),
        });
        metric = r.best.main;
        const score = r.best.metrics[metric]!;
        arms[arm].push({ seed, score, metrics: r.best.metrics, curve: r.evals.map((e) => ({ step: e.step, value: e.metrics[metric]! })), steps: r.steps, seconds: +((performance.now() - t0) / 1000).toFixed(1) });
        ctx.log(`${arm} seed ${seed}: dev ${metric} ${(100 * score).toFixed(1)}`);
      }
      return { task: t.id, metric, trainExamples, devExamples, arms };
    },
  };
}
