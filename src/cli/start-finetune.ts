// The main job's last stage: the paper's central claim in miniature. The freshly pre-trained model
// and the same architecture from random weights are fine-tuned with the same budget and seed on
// Brown part-of-speech tagging (token classification), held out by document as pre-training was,
// and their dev accuracies are printed side by side and drawn as a bar chart.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brownTaggedSentences, type BrownTaggedSentence } from '../data/brown.ts';
import { finetune, type FinetuneResult } from '../train/finetune.ts';
import { writeBarChartSvg } from '../train/plot.ts';

export interface FinetuneStageOptions {
  out: string;
  /** The pre-trained model folder (with tokenizer files). */
  modelDir: string;
  /** Every n-th Brown document is held out, as in pre-training. */
  holdOutEvery: number;
  trainSentences: number;
  devSentences: number;
  epochs: number;
  batchSize: number;
  lr: number;
  maxSeqLength: number;
  seed: number;
  log: (line: string) => void;
}

export const FINETUNE_STAGE_DEFAULTS = { trainSentences: 2000, devSentences: 600, epochs: 1, batchSize: 32, lr: 3e-4, maxSeqLength: 64 } as const;

export interface FinetuneComparison {
  metric: string;
  pretrained: number;
  random: number;
  tags: number;
  chart: string;
  seconds: { pretrained: number; random: number };
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

/** Writes Brown POS train/dev CoNLL files into `dir`, split by document (every `holdOutEvery`-th held out). */
export function writeBrownPosFiles(dir: string, holdOutEvery: number): { train: string; dev: string; trainCount: number; devCount: number } {
  const sentences = brownTaggedSentences();
  const docIndex = new Map<string, number>();
  for (const s of sentences) if (!docIndex.has(s.document)) docIndex.set(s.document, docIndex.size);
  const heldOut = (s: BrownTaggedSentence) => docIndex.get(s.document)! % holdOutEvery === 0;
  const train = sentences.filter((s) => !heldOut(s));
  // A tag no training sentence has cannot be predicted, and the label map rejects it: such held-out sentences are left out.
  const seen = new Set(train.flatMap((s) => s.tags.map(simplifyBrownTag)));
  const dev = sentences.filter((s) => heldOut(s) && s.tags.every((t) => seen.has(simplifyBrownTag(t))));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.conll'), conll(train));
  writeFileSync(join(dir, 'dev.conll'), conll(dev));
  return { train: join(dir, 'train.conll'), dev: join(dir, 'dev.conll'), trainCount: train.length, devCount: dev.length };
}

export async function finetuneComparison(o: FinetuneStageOptions): Promise<FinetuneComparison> {
  const files = writeBrownPosFiles(join(o.out, 'brown-pos'), o.holdOutEvery);
  o.log(`Brown POS tagging: ${files.trainCount} training sentences (sampling ${o.trainSentences}), ${files.devCount} held-out (scoring the first ${o.devSentences})`);
  const run = async (randomInit: boolean): Promise<[FinetuneResult, number]> => {
    const t = performance.now();
    const r = await finetune({
      task: 'token-classification',
      model: o.modelDir,
      train: files.train,
      dev: files.dev,
      out: join(o.out, randomInit ? 'pos-random-init' : 'pos-pretrained'),
      epochs: o.epochs,
      lr: o.lr,
      batchSize: o.batchSize,
      maxSeqLength: o.maxSeqLength,
      warmupRatio: 0.1,
      weightDecay: 0.01,
      seed: o.seed,
      randomInit,
      maxTrainExamples: o.trainSentences,
      maxDevExamples: o.devSentences,
      onStep: (s) => {
        if (s.step % 20 === 0 || s.step === s.steps) o.log(`  ${randomInit ? 'random init' : 'pre-trained'} step ${s.step}/${s.steps} loss ${s.loss.toFixed(3)}`);
      },
    });
    return [r, +((performance.now() - t) / 1000).toFixed(1)];
  };
  const [pre, preSeconds] = await run(false);
  const [rand, randSeconds] = await run(true);
  const metric = pre.best.main;
  const pretrained = pre.best.metrics[metric]!;
  const random = rand.best.metrics[metric]!;
  const chart = join(o.out, 'finetune-comparison.svg');
  writeBarChartSvg(
    chart,
    { categories: [`Brown POS dev ${metric}`], series: [{ name: 'pre-trained', values: [pretrained] }, { name: 'random init', values: [random] }] },
    { title: 'Fine-tuning: pre-trained vs random initialisation (same budget, same seed)', yLabel: metric },
  );
  const tags = Object.keys(pre.config.id2label ?? {}).length;
  return { metric, pretrained, random, tags, chart, seconds: { pretrained: preSeconds, random: randSeconds } };
}
