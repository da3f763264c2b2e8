import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { makeConfig, PRESETS, readConfigJson, type BertConfig, type PresetName } from '../../model/config.ts';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.ts';
import { JsonlLog } from '../../train/jsonl-log.ts';
import { ProgressReporter } from '../../train/progress.ts';
import { pretrain, writePretrainCurves } from '../../train/pretrain.ts';
import { checked, nonNegativeNumber, positiveInt, roundedNonNegative } from '../flags.ts';

interface Flags {
  data: string;
  config: string;
  init?: string;
  tokenizer?: string;
  out: string;
  batchSize: number;
  lr: number;
  warmupSteps?: number;
  steps: number;
  weightDecay: number;
  maxGradNorm: number;
  gradAccum: number;
  dropout?: number;
  seed: number;
  shuffle: boolean;
  saveEvery: number;
  keepLast: number;
  resume?: boolean;
  log?: string;
  evalData?: string;
  threads?: number;
}

/** A preset name, or a config.json (with vocab_size from the tokenizer when it differs). */
function resolveConfig(flags: Flags, vocabSize: number | undefined): BertConfig {
  let config: BertConfig;
  if (flags.config in PRESETS) config = makeConfig(flags.config as PresetName, vocabSize === undefined ? {} : { vocab_size: vocabSize });
  else if (existsSync(flags.config) && statSync(flags.config).isFile()) config = readConfigJson(flags.config);
  else throw new BertError(`--config must be one of ${Object.keys(PRESETS).join(', ')} or a config.json file, got ${JSON.stringify(flags.config)}`);
  if (flags.dropout !== undefined) {
    config = { ...config, hidden_dropout_prob: flags.dropout, attention_probs_dropout_prob: flags.dropout };
  }
  if (vocabSize !== undefined && config.vocab_size !== vocabSize) {
    throw new BertError(`the config's vocab_size is ${config.vocab_size} but the tokenizer has ${vocabSize} tokens`);
  }
  return config;
}

export function register(program: Command): void {
  program
    .command('pretrain')
    .description('pre-train BERT (masked LM + next-sentence prediction) on data from make-pretraining-data')
    .requiredOption('--data <path>', 'a shard folder or a BERT JSONL file')
    .requiredOption('--config <name|file>', `a preset (${Object.keys(PRESETS).join(', ')}) or a config.json`)
    .requiredOption('--out <dir>', 'output folder: checkpoints, the final model, log, loss curve')
    .option('--init <dir>', 'start from this model folder (Hugging Face or bert-ts)')
    .option('--tokenizer <dir>', 'tokenizer folder, copied into saved models (sets vocab_size for presets)')
    .option(...checked('--batch-size <n>', 'examples per optimizer step (split over --grad-accum micro-batches)', positiveInt, 32))
    .option(...checked('--lr <x>', 'peak learning rate', nonNegativeNumber, 1e-4))
    .option(...checked('--warmup-steps <n>', 'linear warmup steps (default 10% of --steps)', roundedNonNegative))
    .option(...checked('--steps <n>', 'optimizer steps', positiveInt, 1000))
    .option(...checked('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm)', nonNegativeNumber, 0.01))
    .option(...checked('--max-grad-norm <x>', 'global gradient-norm clipping', nonNegativeNumber, 1.0))
    .option(...checked('--grad-accum <n>', 'micro-batches per optimizer step', positiveInt, 1))
    .option(...checked('--dropout <p>', 'hidden and attention dropout (default: the config)', nonNegativeNumber))
    .option(...checked('--seed <n>', 'seed for initialisation, data order and dropout', roundedNonNegative, 42))
    .option('--no-shuffle', 'read examples in file order')
    .option(...checked('--save-every <n>', 'checkpoint every N steps (0: only at the end)', roundedNonNegative, 1000))
    .option(...checked('--keep-last <n>', 'checkpoints to keep', positiveInt, 3))
    .option('--resume', 'continue from the newest checkpoint in --out')
    .option('--log <file>', 'JSON Lines log, one object per step (default OUT/log.jsonl)')
    .option('--eval-data <path>', 'held-out pre-training data to evaluate at the end')
    .option(...checked('--threads <n>', 'ONNX Runtime threads (default: all cores)', positiveInt))
    .action(async (flags: Flags) => {
      const tokenizer = flags.tokenizer ? BertTokenizer.fromDirectory(flags.tokenizer) : undefined;
      const config = resolveConfig(flags, tokenizer?.vocabSize);
      const steps = flags.steps;
      const warmup = flags.warmupSteps ?? Math.round(steps * 0.1);
      const logPath = flags.log ?? join(flags.out, 'log.jsonl');
      let progress: ProgressReporter | undefined;
      let log: JsonlLog | undefined;
      const result = await pretrain({
        data: flags.data,
        config,
        init: flags.init,
        tokenizerDir: flags.tokenizer,
        out: flags.out,
        batchSize: flags.batchSize,
        lr: flags.lr,
        warmupSteps: warmup,
        steps,
        weightDecay: flags.weightDecay,
        maxGradNorm: flags.maxGradNorm,
        gradAccum: flags.gradAccum,
        seed: flags.seed,
        shuffle: flags.shuffle,
        saveEvery: flags.saveEvery,
        keepLast: flags.keepLast,
        resume: flags.resume === true,
        evalData: flags.evalData,
        threads: flags.threads,
        onMessage: (m) => process.stderr.write(`${m}\n`),
        onStart: (startStep) => {
          progress = new ProgressReporter({ total: steps, start: startStep, label: 'pretrain' });
          log = JsonlLog.open(logPath, { keepThroughStep: startStep });
        },
        onStep: (r) => {
          log!.write({ ...r });
          progress!.update(r.step, { ...r });
        },
      });
      progress?.stop();
      log?.close();
      const curves = writePretrainCurves(flags.out, result.history);
      const summary = { steps: result.steps, model: result.modelDir, log: logPath, loss_curve: curves.loss, accuracy_curve: curves.accuracy, eval: result.eval };
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    });
}
