import type { Command } from 'commander';
import { runStartJob, START_DEFAULTS } from '../start-job.ts';
import { ProgressReporter } from '../../train/progress.ts';
import { BertError } from '../../errors.ts';
import { PRESETS, type PresetName } from '../../model/config.ts';
import { nonNegativeInt, nonNegativeNumber, positiveInt } from '../flags.ts';
import { FINETUNE_STAGE_DEFAULTS } from '../start-finetune.ts';

interface Flags {
  out: string;
  config: string;
  steps: string;
  batchSize: string;
  maxSeqLength: string;
  vocabSize: string;
  lr: string;
  seed: string;
  dropout?: string;
  finetune: boolean;
  labeled: string;
  finetuneSeeds: string;
  finetuneLrs: string;
  threads?: string;
}

function positiveNumber(text: string, flag: string): number {
  const x = nonNegativeNumber(text, flag);
  if (x === 0) throw new BertError(`${flag} must be positive, got ${text}`);
  return x;
}

/** "100,300,1000" -> [100, 300, 1000]. */
function sizeList(text: string, flag: string): number[] {
  const sizes = text.split(',').map((t) => positiveInt(t.trim(), flag));
  if (sizes.length === 0) throw new BertError(`${flag} needs at least one size`);
  return sizes;
}

export function register(program: Command): void {
  program
    .command('start')
    .description('the main job (npm start): vocabulary, pre-training data and a small BERT pre-trained on the Brown corpus, evaluated on held-out documents, then fine-tuned on Brown POS tagging against the same model from random weights')
    .option('--out <dir>', 'where everything is written', START_DEFAULTS.out)
    .option('--config <preset>', `model size: ${Object.keys(PRESETS).join(', ')}`, START_DEFAULTS.config)
    .option('--steps <n>', 'pre-training steps', String(START_DEFAULTS.steps))
    .option('--batch-size <n>', 'pre-training batch size', String(START_DEFAULTS.batchSize))
    .option('--max-seq-length <n>', 'tokens per pre-training example', String(START_DEFAULTS.maxSeqLength))
    .option('--vocab-size <n>', 'WordPiece vocabulary size', String(START_DEFAULTS.vocabSize))
    .option('--lr <x>', 'peak learning rate', String(START_DEFAULTS.lr))
    .option('--dropout <p>', 'hidden and attention dropout of the model (default: the preset\'s 0.1)')
    .option('--seed <n>', 'seeds the whole run: data, initialisation, pre-training order and dropout, fine-tuning samples and seeds', String(START_DEFAULTS.seed))
    .option('--no-finetune', 'skip the fine-tuning comparison (pre-trained vs random init on Brown POS tagging)')
    .option('--labeled <sizes>', 'labeled training sentences for the comparison: the first is the headline, all draw the low-resource curve', FINETUNE_STAGE_DEFAULTS.sizes.join(','))
    .option('--finetune-seeds <n>', 'fine-tuning runs per arm and size', String(FINETUNE_STAGE_DEFAULTS.seeds))
    .option('--finetune-lrs <list>', 'fine-tuning learning rates; each arm keeps the one with the best mean dev score', FINETUNE_STAGE_DEFAULTS.recipe.lrs.join(','))
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)')
    .action(async (flags: Flags) => {
      if (!Object.hasOwn(PRESETS, flags.config)) throw new BertError(`--config must be one of ${Object.keys(PRESETS).join(', ')}, got ${JSON.stringify(flags.config)}`);
      const t0 = performance.now();
      const log = (line: string) => process.stdout.write(`${line}\n`);
      let progress: ProgressReporter | undefined;
      const summary = await runStartJob({
        ...START_DEFAULTS,
        out: flags.out,
        config: flags.config as PresetName,
        seed: nonNegativeInt(flags.seed, '--seed'),
        dropout: flags.dropout === undefined ? undefined : nonNegativeNumber(flags.dropout, '--dropout'),
        steps: positiveInt(flags.steps, '--steps'),
        batchSize: positiveInt(flags.batchSize, '--batch-size'),
        maxSeqLength: positiveInt(flags.maxSeqLength, '--max-seq-length'),
        vocabSize: positiveInt(flags.vocabSize, '--vocab-size'),
        lr: Number(flags.lr),
        finetune: flags.finetune,
        finetuneOptions: {
          sizes: sizeList(flags.labeled, '--labeled'),
          seeds: positiveInt(flags.finetuneSeeds, '--finetune-seeds'),
          recipe: { ...FINETUNE_STAGE_DEFAULTS.recipe, lrs: flags.finetuneLrs.split(',').map((t) => positiveNumber(t.trim(), '--finetune-lrs')) },
        },
        threads: flags.threads === undefined ? undefined : positiveInt(flags.threads, '--threads'),
        log,
        onStep: (r) => {
          progress ??= new ProgressReporter({ total: r.steps, start: r.step - 1, label: 'pretrain' });
          progress.update(r.step, { ...r });
          if (r.step === r.steps) progress.stop({ ...r });
        },
      });
      const e = summary.pretrain.eval!;
      log('');
      if (e.nsp_accuracy < summary.baseline_nsp_accuracy + 0.02) {
        log('  next-sentence prediction takes longer than this run: it leaves the majority label after some 2,000 steps of 16 pairs (`npm run start:long`, about 45 minutes on 2 cores; see the README)');
      }
      const f = summary.finetune;
      if (f) {
        for (const line of f.lines) log(line);
        log(`  charts: ${f.files.bars}, ${f.files.curves}, ${f.files.lowResource}; numbers: ${f.files.json}`);
      }
      log(`model: ${summary.pretrain.modelDir}   total ${((performance.now() - t0) / 1000).toFixed(0)} s ${JSON.stringify(summary.seconds)}`);
    });
}
