// The main job's fine-tuning stage: Brown POS files split by document, simplified tags, and the
// pre-trained vs random-init comparison run end to end (on the tiny model, a few sentences).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { finetuneComparison, simplifyBrownTag, writeBrownPosFiles } from '../src/cli/start-finetune.ts';
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

test('Brown POS files: the held-out sentences come from every 20th document, none has an unseen tag', () => {
  const dir = data.tempDir();
  const f = writeBrownPosFiles(dir, 20);
  assert.ok(f.trainCount + f.devCount <= 57340 && f.trainCount + f.devCount > 57300, `${f.trainCount} + ${f.devCount}`); // the corpus has 57340
  const dev = readConll(f.dev);
  const train = readConll(f.train);
  assert.equal(dev.length, f.devCount);
  assert.equal(train.length, f.trainCount);
  const tags = new Set(train.flatMap((s) => s.tags));
  for (const s of dev) for (const t of s.tags) assert.ok(tags.has(t), t);
  // The first held-out document is ca01 (index 0); its first sentence opens the dev file.
  assert.deepEqual(dev[0]!.words.slice(0, 3), ['The', 'Fulton', 'County']);
  assert.deepEqual(dev[0]!.tags.slice(0, 3), ['at', 'np', 'nn']);
});

test('the comparison fine-tunes both starts with the same budget and draws both bars', async () => {
  const dir = data.tempDir();
  const lines: string[] = [];
  const r = await finetuneComparison({
    out: dir, modelDir: tinyModelFolder(), holdOutEvery: 20, trainSentences: 64, devSentences: 16, epochs: 1, batchSize: 16, lr: 1e-3, maxSeqLength: 64, seed: 3,
    log: (l) => lines.push(l),
  });
  assert.equal(r.metric, 'accuracy'); // POS tags are not chunks
  for (const v of [r.pretrained, r.random]) assert.ok(v >= 0 && v <= 1);
  const svg = readFileSync(r.chart, 'utf8');
  assert.equal((svg.match(/class="bar"/g) ?? []).length, 2);
  const pre = JSON.parse(readFileSync(join(dir, 'pos-pretrained', 'eval_results.json'), 'utf8'));
  const rand = JSON.parse(readFileSync(join(dir, 'pos-random-init', 'eval_results.json'), 'utf8'));
  assert.equal(pre.step, 4); // 64 sentences / 16, one epoch, both runs
  assert.equal(rand.step, 4);
  assert.equal(pre.accuracy, r.pretrained);
  assert.equal(rand.accuracy, r.random);
});
