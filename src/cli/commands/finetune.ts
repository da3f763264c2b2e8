import { join } from 'node:path';
import type { Command } from 'commander';
import { finetune, type FeatureFlags, type FinetuneOptions } from '../../train/finetune.ts';
import { TASK_NAMES } from '../../train/finetune-tasks.ts';
import { JsonlLog } from '../../train/jsonl-log.ts';
import { formatField, ProgressReporter } from '../../train/progress.ts';
import { checked, finiteNumber, nonNegativeInt, nonNegativeNumber, positiveInt } from '../flags.ts';

/** The feature flags as commander parses them. */
export interface FeatureFlagValues {
  maxSeqLength: number;
  docStride: number;
  maxQueryLength: number;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  threads?: number;
}

/** The flags that decide how inputs become features; eval and predict take the same ones. */
export function featureOptions(program: Command): Command {
  return program
    .option(...checked('--max-seq-length <n>', 'pieces per input, specials included (longer texts are truncated; longer SQuAD contexts and tagged sentences are read in overlapping windows)', positiveInt, 128))
    .option(...checked('--doc-stride <n>', 'SQuAD and token tasks: pieces between the starts of overlapping windows (token tasks: at most half a window)', positiveInt, 128))
    .option(...checked('--max-query-length <n>', 'SQuAD: pieces kept of a question', positiveInt, 64))
    .option('--text-column <name>', 'generic CSV/TSV/JSONL: the text column (default sentence, text, sentence1 or text_a)')
    .option('--text-pair-column <name>', 'generic files: the second text column (default sentence2 or text_b)')
    .option('--label-column <name>', 'generic files: the label column (default label)')
    .option(...checked('--threads <n>', 'ONNX Runtime threads (default: all cores)', positiveInt));
}

/** What eval and predict both take: a fine-tuned model, a task and a data file, plus the feature flags. */
export interface ScoringFlags extends FeatureFlagValues {
  model: string;
  task: string;
  data: string;
  batchSize: number;
  nullThreshold: number;
}

export function scoringOptions(command: Command, dataHelp: string): Command {
  return featureOptions(
    command
      .requiredOption('--model <dir>', 'a fine-tuned model folder')
      .requiredOption('--task <name>', TASK_NAMES.join(' '))
      .requiredOption('--data <file>', dataHelp),
  )
    .option(...checked('--batch-size <n>', 'inputs per forward pass', positiveInt, 32))
    .option(...checked('--null-threshold <x>', 'squad2: answer nothing when the no-answer score beats the best span by more than this', finiteNumber, 0));
}

export function parseScoringFlags(flags: ScoringFlags) {
  return {
    ...parseFeatureFlags(flags),
    model: flags.model,
    task: flags.task,
    data: flags.data,
    batchSize: flags.batchSize,
    nullThreshold: flags.nullThreshold,
    onMessage: (m: string) => process.stderr.write(`${m}\n`),
  };
}

export function parseFeatureFlags(f: FeatureFlagValues): FeatureFlags & { threads?: number } {
  return {
    maxSeqLength: f.maxSeqLength,
    docStride: f.docStride,
    maxQueryLength: f.maxQueryLength,
    columns: { textColumn: f.textColumn, textPairColumn: f.textPairColumn, labelColumn: f.labelColumn },
    threads: f.threads,
  };
}

/** finetune()'s options as commander parses them (the feature flags in their flag form), and --log. */
interface Flags extends FeatureFlagValues, Omit<FinetuneOptions, keyof FeatureFlags | 'threads' | 'onStart' | 'onStep' | 'onEval' | 'onMessage'> {
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
    .option(...checked('--epochs <n>', 'passes over the training data', positiveInt, 3))
    .option(...checked('--lr <x>', 'peak learning rate', nonNegativeNumber, 2e-5))
    .option(...checked('--batch-size <n>', 'examples per optimizer step', positiveInt, 32))
    .option(...checked('--warmup-ratio <x>', 'fraction of the steps spent warming up', nonNegativeNumber, 0.1))
    .option(...checked('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm)', nonNegativeNumber, 0.01))
    .option(...checked('--max-grad-norm <x>', 'global gradient-norm clipping', nonNegativeNumber, 1.0))
    .option(...checked('--grad-accum <n>', 'micro-batches per optimizer step', positiveInt, 1))
    .option(...checked('--seed <n>', 'seed for the new head, data order and dropout', nonNegativeInt, 42))
    .option(...checked('--eval-every <n>', 'score the dev set every N steps (0: every epoch)', nonNegativeInt, 0))
    .option(...checked('--early-stopping <n>', 'stop after N evaluations without a better dev score (0: never)', nonNegativeInt, 0))
    .option('--random-init', 'train the same architecture from random weights (the baseline to pre-training)')
    .option('--freeze-encoder', "the paper's feature-based approach (section 5.3): train only the added output layer on the encoder's features")
    .option(...checked('--max-train-examples <n>', 'train on a seeded sample of N examples', positiveInt))
    .option(...checked('--max-dev-examples <n>', 'score on the first N dev examples', positiveInt))
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
        epochs: flags.epochs,
        lr: flags.lr,
        batchSize: flags.batchSize,
        warmupRatio: flags.warmupRatio,
        weightDecay: flags.weightDecay,
        maxGradNorm: flags.maxGradNorm,
        gradAccum: flags.gradAccum,
        seed: flags.seed,
        evalEvery: flags.evalEvery,
        earlyStopping: flags.earlyStopping,
        randomInit: flags.randomInit === true,
        freezeEncoder: flags.freezeEncoder === true,
        maxTrainExamples: flags.maxTrainExamples,
        maxDevExamples: flags.maxDevExamples,
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
