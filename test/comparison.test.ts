// The pre-trained vs random-init comparison at a tiny budget: its structure (every arm, size,
// learning rate and seed run; each arm keeps the rate with the best mean dev score; test scores,
// mean and std from those runs), its files, and the trivial baselines on hand-worked data.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildLabelMap, buildTagMap } from '../src/data/tasks/labels.ts';
import { majorityBaseline, taggingBaselines } from '../src/train/comparison-baselines.ts';
import { compareInitializations, meanStd, type ComparisonResult } from '../src/train/comparison.ts';
import { comparisonLines, writeComparison } from '../src/train/comparison-report.ts';
import { taskSpec } from '../src/train/finetune-tasks.ts';
import * as data from './helpers/finetune-data.ts';
import { tinyModelFolder } from './helpers/tiny-model.ts';

test('most frequent tag per word: seen words (any case) get their commonest tag, unseen ones the commonest tag overall', () => {
  const train = [
    { words: ['The', 'dog', 'runs'], tags: ['at', 'nn', 'vbz'], where: 'a:1' },
    { words: ['the', 'runs'], tags: ['at', 'nns'], where: 'a:2' },
    { words: ['a', 'dog', 'the'], tags: ['at', 'vb', 'at'], where: 'a:3' },
  ];
  // Counts: at 4, nn 1, vbz 1, nns 1, vb 1. "runs": vbz 1, nns 1 -> vbz (seen first); "dog": nn 1, vb 1 -> nn.
  const testSet = [{ words: ['THE', 'runs', 'cat', 'dog'], tags: ['at', 'nns', 'at', 'nn'], where: 'b:1' }];
  const labels = buildTagMap([...train, ...testSet]);
  const b = taggingBaselines(train, testSet, labels);
  assert.equal(b['most frequent tag per word'], 3 / 4); // the, cat (unseen -> at), dog right; runs wrong
  assert.equal(b['most frequent tag'], 2 / 4);
});

test('majority class: the training set commonest label, scored with the task metric', () => {
  const ex = (label: string, i: number) => ({ text_a: `t${i}`, label, where: `f:${i}` });
  const train = ['pos', 'neg', 'pos'].map(ex);
  const testSet = ['neg', 'pos', 'neg', 'neg'].map(ex);
  const labels = buildLabelMap(train);
  assert.deepEqual(majorityBaseline(taskSpec('classification'), train, testSet, labels), { 'majority class': 1 / 4 });
});

test('mean and sample standard deviation', () => {
  assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1 });
  assert.deepEqual(meanStd([5]), { mean: 5, std: 0 });
});

test('the comparison runs both arms over sizes, rates and seeds, keeps each arm its best mean-dev rate, and writes its files', async () => {
  const dir = data.tempDir();
  const files = data.conllFiles(dir, 40, 11);
  const held = data.conllFiles(data.tempDir(), 24, 99).train; // other sentences (another seed): the test file
  const lines: string[] = [];
  const r: ComparisonResult = await compareInitializations({
    model: tinyModelFolder(),
    task: { task: 'ner', train: files.train, dev: files.dev, test: held },
    out: dir,
    seeds: [1, 2],
    sizes: [40, 8],
    mainSize: 8,
    selectAt: 'main',
    recipe: { lrs: [1e-3, 3e-3], batchSize: 8, steps: 6, evalEvery: 2, patience: 2, warmupRatio: 0.1, weightDecay: 0.01, maxSeqLength: 32 },
    log: (l) => lines.push(l),
  });
  assert.equal(r.metric, 'f1'); // B-PER / O read as chunks
  assert.equal(r.examples, 8);
  assert.equal(r.train_examples, 40);
  assert.equal(r.test_examples, 24);
  assert.deepEqual(r.sizes.map((s) => s.examples), [8, 40]);
  // Main size: 2 arms x 2 rates x 2 seeds; the other size reuses each arm's rate: 2 arms x 2 seeds.
  assert.equal(r.runs.length, 12);
  for (const arm of ['pretrained', 'random'] as const) {
    const atMain = r.runs.filter((x) => x.arm === arm && x.examples === 8);
    const devMean = (lr: number) => meanStd(atMain.filter((x) => x.lr === lr).map((x) => x.dev)).mean;
    const best = devMean(1e-3) >= devMean(3e-3) ? 1e-3 : 3e-3;
    assert.equal(r[arm].lr, best);
    const kept = atMain.filter((x) => x.lr === best);
    assert.deepEqual(r[arm].scores, kept.map((x) => x.test));
    assert.deepEqual(r[arm].dev, kept.map((x) => x.dev));
    assert.deepEqual({ mean: r[arm].mean, std: r[arm].std }, meanStd(kept.map((x) => x.test)));
    assert.deepEqual(r.runs.filter((x) => x.arm === arm && x.examples === 40).map((x) => x.lr), [best, best]);
    for (const c of r[arm].curves) {
      assert.ok(c.steps.length >= 1 && c.steps.length === c.scores.length);
      assert.ok(c.steps.every((s, i) => i === 0 || s > c.steps[i - 1]!), 'steps increase');
    }
  }
  for (const x of r.runs) {
    assert.ok(x.best_step <= x.steps && x.dev >= 0 && x.dev <= 1 && x.test >= 0 && x.test <= 1);
    // The schedule is 6 steps rounded up to whole epochs: 1 epoch of 8 examples is 1 step, of 40 is 5.
    assert.ok(x.steps <= (x.examples === 8 ? 6 : 10), `${x.steps} steps`);
    assert.ok(!existsSync(join(dir, 'runs', `${x.arm}-n${x.examples}-lr${x.lr}-seed${x.seed}`, 'model.safetensors')), 'weights removed');
  }
  assert.ok(r.baselines['most frequent tag per word']! >= 0);

  const out = writeComparison(r, dir, { title: 'synthetic NER' });
  const json = JSON.parse(readFileSync(out.json, 'utf8'));
  assert.equal(json.metric, 'f1');
  for (const arm of ['pretrained', 'random']) {
    assert.equal(json[arm].scores.length, 2);
    assert.equal(typeof json[arm].mean, 'number');
  }
  assert.deepEqual(Object.keys(json.baselines), ['most frequent tag per word', 'most frequent tag']);
  const bars = readFileSync(out.bars, 'utf8');
  assert.equal((bars.match(/class="bar"/g) ?? []).length, 2 * 3 + 2); // two arms x (2 seeds + mean), two baselines at the mean
  assert.equal((readFileSync(out.curves, 'utf8').match(/class="series"/g) ?? []).length, 4); // 2 arms x 2 seeds
  assert.equal((readFileSync(out.lowResource, 'utf8').match(/class="series"/g) ?? []).length, 4); // 2 arms + 2 baselines
  const printed = comparisonLines(r, 'synthetic NER').join('\n');
  assert.match(printed, /pre-trained .* seeds: /);
  assert.match(printed, /by labeled examples: 8: .*; 40: /);
});
