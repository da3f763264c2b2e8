import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { PRESETS, type PresetName } from '../../model/config.ts';
import { ProgressReporter } from '../../train/progress.ts';
import { runStartJob, START_DEFAULTS, type StartOptions } from '../start-job.ts';
import { FINETUNE_STAGE_DEFAULTS } from '../start-finetune.ts';
import { checked, finiteNumber, nonNegativeNumber, oneOf, positiveInt, roundedNonNegative, type Check } from '../flags.ts';

type Flags = Pick<StartOptions, 'out' | 'config' | 'steps' | 'batchSize' | 'maxSeqLength' | 'vocabSize' | 'lr' | 'dropout' | 'seed' | 'threads'> & {
  finetune: boolean;
  labeled: number[];
  finetuneSeeds: number;
  finetuneLrs: number[];
  featureBased: boolean;
};

/** "100,300,1000" -> [100, 300, 1000], each checked by `item`. */
function listOf(item: Check<number>): Check<number[]> {
  return (value, flag) => value.split(',').map((t) => item(t.trim(), flag));
}

function positiveNumber(value: string, flag: string): number {
  const x = nonNegativeNumber(value, flag);
  if (x === 0) throw new BertError(`${flag} must be positive, got ${JSON.stringify(value)}`);
  return x;
}

export function register(program: Command): void {
  program
    .command('start')
    .description('the main job (npm start): vocabulary, pre-training data and a small BERT pre-trained on the Brown corpus, evaluated on held-out documents, then fine-tuned on Brown POS tagging against the same model from random weights, and compared the same way with the encoder frozen')
    .option('--out <dir>', 'where everything is written', START_DEFAULTS.out)
    .option(...checked('--config <preset>', `model size: ${Object.keys(PRESETS).join(', ')}`, oneOf(Object.keys(PRESETS) as PresetName[]), START_DEFAULTS.config))
    .option(...checked('--steps <n>', 'pre-training steps', positiveInt, START_DEFAULTS.steps))
    .option(...checked('--batch-size <n>', 'pre-training batch size', positiveInt, START_DEFAULTS.batchSize))
    .option(...checked('--max-seq-length <n>', 'tokens per pre-training example', positiveInt, START_DEFAULTS.maxSeqLength))
    .option(...checked('--vocab-size <n>', 'WordPiece vocabulary size', positiveInt, START_DEFAULTS.vocabSize))
    .option(...checked('--lr <x>', 'peak learning rate', finiteNumber, START_DEFAULTS.lr))
    .option(...checked('--dropout <p>', "hidden and attention dropout of the model (default: the preset's 0.1)", nonNegativeNumber))
    .option(...checked('--seed <n>', 'seeds the whole run: data, initialisation, pre-training order and dropout, fine-tuning samples and seeds', roundedNonNegative, START_DEFAULTS.seed))
    .option('--no-finetune', 'skip the fine-tuning comparison (pre-trained vs random init on Brown POS tagging)')
    .option(...checked('--labeled <sizes>', 'labeled training sentences for the comparison: the first is the headline, all draw the low-resource curve', listOf(positiveInt), [...FINETUNE_STAGE_DEFAULTS.sizes]))
    .option(...checked('--finetune-seeds <n>', 'fine-tuning runs per arm at the headline size', positiveInt, FINETUNE_STAGE_DEFAULTS.seeds))
    .option(...checked('--finetune-lrs <list>', 'fine-tuning learning rates; each arm keeps the one with the best mean dev score', listOf(positiveNumber), [...FINETUNE_STAGE_DEFAULTS.recipe.lrs]))
    .option('--no-feature-based', "skip the feature-based comparison (the paper's section 5.3: encoder frozen, only the output layer trained)")
    .option(...checked('--threads <n>', 'ONNX Runtime threads (default: all cores)', positiveInt))
    .action(async (flags: Flags) => {
      const t0 = performance.now();
      const { labeled, finetuneSeeds, finetuneLrs, featureBased, ...options } = flags;
      const log = (line: string) => process.stdout.write(`${line}\n`);
      let progress: ProgressReporter | undefined;
      const summary = await runStartJob({
        ...START_DEFAULTS,
        ...options,
        // the feature-based recipe is the job's default unless --no-feature-based turns it off
        finetuneOptions: { sizes: labeled, seeds: finetuneSeeds, recipe: { ...FINETUNE_STAGE_DEFAULTS.recipe, lrs: finetuneLrs }, ...(featureBased ? {} : { featureRecipe: undefined }) },
        log,
        onStep: (r) => {
          progress ??= new ProgressReporter({ total: r.steps, start: r.step - 1, label: 'pretrain' });
          progress.update(r.step, { ...r });
          if (r.step === r.steps) progress.stop({ ...r });
        },
      });
      const e = summary.pretrain.eval!;
      log('');
      if (e.mlm_perplexity > 0.95 * summary.baseline.mlm_perplexity) {
        log('  the masked LM has not yet learned to read context: its held-out perplexity is within 5% of the best guess that ignores every other token (the plateau BERTs sit on before attention finds neighbouring words; see the README)');
      }
      if (e.nsp_accuracy < summary.baseline.nsp + 0.02) {
        log('  next-sentence prediction takes longer than this run: it leaves the majority label after some 2,000 steps of 16 pairs (`npm run start:long`, about 45 minutes on 2 cores; see the README)');
      }
      const f = summary.finetune;
      if (f) {
        for (const line of f.lines) log(line);
        log(`  charts: ${f.files.bars}, ${f.files.curves}, ${f.files.lowResource}; numbers: ${f.files.json}`);
        if (f.featureBased) {
          for (const line of f.featureBased.lines) log(line);
          const b = f.featureBased.files;
          log(`  charts: ${b.bars}, ${b.curves}, ${b.lowResource}; numbers: ${b.json}`);
        }
      }
      log(`model: ${summary.pretrain.modelDir}   total ${((performance.now() - t0) / 1000).toFixed(0)} s ${JSON.stringify(summary.seconds)}`);
    });
}
