import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { makeConfig, PRESETS, type BertConfig, type PresetName } from '../../model/config.ts';
import { readConfigJson } from '../../model/config-file.ts';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.ts';
import { JsonlLog } from '../../train/jsonl-log.ts';
import { ProgressReporter } from '../../train/progress.ts';
import { pretrain, writePretrainCurves } from '../../train/pretrain.ts';
import { checked, nonNegativeNumber, oneOf, positiveInt, roundedNonNegative } from '../flags.ts';

interface Flags {
  data: string;
  config?: string;
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
  accumulate: 'graph' | 'host';
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

/** The fields that decide the shapes of a model's weights: a --config that differs from --init's on one cannot load it. */
const SHAPE_FIELDS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const;

/**
 * The model's config: --init's config.json when continuing a model folder (a --config that contradicts
 * it on a weight shape is an error naming both), else a preset (vocab_size from the tokenizer) or a
 * config.json file.
 */
export function resolveConfig(flags: Pick<Flags, 'config' | 'init' | 'dropout'>, vocabSize: number | undefined): BertConfig {
  const initConfig = flags.init === undefined ? undefined : join(flags.init, 'config.json');
  if (initConfig !== undefined && !existsSync(initConfig)) throw new BertError('--init folder has no config.json', flags.init);
  let config: BertConfig;
  if (flags.config === undefined) {
    if (initConfig === undefined) throw new BertError('--config is required without --init (a preset or a config.json file)');
    config = readConfigJson(initConfig);
  } else if (flags.config in PRESETS) config = makeConfig(flags.config as PresetName, vocabSize === undefined ? {} : { vocab_size: vocabSize });
  else if (existsSync(flags.config) && statSync(flags.config).isFile()) config = readConfigJson(flags.config);
  else throw new BertError(`--config must be one of ${Object.keys(PRESETS).join(', ')} or a config.json file, got ${JSON.stringify(flags.config)}`);
  if (initConfig !== undefined && flags.config !== undefined) {
    const folder = readConfigJson(initConfig);
    const differ = SHAPE_FIELDS.filter((k) => folder[k] !== config[k]);
    if (differ.length > 0) {
      const show = (c: BertConfig) => differ.map((k) => `${k} ${c[k]}`).join(', ');
      throw new BertError(`--config ${flags.config} (${show(config)}) contradicts --init ${initConfig} (${show(folder)}): leave out --config to continue the folder's model`);
    }
  }
  if (flags.dropout !== undefined) {
    config = { ...config, hidden_dropout_prob: flags.dropout, attention_probs_dropout_prob: flags.dropout };
  }
  if (vocabSize !== undefined && config.vocab_size !== vocabSize) {
    throw new BertError(`the config's vocab_size is ${config.vocab_size} but the tokenizer has ${vocabSize} tokens`);
  }
  return config;
}

/** The tokenizer folder copied into saved models: --tokenizer, else --init's own tokenizer files when it has them. */
export function tokenizerFolder(flags: Pick<Flags, 'tokenizer' | 'init'>): string | undefined {
  if (flags.tokenizer !== undefined) return flags.tokenizer;
  if (flags.init !== undefined && ['vocab.txt', 'tokenizer.json'].some((f) => existsSync(join(flags.init!, f)))) return flags.init;
  return undefined;
}

export function register(program: Command): void {
  program
    .command('pretrain')
    .description('pre-train BERT (masked LM + next-sentence prediction) on data from make-pretraining-data')
    .requiredOption('--data <path>', 'a shard folder or a BERT JSONL file')
    .option('--config <name|file>', `a preset (${Object.keys(PRESETS).join(', ')}) or a config.json (default with --init: its config.json)`)
    .requiredOption('--out <dir>', 'output folder: checkpoints, the final model, log, loss curve')
    .option('--init <dir>', 'continue pre-training this model folder (Hugging Face or bert-ts): its config and tokenizer files')
    .option('--tokenizer <dir>', 'tokenizer folder, copied into saved models (sets vocab_size for presets; default with --init: its tokenizer)')
    .option(...checked('--batch-size <n>', 'examples per optimizer step (split over --grad-accum micro-batches)', positiveInt, 32))
    .option(...checked('--lr <x>', 'peak learning rate', nonNegativeNumber, 1e-4))
    .option(...checked('--warmup-steps <n>', 'linear warmup steps (default 10% of --steps)', roundedNonNegative))
    .option(...checked('--steps <n>', 'optimizer steps', positiveInt, 1000))
    .option(...checked('--weight-decay <x>', 'AdamW weight decay (not on biases and LayerNorm)', nonNegativeNumber, 0.01))
    .option(...checked('--max-grad-norm <x>', 'global gradient-norm clipping', nonNegativeNumber, 1.0))
    .option(...checked('--grad-accum <n>', 'micro-batches per optimizer step', positiveInt, 1))
    .option(...checked('--accumulate <where>', 'graph (all micro-batches in one ONNX Runtime run: faster, a larger graph to compile) | host', oneOf(['graph', 'host'] as const), 'graph'))
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
      const tokenizerDir = tokenizerFolder(flags);
      const tokenizer = tokenizerDir ? BertTokenizer.fromDirectory(tokenizerDir) : undefined;
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
        tokenizerDir,
        out: flags.out,
        batchSize: flags.batchSize,
        lr: flags.lr,
        warmupSteps: warmup,
        steps,
        weightDecay: flags.weightDecay,
        maxGradNorm: flags.maxGradNorm,
        gradAccum: flags.gradAccum,
        accumulate: flags.accumulate,
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
