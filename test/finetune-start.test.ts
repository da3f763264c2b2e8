// The main job's fine-tuning stage: Brown POS files split by document, simplified tags, and the
// pre-trained vs random-init comparison run end to end (on the tiny model, a few sentences).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { finetuneComparison, simplifyBrownTag, splitBrownPos, writeBrownPosFiles } from '../src/cli/start-finetune.ts';
import { brownTaggedSentences } from '../src/data/brown.ts';
import { readConll } from '../src/data/tasks/conll.ts';
import * as data from './helpers/finetune-data.ts';
import { tinyModelFolder } from './helpers/tiny-model.ts';

test('Brown tags lose title/headline/cited suffixes, the foreign-word prefix and contractions past the first part', () => {
  assert.equal(simplifyBrownTag('np-tl'), 'np');
  assert.equal(simplifyBrownTag('nns-tl-hl'), 'nns');
  assert.equal(simplifyBrownTag('nn-nc'), 'nn');
  assert.equal(simplifyBrownTag('ppss+bem'), 'ppss');
  assert.equal(simplifyBrownTag('fw-in+at-tl'), 'in');
  assert.equal(simplifyBrownTag('--'), '--');
  assert.equal(simplifyBrownTag('bez*'), 'bez*');
});

test('Brown POS split by document: training from pre-training documents, dev and test from alternating held-out ones', () => {
  const sentences = brownTaggedSentences();
  const split = splitBrownPos(sentences, 20);
  const order = [...new Set(sentences.map((s) => s.document))];
  const index = (s: { document: string }) => order.indexOf(s.document);
  assert.ok(split.train.every((s) => index(s) % 20 !== 0));
  assert.ok(split.dev.every((s) => index(s) % 40 === 0)); // held-out documents 0, 2, 4, ... of 25
  assert.ok(split.test.every((s) => index(s) % 40 === 20));
  assert.equal(new Set(split.dev.map((s) => s.document)).size, 13);
  assert.equal(new Set(split.test.map((s) => s.document)).size, 12);
  assert.equal(split.train.length, sentences.filter((s) => index(s) % 20 !== 0).length);
  // The first held-out document is ca01 (index 0); its first sentence opens dev.
  assert.deepEqual(split.dev[0]!.words.slice(0, 3), ['The', 'Fulton', 'County']);
});

test("Brown POS files: seeded samples of each part; every held-out tag is one of the training file's", () => {
  const f = writeBrownPosFiles(data.tempDir(), { holdOutEvery: 20, train: 500, dev: 200, test: 300, seed: 5 });
  const [train, dev, testSet] = [readConll(f.train), readConll(f.dev), readConll(f.test)];
  assert.deepEqual([train.length, dev.length, testSet.length], [f.counts.train, f.counts.dev, f.counts.test]);
  assert.equal(train.length, 500);
  assert.ok(dev.length > 180 && testSet.length > 270, `${dev.length} dev, ${testSet.length} test`); // a few dropped for a tag the 500 lack
  const tags = new Set(train.flatMap((s) => s.tags));
  assert.equal(tags.size, f.tags);
  for (const s of [...dev, ...testSet]) for (const t of s.tags) assert.ok(tags.has(t), t);
  const g = writeBrownPosFiles(data.tempDir(), { holdOutEvery: 20, train: 500, dev: 200, test: 300, seed: 6 });
  assert.notDeepEqual(readConll(g.train).map((s) => s.words.join(' ')), train.map((s) => s.words.join(' ')));
});

test('the Brown POS comparison: both arms, every seed and size, comparison.json and the three charts', async () => {
  const dir = data.tempDir();
  const lines: string[] = [];
  const r = await finetuneComparison({
    out: dir, modelDir: tinyModelFolder(), holdOutEvery: 20, trainSentences: 40, sizes: [8, 16], devSentences: 8, testSentences: 12, seeds: 2, curveSeeds: 1, seed: 3,
    recipe: { lrs: [1e-3], batchSize: 8, steps: 4, evalEvery: 2, patience: 1, warmupRatio: 0.1, weightDecay: 0.01, maxSeqLength: 32 },
    log: (l) => lines.push(l),
  });
  assert.equal(r.result.metric, 'accuracy'); // POS tags are not chunks
  assert.deepEqual(r.result.seeds, [3, 4]);
  assert.deepEqual(r.result.sizes.map((s) => s.examples), [8, 16]);
  assert.equal(r.result.runs.length, 2 * 2 + 2); // two seeds per arm at the headline size, one at the other
  const json = JSON.parse(readFileSync(join(dir, 'comparison.json'), 'utf8'));
  assert.equal(json.metric, 'accuracy');
  for (const arm of ['pretrained', 'random']) {
    assert.equal(json[arm].scores.length, 2);
    assert.ok(json[arm].scores.every((x: number) => x >= 0 && x <= 1));
  }
  assert.ok(json.baselines['most frequent tag per word'] > 0);
  for (const f of ['finetune-comparison.svg', 'finetune-dev-curves.svg', 'finetune-low-resource.svg']) assert.ok(existsSync(join(dir, f)), f);
  assert.match(r.lines.join('\n'), /most frequent tag per word/);
  assert.equal(r.featureBased, undefined);
});

test('the feature-based comparison: the encoder frozen in both arms, its own json and charts beside the fine-tuning ones', async () => {
  const dir = data.tempDir();
  const recipe = { lrs: [1e-2, 3e-2], batchSize: 8, steps: 4, evalEvery: 2, patience: 1, warmupRatio: 0.1, weightDecay: 0.01, maxSeqLength: 32 };
  const r = await finetuneComparison({
    out: dir, modelDir: tinyModelFolder(), holdOutEvery: 20, trainSentences: 40, sizes: [8], devSentences: 8, testSentences: 12, seeds: 1, curveSeeds: 1, seed: 3,
    recipe: { ...recipe, lrs: [1e-3] }, featureRecipe: { ...recipe, freezeEncoder: true }, log: () => {},
  });
  const fb = r.featureBased!;
  assert.equal(fb.result.runs.length, 2 * 2); // each arm at each rate of the grid
  assert.ok(fb.result.recipe.freezeEncoder);
  const json = JSON.parse(readFileSync(join(dir, 'feature-based.json'), 'utf8'));
  assert.deepEqual([json.pretrained.scores.length, json.random.scores.length], [1, 1]);
  assert.ok([1e-2, 3e-2].includes(json.pretrained.lr));
  for (const f of ['feature-based-comparison.svg', 'feature-based-dev-curves.svg', 'feature-based-low-resource.svg', 'comparison.json']) assert.ok(existsSync(join(dir, f)), f);
  assert.match(fb.lines[0]!, /^Brown POS tagging, feature-based/);
});
