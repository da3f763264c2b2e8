// `bert experiment`'s plan: every size, step count, sample size and seed of the study, fixed up front
// from the budget, so that a rerun with the same flags finds the same stages and their outputs.
import { join } from 'node:path';
import { BertError } from '../../errors.ts';
import type { PresetName } from '../../model/config.ts';

/**
 * One fine-tuning task of the study, pre-trained vs random init over the plan's seeds, through the
 * comparison routine (train/comparison.ts): a small split of the training file picks the stopping
 * step (early stopping), and the task's official evaluation file is scored once per run, in full.
 */
export interface TaskPlan {
  /** Stage and report name, e.g. "sst2", "brown-pos", "chnsenticorp". */
  id: string;
  /** Title in the report. */
  title: string;
  /** `bert finetune --task` name. */
  task: string;
  train: string;
  /** The evaluation file scored once per run (GLUE's official dev sets, ...). */
  test: string;
  /** What the evaluation file is, for the report (e.g. "official dev set, all 872 sentences"). */
  testNote: string;
  /** Examples in the evaluation file, for time estimates only. */
  testSize: number;
  /** The train and evaluation files are written by the study's English data stage (not read from the data folder). */
  generated?: boolean;
  /** Examples held out of the training file to pick the stopping step. */
  selectionExamples: number;
  /** A seeded sample of the rest of the training file. */
  trainExamples: number;
  maxSeqLength: number;
  /** Length of the warmup/decay schedule in epochs of `trainExamples`; early stopping may end a run first. */
  epochs: number;
  batchSize: number;
  lr: number;
  /** Selection-split evaluations per run, evenly spaced in steps (the dev curve's points). */
  evalsPerRun: number;
  /** Stop after this many evaluations without a better selection score. */
  patience: number;
}

export interface PretrainPlan {
  /** Optimizer steps; every size gets the same, so the same number of tokens. */
  steps: number;
  batchSize: number;
  maxSeqLength: number;
  lr: number;
  /** Passes of masking over the corpus when making the examples. */
  dupeFactor: number;
}

export interface ExperimentPlan {
  budgetMinutes: number;
  /** Fine-tuning seeds; the same for both arms. Pre-training uses the first. */
  seeds: number[];
  /** Every n-th document of a corpus is held out for the pre-training evaluation. */
  holdOutEvery: number;
  /** Use only the first N documents of each pre-training corpus (undefined: all; tests use it to stay fast). */
  maxDocuments: number | undefined;
  english: {
    sizes: PresetName[];
    vocabSize: number;
    pretrain: PretrainPlan;
    tasks: TaskPlan[];
  };
  chinese: {
    size: PresetName;
    /** bert-base-chinese's vocab.txt. */
    vocab: string;
    corpus: string;
    pretrain: PretrainPlan;
    tasks: TaskPlan[];
  };
}

/** The default budget, minutes: the plan below is sized for it on a 2-core machine. */
export const DEFAULT_BUDGET_MINUTES = 60;

/**
 * The study at `budgetMinutes`. The 60-minute plan is the reference; every step count and training
 * sample scales linearly with the budget (with floors that keep each stage meaningful), while dev sets
 * are always scored in full. Sizes: medium joins at 120 minutes and more.
 */
export function makePlan(budgetMinutes: number, dataDir: string, outDir: string): ExperimentPlan {
  if (!(budgetMinutes > 0) || !Number.isFinite(budgetMinutes)) throw new BertError(`--budget must be a positive number of minutes, got ${budgetMinutes}`);
  const s = budgetMinutes / DEFAULT_BUDGET_MINUTES;
  const scaled = (n: number, floor: number) => Math.max(floor, Math.round(n * s));
  const d = (...parts: string[]) => join(dataDir, ...parts);
  const task = (t: Omit<TaskPlan, 'selectionExamples' | 'evalsPerRun' | 'patience' | 'batchSize' | 'epochs' | 'lr'> & Partial<TaskPlan>): TaskPlan => ({
    selectionExamples: scaled(200, 50), evalsPerRun: 6, patience: 3, batchSize: 32, epochs: 3, lr: 5e-4, ...t,
  });
  return {
    budgetMinutes,
    seeds: [1, 2],
    holdOutEvery: 20,
    maxDocuments: undefined,
    english: {
      sizes: budgetMinutes >= 120 ? ['tiny', 'mini', 'small', 'medium'] : ['tiny', 'mini', 'small'],
      vocabSize: 4000,
      // 2,000 steps of 8 x 64 tokens: about 1M tokens per size. Measured idle on 2 cores, 1,000 steps
      // took 26 s (tiny), 93 s (mini) and 331 s (small), and the whole 60-minute study 30 minutes; the
      // spare minutes go to pre-training, where mini and small were still on the token-frequency plateau
      // (with 2,000 steps the study measured 36.6 minutes; README, "Our run").
      pretrain: { steps: scaled(2000, 20), batchSize: 8, maxSeqLength: 64, lr: 1e-3, dupeFactor: 2 },
      tasks: [
        task({ id: 'sst2', title: 'SST-2 (sentiment)', task: 'sst2', train: d('glue', 'SST-2', 'train.tsv'), test: d('glue', 'SST-2', 'dev.tsv'), testNote: 'official dev set, all 872 sentences', testSize: 872, trainExamples: scaled(500, 32), maxSeqLength: 64 }),
        // Brown POS files are written by the English data stage, split by document as pre-training is.
        task({ id: 'brown-pos', title: 'Brown POS tagging', task: 'token-classification', generated: true, train: join(outDir, 'en-data', 'brown-pos', 'train.conll'), test: join(outDir, 'en-data', 'brown-pos', 'test.conll'), testNote: 'the held-out Brown test documents (every other held-out document), every sentence', testSize: 2400, trainExamples: scaled(500, 32), maxSeqLength: 64 }),
        task({ id: 'mrpc', title: 'MRPC (paraphrase)', task: 'mrpc', train: d('glue', 'MRPC', 'train.tsv'), test: d('glue', 'MRPC', 'dev.tsv'), testNote: 'official dev set, all 408 pairs', testSize: 408, trainExamples: scaled(500, 32), maxSeqLength: 128 }),
      ],
    },
    chinese: {
      size: 'mini',
      vocab: d('vocab', 'bert-base-chinese', 'vocab.txt'),
      corpus: d('clue_corpus_small_sample', 'CLUECorpusSmall_bert_sampled.txt'),
      pretrain: { steps: scaled(1000, 20), batchSize: 8, maxSeqLength: 128, lr: 1e-3, dupeFactor: 2 },
      tasks: [
        task({ id: 'chnsenticorp', title: 'ChnSentiCorp (sentiment)', task: 'classification', train: d('chnsenticorp', 'train.tsv'), test: d('chnsenticorp', 'dev.tsv'), testNote: 'official dev set, all 1,200 reviews', testSize: 1200, trainExamples: scaled(500, 32), maxSeqLength: 128 }),
        // The train file is not in shared/data: train on a sample of the test file, score the official dev file.
        task({ id: 'peoples-daily-ner', title: "People's Daily NER", task: 'ner', train: d('peoples_daily_ner', 'example.test'), test: d('peoples_daily_ner', 'example.dev'), testNote: 'official dev set, all 2,318 sentences (trained on a sample of the test file: no train file in shared/data)', testSize: 2318, trainExamples: scaled(500, 32), maxSeqLength: 128 }),
      ],
    },
  };
}

/** Every input file the plan reads from the data folder (checked before any work). */
export function dataFiles(plan: ExperimentPlan): string[] {
  const external = (t: TaskPlan) => t.generated !== true;
  return [
    ...plan.english.tasks.filter(external).flatMap((t) => [t.train, t.test]),
    plan.chinese.vocab,
    plan.chinese.corpus,
    ...plan.chinese.tasks.flatMap((t) => [t.train, t.test]),
  ];
}
