// The main job's last stage: the paper's central claim in miniature. The freshly pre-trained model
// and the same architecture from random weights are fine-tuned on Brown part-of-speech tagging by
// the shared comparison routine (train/comparison.ts): several seeds, the same recipe chosen the same
// way for both, early stopping on a dev split, scored on test documents no step of the run has seen.
// Then the paper's other way to use BERT (section 5.3), the same comparison with the encoder frozen
// and only the output layer trained on its features.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brownTaggedSentences, type BrownTaggedSentence } from '../data/brown.ts';
import { compareInitializations, type ComparisonRecipe, type ComparisonResult } from '../train/comparison.ts';
import { comparisonLines, writeComparison, type ComparisonFiles } from '../train/comparison-report.ts';
import { sample } from '../train/finetune.ts';

export interface FinetuneStageOptions {
  out: string;
  /** The pre-trained model folder (with tokenizer files). */
  modelDir: string;
  /** Every n-th Brown document is held out, as in pre-training; those alternate between dev and test. */
  holdOutEvery: number;
  /** Labeled training sentences to draw the labeled sets from (a seeded sample of the training documents). */
  trainSentences: number;
  /** Labeled-set sizes; the first is the headline, the others draw the low-resource curve. */
  sizes: number[];
  devSentences: number;
  testSentences: number;
  /** Fine-tuning runs per arm at the headline size (seeds seed, seed+1, ...). */
  seeds: number;
  /** Runs per arm at the other sizes (the first of those seeds). */
  curveSeeds: number;
  recipe: ComparisonRecipe;
  /** The feature-based comparison's recipe (its `freezeEncoder` set); none skips it. */
  featureRecipe?: ComparisonRecipe;
  /** Seeds the sentence samples and, through `seeds`, every fine-tuning run. */
  seed: number;
  threads?: number;
  log: (line: string) => void;
}

// Measured on Brown POS (README, "What npm start does"): with 50-100 labeled sentences both arms stop
// improving on dev within 60-200 steps at lr 1e-3 (the rate the pre-trained arm picked on dev from
// {3e-4, 1e-3} in every run), so one fixed recipe, a 400-step cap and patience 5 x 10 steps. The
// headline is 30 labeled sentences, where the feature-based comparison shows pre-training's effect
// most (measured at 30, 100, 300 and 1,000); the curve's sizes run one seed each to keep npm start
// within its minutes.
export const FINETUNE_STAGE_DEFAULTS = {
  trainSentences: 1000,
  sizes: [30, 100, 300, 1000],
  devSentences: 300,
  testSentences: 1000,
  seeds: 3,
  curveSeeds: 1,
  recipe: { lrs: [1e-3], batchSize: 16, steps: 400, evalEvery: 10, patience: 5, warmupRatio: 0.1, weightDecay: 0.01, maxSeqLength: 64 },
  // An output layer alone on fixed features wants a larger rate than the whole network, and we had
  // not measured which, so each arm picks from a grid on dev (README, "The feature-based comparison").
  featureRecipe: { lrs: [3e-3, 1e-2, 3e-2], batchSize: 16, steps: 400, evalEvery: 10, patience: 5, warmupRatio: 0.1, weightDecay: 0.01, maxSeqLength: 64, freezeEncoder: true },
} as const satisfies Omit<FinetuneStageOptions, 'out' | 'modelDir' | 'holdOutEvery' | 'seed' | 'log'>;

export interface FinetuneComparison {
  result: ComparisonResult;
  files: ComparisonFiles;
  tags: number;
  lines: string[];
  /** The same comparison with the encoder frozen (when `featureRecipe` is given). */
  featureBased?: { result: ComparisonResult; files: ComparisonFiles; lines: string[] };
}

/**
 * A coarser Brown tag: no title (-tl), headline (-hl) or cited-word (-nc) suffix, no foreign-word
 * prefix (fw-), and a contraction tagged by its first part ("ppss+bem" is "ppss"): about 80 tags.
 */
export function simplifyBrownTag(tag: string): string {
  const base = tag.replace(/(-(tl|hl|nc))+$/, '').replace(/^fw-/, '').split('+')[0]!;
  return base === '' ? tag : base;
}

function conll(sentences: readonly BrownTaggedSentence[]): string {
  return sentences.map((s) => s.words.map((w, i) => `${w}\t${simplifyBrownTag(s.tags[i]!)}`).join('\n')).join('\n\n') + '\n';
}

export interface BrownPosFiles {
  train: string;
  dev: string;
  test: string;
  counts: { train: number; dev: number; test: number };
  tags: number;
}

/**
 * Brown's tagged sentences split by document: training sentences from the documents pre-training
 * trains on; dev and test from the held-out documents (every `holdOutEvery`-th), alternating
 * between them, so selection and the reported score see different documents. A held-out sentence
 * with a tag no training sentence has is left out (it could not be predicted).
 */
export function splitBrownPos(sentences: readonly BrownTaggedSentence[], holdOutEvery: number): Record<'train' | 'dev' | 'test', BrownTaggedSentence[]> {
  const docIndex = new Map<string, number>();
  for (const s of sentences) if (!docIndex.has(s.document)) docIndex.set(s.document, docIndex.size);
  const doc = (s: BrownTaggedSentence) => docIndex.get(s.document)!;
  const heldOut = (s: BrownTaggedSentence) => doc(s) % holdOutEvery === 0;
  const train = sentences.filter((s) => !heldOut(s));
  const seen = new Set(train.flatMap((s) => s.tags.map(simplifyBrownTag)));
  const usable = sentences.filter((s) => heldOut(s) && s.tags.every((t) => seen.has(simplifyBrownTag(t))));
  return {
    train,
    dev: usable.filter((s) => (doc(s) / holdOutEvery) % 2 === 0),
    test: usable.filter((s) => (doc(s) / holdOutEvery) % 2 === 1),
  };
}

/**
 * Brown POS CoNLL files in `dir` from splitBrownPos: each a seeded sample of at most the given number
 * of sentences, kept in corpus order; held-out sentences with a tag the training sample lacks are
 * dropped (the label map comes from the training file).
 */
export function writeBrownPosFiles(dir: string, o: { holdOutEvery: number; train: number; dev: number; test: number; seed: number }): BrownPosFiles {
  const all = splitBrownPos(brownTaggedSentences(), o.holdOutEvery);
  const train = sample(all.train, o.train, o.seed);
  const trainTags = new Set(train.flatMap((s) => s.tags.map(simplifyBrownTag)));
  const known = (s: BrownTaggedSentence) => s.tags.every((t) => trainTags.has(simplifyBrownTag(t)));
  const dev = sample(all.dev, o.dev, o.seed + 1).filter(known);
  const test = sample(all.test, o.test, o.seed + 2).filter(known);
  const files = { train: join(dir, 'train.conll'), dev: join(dir, 'dev.conll'), test: join(dir, 'test.conll') };
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.train, conll(train));
  writeFileSync(files.dev, conll(dev));
  writeFileSync(files.test, conll(test));
  return { ...files, counts: { train: train.length, dev: dev.length, test: test.length }, tags: trainTags.size };
}

export async function finetuneComparison(o: FinetuneStageOptions): Promise<FinetuneComparison> {
  const files = writeBrownPosFiles(join(o.out, 'brown-pos'), { holdOutEvery: o.holdOutEvery, train: o.trainSentences, dev: o.devSentences, test: o.testSentences, seed: o.seed });
  o.log(`Brown POS tagging (${files.tags} tags): ${files.counts.train} training sentences to sample labeled sets from, ${files.counts.dev} dev and ${files.counts.test} test sentences from other held-out documents`);
  const compare = (recipe: ComparisonRecipe, out: string) => compareInitializations({
    model: o.modelDir,
    task: { task: 'token-classification', train: files.train, dev: files.dev, test: files.test },
    out,
    seeds: Array.from({ length: o.seeds }, (_, i) => o.seed + i),
    curveSeeds: o.curveSeeds,
    sizes: o.sizes,
    mainSize: o.sizes[0],
    recipe,
    selectAt: 'main',
    threads: o.threads,
    log: o.log,
  });
  const result = await compare(o.recipe, join(o.out, 'finetune'));
  const title = 'Brown POS tagging';
  const written = writeComparison(result, o.out, { title });
  let featureBased: FinetuneComparison['featureBased'];
  if (o.featureRecipe) {
    o.log('feature-based (the paper, section 5.3): the same comparison with the encoder frozen, only the output layer trained');
    const fb = await compare(o.featureRecipe, join(o.out, 'feature-based'));
    const fbTitle = `${title}, feature-based`;
    featureBased = { result: fb, files: writeComparison(fb, o.out, { title: fbTitle, prefix: 'feature-based-', json: 'feature-based.json' }), lines: comparisonLines(fb, `${fbTitle} (${files.tags} tags)`) };
  }
  return { result, files: written, tags: files.tags, lines: comparisonLines(result, `${title} (${files.tags} tags)`), featureBased };
}
