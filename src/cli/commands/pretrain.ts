import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { makeConfig, PRESETS, type BertConfig, type PresetName } from '../../model/config.ts';
import { readConfigJson } from '../../model/config-file.ts';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.ts';
import { JsonlLog, ProgressReporter } from '../../train/progress.ts';
import { pretrain, writePretrainCurves } from '../../train/pretrain.ts';
import { nonNegativeNumber, positiveInt } from '../flags.ts';

interface Flags {
  data: string;
  config: string;
  init?: string;
  tokenizer?: string;
  out: string;
  batchSize: string;
  lr: string;
  warmupSteps?: string;
  steps: string;
  weightDecay: string;
  maxGradNorm: string;
  gradAccum: string;
  dropout?: string;
  seed: string;
  shuffle: boolean;
  saveEvery: string;
  keepLast: string;
  resume?: boolean;
  log?: string;
  evalData?: string;
  threads?: string;
}

/** A preset name, or a config.json (with vocab_size from the tokenizer when it differs). */
function resolveConfig(flags: Flags, vocabSize: number | undefined): BertConfig {
  let config: BertConfig;
  if (flags.config in PRESETS) config = makeConfig(flags.config as PresetName, vocabSize === undefined ? {} : { vocab_size: vocabSize });
  else if (existsSync(flags.config) && statSync(flags.config).isFile()) config = readConfigJson(flags.config);
  else throw new BertError(`--config must be one of ${Object.keys(PRESETS).join(', ')} or a config.json file, got ${JSON.stringify(flags.config)}`);
  if (flags.dropout !== undefined) {
    const p = nonNegativeNumber(flags.dropout, '--dropout');
    config = { ...config, hidden_dropout_prob: p, attention_probs_dropout_prob: p };
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
    .option('--batch-size <n>', 'examples per optimizer step (split over --grad-accum micro-batches)', '32')
    .option('--lr <x>', 'peak learning rate', '1e-4')
    .option('--warmup-steps <n>', 'linear warmup steps (default 10% of --steps)')
    .option('--steps <n>', 'optimizer steps', '1000')
    .option('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm)', '0.01')
    .option('--max-grad-norm <x>', 'global gradient-norm clipping', '1.0')
    .option('--grad-accum <n>', 'micro-batches per optimizer step', '1')
    .option('--dropout <p>', 'hidden and attention dropout (default: the config)')
    .option('--seed <n>', 'seed for initialisation, data order and dropout', '42')
    .option('--no-shuffle', 'read examples in file order')
    .option('--save-every <n>', 'checkpoint every N steps (0: only at the end)', '1000')
    .option('--keep-last <n>', 'checkpoints to keep', '3')
    .option('--resume', 'continue from the newest checkpoint in --out')
    .option('--log <file>', 'JSON Lines log, one object per step (default OUT/log.jsonl)')
    .option('--eval-data <path>', 'held-out pre-training data to evaluate at the end')
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)')
    .action(async (flags: Flags) => {
      const tokenizer = flags.tokenizer ? BertTokenizer.fromDirectory(flags.tokenizer) : undefined;
      const config = resolveConfig(flags, tokenizer?.vocabSize);
      const steps = positiveInt(flags.steps, '--steps');
      const warmup = flags.warmupSteps === undefined ? Math.round(steps * 0.1) : Math.round(nonNegativeNumber(flags.warmupSteps, '--warmup-steps'));
      const logPath = flags.log ?? join(flags.out, 'log.jsonl');
      let progress: ProgressReporter | undefined;
      let log: JsonlLog | undefined;
      const result = await pretrain({
        data: flags.data,
        config,
        init: flags.init,
        tokenizerDir: flags.tokenizer,
        out: flags.out,
        batchSize: positiveInt(flags.batchSize, '--batch-size'),
        lr: nonNegativeNumber(flags.lr, '--lr'),
        warmupSteps: warmup,
        steps,
        weightDecay: nonNegativeNumber(flags.weightDecay, '--weight-decay'),
        maxGradNorm: nonNegativeNumber(flags.maxGradNorm, '--max-grad-norm'),
        gradAccum: positiveInt(flags.gradAccum, '--grad-accum'),
        seed: Math.round(nonNegativeNumber(flags.seed, '--seed')),
        shuffle: flags.shuffle,
        saveEvery: Math.round(nonNegativeNumber(flags.saveEvery, '--save-every')),
        keepLast: positiveInt(flags.keepLast, '--keep-last'),
        resume: flags.resume === true,
        evalData: flags.evalData,
        threads: flags.threads === undefined ? undefined : positiveInt(flags.threads, '--threads'),
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
