import { join } from 'node:path';
import type { Command } from 'commander';
import { finetune, type FeatureFlags } from '../../train/finetune.ts';
import { TASK_NAMES } from '../../train/finetune-tasks.ts';
import { formatField, JsonlLog, ProgressReporter } from '../../train/progress.ts';
import { finiteNumber, nonNegativeInt, nonNegativeNumber, positiveInt } from '../flags.ts';

export interface FeatureFlagText {
  maxSeqLength: string;
  docStride: string;
  maxQueryLength: string;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  threads?: string;
}

/** The flags that decide how inputs become features; eval and predict take the same ones. */
export function featureOptions(program: Command): Command {
  return program
    .option('--max-seq-length <n>', 'pieces per input, specials included (longer texts are truncated; longer SQuAD contexts and tagged sentences are read in overlapping windows)', '128')
    .option('--doc-stride <n>', 'SQuAD and token tasks: pieces between the starts of overlapping windows (token tasks: at most half a window)', '128')
    .option('--max-query-length <n>', 'SQuAD: pieces kept of a question', '64')
    .option('--text-column <name>', 'generic CSV/TSV/JSONL: the text column (default sentence, text, sentence1 or text_a)')
    .option('--text-pair-column <name>', 'generic files: the second text column (default sentence2 or text_b)')
    .option('--label-column <name>', 'generic files: the label column (default label)')
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)');
}

/** What eval and predict both take: a fine-tuned model, a task and a data file, plus the feature flags. */
export interface ScoringFlags extends FeatureFlagText {
  model: string;
  task: string;
  data: string;
  batchSize: string;
  nullThreshold: string;
}

export function scoringOptions(command: Command, dataHelp: string): Command {
  return featureOptions(
    command
      .requiredOption('--model <dir>', 'a fine-tuned model folder')
      .requiredOption('--task <name>', TASK_NAMES.join(' '))
      .requiredOption('--data <file>', dataHelp),
  )
    .option('--batch-size <n>', 'inputs per forward pass', '32')
    .option('--null-threshold <x>', 'squad2: answer nothing when the no-answer score beats the best span by more than this', '0');
}

export function parseScoringFlags(flags: ScoringFlags) {
  return {
    ...parseFeatureFlags(flags),
    model: flags.model,
    task: flags.task,
    data: flags.data,
    batchSize: positiveInt(flags.batchSize, '--batch-size'),
    nullThreshold: finiteNumber(flags.nullThreshold, '--null-threshold'),
    onMessage: (m: string) => process.stderr.write(`${m}\n`),
  };
}

export function parseFeatureFlags(f: FeatureFlagText): FeatureFlags & { threads?: number } {
  return {
    maxSeqLength: positiveInt(f.maxSeqLength, '--max-seq-length'),
    docStride: positiveInt(f.docStride, '--doc-stride'),
    maxQueryLength: positiveInt(f.maxQueryLength, '--max-query-length'),
    columns: { textColumn: f.textColumn, textPairColumn: f.textPairColumn, labelColumn: f.labelColumn },
    threads: f.threads === undefined ? undefined : positiveInt(f.threads, '--threads'),
  };
}

interface Flags extends FeatureFlagText {
  task: string;
  model: string;
  train: string;
  dev: string;
  out: string;
  epochs: string;
  lr: string;
  batchSize: string;
  warmupRatio: string;
  weightDecay: string;
  maxGradNorm: string;
  gradAccum: string;
  seed: string;
  evalEvery: string;
  earlyStopping: string;
  randomInit?: boolean;
  maxTrainExamples?: string;
  maxDevExamples?: string;
  log?: string;
}

export function register(program: Command): void {
  featureOptions(
    program
      .command('finetune')
      .description('fine-tune a model folder on a task: one added output layer, every weight trained; keeps the best dev checkpoint in --out')
      .requiredOption('--task <name>', TASK_NAMES.join(' '))
      .requiredOption('--model <dir>', 'model folder to start from (bert-ts or Hugging Face), with tokenizer files')
      .requiredOption('--train <file>', 'training data (GLUE TSV, CSV/TSV/JSONL, CoNLL, SQuAD JSON, SWAG CSV)')
      .requiredOption('--dev <file>', 'dev data, scored with the task metric to pick the best checkpoint')
      .requiredOption('--out <dir>', 'output folder: the best model, log.jsonl, curve.svg, eval_results.json'),
  )
    .option('--epochs <n>', 'passes over the training data', '3')
    .option('--lr <x>', 'peak learning rate', '2e-5')
    .option('--batch-size <n>', 'examples per optimizer step', '32')
    .option('--warmup-ratio <x>', 'fraction of the steps spent warming up', '0.1')
    .option('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm)', '0.01')
    .option('--max-grad-norm <x>', 'global gradient-norm clipping', '1.0')
    .option('--grad-accum <n>', 'micro-batches per optimizer step', '1')
    .option('--seed <n>', 'seed for the new head, data order and dropout', '42')
    .option('--eval-every <n>', 'score the dev set every N steps (0: every epoch)', '0')
    .option('--early-stopping <n>', 'stop after N evaluations without a better dev score (0: never)', '0')
    .option('--random-init', 'train the same architecture from random weights (the baseline to pre-training)')
    .option('--max-train-examples <n>', 'train on a seeded sample of N examples')
    .option('--max-dev-examples <n>', 'score on the first N dev examples')
    .option('--log <file>', 'JSON Lines log (default OUT/log.jsonl)')
    .action(async (flags: Flags) => {
      const logPath = flags.log ?? join(flags.out, 'log.jsonl');
      let progress: ProgressReporter | undefined;
      let log: JsonlLog | undefined;
      let dev = '-';
      const result = await finetune({
        ...parseFeatureFlags(flags),
        task: flags.task,
        model: flags.model,
        train: flags.train,
        dev: flags.dev,
        out: flags.out,
        epochs: positiveInt(flags.epochs, '--epochs'),
        lr: nonNegativeNumber(flags.lr, '--lr'),
        batchSize: positiveInt(flags.batchSize, '--batch-size'),
        warmupRatio: nonNegativeNumber(flags.warmupRatio, '--warmup-ratio'),
        weightDecay: nonNegativeNumber(flags.weightDecay, '--weight-decay'),
        maxGradNorm: nonNegativeNumber(flags.maxGradNorm, '--max-grad-norm'),
        gradAccum: positiveInt(flags.gradAccum, '--grad-accum'),
        seed: nonNegativeInt(flags.seed, '--seed'),
        evalEvery: nonNegativeInt(flags.evalEvery, '--eval-every'),
        earlyStopping: nonNegativeInt(flags.earlyStopping, '--early-stopping'),
        randomInit: flags.randomInit === true,
        maxTrainExamples: flags.maxTrainExamples === undefined ? undefined : positiveInt(flags.maxTrainExamples, '--max-train-examples'),
        maxDevExamples: flags.maxDevExamples === undefined ? undefined : positiveInt(flags.maxDevExamples, '--max-dev-examples'),
        onMessage: (m) => process.stderr.write(`${m}\n`),
        onStart: (info) => {
          process.stderr.write(`${info.train_examples} training features, ${info.dev_examples} dev features, ${info.steps} steps\n`);
          progress = new ProgressReporter({
            total: info.steps,
            label: 'finetune',
            fields: [
              { key: 'loss', label: 'loss', style: 'fixed' },
              { key: 'lr', label: 'lr', style: 'exp' },
              { key: 'examples_per_second', label: 'ex/s', style: 'int' },
              { key: 'dev', label: 'dev', style: 'fixed' },
            ],
          });
          log = JsonlLog.open(logPath);
        },
        onStep: (r) => {
          log!.write({ ...r });
          progress!.update(r.step, { ...r, dev: dev === '-' ? undefined : Number(dev) });
        },
        onEval: (e) => {
          dev = String(e.metrics[e.main]);
          log!.write({ step: e.step, epoch: e.epoch, best: e.best ? 1 : 0, ...Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [`dev_${k}`, v])) });
          process.stderr.write(`\ndev @ step ${e.step}: ${Object.entries(e.metrics).map(([k, v]) => `${k} ${formatField('fixed', v)}`).join(', ')}${e.best ? ' (best)' : ''}\n`);
        },
      });
      progress?.stop();
      log?.close();
      const summary = { steps: result.steps, best: result.best, stopped_early: result.stoppedEarly, model: result.modelDir, log: logPath, curve: join(flags.out, 'curve.svg') };
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    });
}
