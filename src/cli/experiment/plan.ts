// `bert experiment`'s plan: every size, step count, sample size and seed of the study, fixed up front
// from the budget, so that a rerun with the same flags finds the same stages and their outputs.
import { join } from 'node:path';
import { BertError } from '../../errors.ts';
import type { PresetName } from '../../model/config.ts';

/** One fine-tuning task of the study, pre-trained vs random init over the plan's seeds. */
export interface TaskPlan {
  /** Stage and report name, e.g. "sst2", "brown-pos", "chnsenticorp". */
  id: string;
  /** Title in the report. */
  title: string;
  /** The train and dev files are written by the study's English data stage (not read from the data folder). */
  generated?: boolean;
  /** `bert finetune --task` name. */
  task: string;
  train: string;
  dev: string;
  /** What the dev file is, for the report (e.g. "official dev set, all 872"). */
  devNote: string;
  /** A seeded sample of the training file (undefined: all of it). */
  trainExamples: number | undefined;
  /** Score the first N dev examples only (undefined: all; tests use it to stay fast). */
  devExamples: number | undefined;
  /** Examples in the dev file, for time estimates only. */
  devSize: number;
  maxSeqLength: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Dev evaluations per run, evenly spaced in steps (the dev curve's points). */
  evalsPerRun: number;
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
  const task = (t: Omit<TaskPlan, 'devExamples' | 'evalsPerRun' | 'batchSize'> & Partial<TaskPlan>): TaskPlan => ({ devExamples: undefined, evalsPerRun: 3, batchSize: 32, ...t });
  return {
    budgetMinutes,
    seeds: [1, 2],
    holdOutEvery: 20,
    maxDocuments: undefined,
    english: {
      sizes: budgetMinutes >= 120 ? ['tiny', 'mini', 'small', 'medium'] : ['tiny', 'mini', 'small'],
      vocabSize: 4000,
      // 1,000 steps of 8 x 64 tokens: about 0.5M tokens per size, some 10 minutes for all three.
      pretrain: { steps: scaled(1000, 20), batchSize: 8, maxSeqLength: 64, lr: 1e-3, dupeFactor: 2 },
      tasks: [
        task({ id: 'sst2', title: 'SST-2 (sentiment)', task: 'sst2', train: d('glue', 'SST-2', 'train.tsv'), dev: d('glue', 'SST-2', 'dev.tsv'), devNote: 'official dev set, all 872 sentences', devSize: 872, trainExamples: scaled(800, 64), maxSeqLength: 64, epochs: 2, lr: 5e-4 }),
        task({ id: 'mrpc', title: 'MRPC (paraphrase)', task: 'mrpc', train: d('glue', 'MRPC', 'train.tsv'), dev: d('glue', 'MRPC', 'dev.tsv'), devNote: 'official dev set, all 408 pairs', devSize: 408, trainExamples: scaled(800, 64), maxSeqLength: 128, epochs: 2, lr: 5e-4 }),
        // Brown POS files are written by the English data stage, split by document as pre-training is.
        task({ id: 'brown-pos', title: 'Brown POS tagging', task: 'token-classification', generated: true, train: join(outDir, 'en-data', 'brown-pos', 'train.conll'), dev: join(outDir, 'en-data', 'brown-pos', 'dev.conll'), devNote: 'held-out Brown documents, first 600 sentences', devSize: 600, trainExamples: scaled(800, 64), devExamples: 600, maxSeqLength: 64, epochs: 2, lr: 5e-4 }),
      ],
    },
    chinese: {
      size: 'mini',
      vocab: d('vocab', 'bert-base-chinese', 'vocab.txt'),
      corpus: d('clue_corpus_small_sample', 'CLUECorpusSmall_bert_sampled.txt'),
      pretrain: { steps: scaled(500, 20), batchSize: 8, maxSeqLength: 128, lr: 1e-3, dupeFactor: 2 },
      tasks: [
        task({ id: 'chnsenticorp', title: 'ChnSentiCorp (sentiment)', task: 'classification', train: d('chnsenticorp', 'train.tsv'), dev: d('chnsenticorp', 'dev.tsv'), devNote: 'official dev set, all 1,200 reviews', devSize: 1200, trainExamples: scaled(800, 64), maxSeqLength: 128, epochs: 2, lr: 5e-4 }),
        // The train file is not in shared/data: train on a sample of the test file, score the official dev file.
        task({ id: 'peoples-daily-ner', title: "People's Daily NER", task: 'ner', train: d('peoples_daily_ner', 'example.test'), dev: d('peoples_daily_ner', 'example.dev'), devNote: 'official dev set, all 2,318 sentences (trained on a sample of the test file: no train file in shared/data)', devSize: 2318, trainExamples: scaled(800, 64), maxSeqLength: 128, epochs: 2, lr: 5e-4 }),
      ],
    },
  };
}

/** Every input file the plan reads from the data folder (checked before any work). */
export function dataFiles(plan: ExperimentPlan): string[] {
  const external = (t: TaskPlan) => t.generated !== true;
  return [
    ...plan.english.tasks.filter(external).flatMap((t) => [t.train, t.dev]),
    plan.chinese.vocab,
    plan.chinese.corpus,
    ...plan.chinese.tasks.flatMap((t) => [t.train, t.dev]),
  ];
}
