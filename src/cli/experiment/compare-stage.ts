// One fine-tuning comparison of the study, run by the comparison routine that `npm start` uses
// (train/comparison.ts): a task fine-tuned from a pre-trained model and from the same architecture's
// random weights, with the same recipe and seeds, each run stopped early on a split of the training
// file and scored once on the task's official evaluation file.
import { readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { holdOutExamples } from '../../data/held-out.ts';
import type { PresetName } from '../../model/config.ts';
import { compareInitializations, type ComparisonRecipe, type ComparisonResult } from '../../train/comparison.ts';
import type { TaskPlan } from './plan.ts';
import type { Stage } from './stages.ts';

/** Relative fine-tuning cost per example at 64 tokens (mini = 1), as pre-training's speeds. */
const COST_FACTOR: Record<PresetName, number> = { tiny: 0.33, mini: 1, small: 3, medium: 6, base: 17, large: 55 };

/** Estimated seconds of one run at 2 cores: mini trains some 75 and scores some 300 examples of 64 tokens a second. */
function runCost(size: PresetName, t: TaskPlan): number {
  const scored = t.evalsPerRun * t.selectionExamples + t.testSize;
  return COST_FACTOR[size] * (t.maxSeqLength / 64) * ((t.trainExamples * t.epochs) / 75 + scored / 300 + 3);
}

export function recipeOf(t: TaskPlan): ComparisonRecipe {
  const steps = Math.ceil(t.trainExamples / t.batchSize) * t.epochs;
  return {
    lrs: [t.lr], batchSize: t.batchSize, steps, evalEvery: Math.max(1, Math.ceil(steps / t.evalsPerRun)), patience: t.patience,
    warmupRatio: 0.1, weightDecay: 0.01, maxSeqLength: t.maxSeqLength,
  };
}

export function comparisonStage(id: string, size: PresetName, t: TaskPlan, modelDir: () => string, seeds: readonly number[]): Stage<ComparisonResult> {
  return {
    id,
    title: `${t.title}: ${size} pre-trained vs random init, seeds ${seeds.join(', ')}`,
    cost: 2 * seeds.length * runCost(size, t),
    async run(ctx) {
      const model = modelDir();
      // The stopping step is picked on examples held out of the training file, never on the scored file.
      const ext = extname(t.train) === '.tsv' ? '.tsv' : '.conll';
      const split = holdOutExamples(readFileSync(t.train, 'utf8'), ext === '.tsv' ? 'tsv-header' : 'conll', t.selectionExamples);
      const train = join(ctx.dir, `train${ext}`);
      const dev = join(ctx.dir, `selection${ext}`);
      writeFileSync(train, split.rest);
      writeFileSync(dev, split.heldOut);
      const recipe = recipeOf(t);
      for (const seed of seeds) {
        for (const arm of ['pretrained', 'random'] as const) {
          ctx.command(['bert', 'finetune', '--task', t.task, '--model', model, '--train', train, '--dev', dev, '--out', join(ctx.dir, 'runs', `${arm}-n${t.trainExamples}-lr${t.lr}-seed${seed}`),
            '--epochs', String(Math.max(1, Math.ceil(recipe.steps / Math.ceil(t.trainExamples / t.batchSize)))), '--lr', String(t.lr), '--batch-size', String(t.batchSize),
            '--max-seq-length', String(t.maxSeqLength), '--warmup-ratio', String(recipe.warmupRatio), '--seed', String(seed), '--eval-every', String(recipe.evalEvery),
            '--early-stopping', String(recipe.patience), '--max-train-examples', String(t.trainExamples), ...(arm === 'random' ? ['--random-init'] : [])]);
          ctx.command(['bert', 'eval', '--model', join(ctx.dir, 'runs', `${arm}-n${t.trainExamples}-lr${t.lr}-seed${seed}`), '--task', t.task, '--data', t.test, '--max-seq-length', String(t.maxSeqLength)]);
        }
      }
      let done = 0;
      return compareInitializations({
        model, out: ctx.dir, seeds: [...seeds], sizes: [t.trainExamples], recipe,
        task: { task: t.task, train, dev, test: t.test },
        log: ctx.log,
        onRun: () => ctx.progress(++done / (2 * seeds.length)),
      });
    },
  };
}
