// Fine-tuning end to end on the tiny model: each task family learns a small separable task to
// (near) perfect dev scores, and the saved folder is a Hugging Face model folder that reloads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import { readConfigJson } from '../src/model/config-file.ts';
import { evaluateModel } from '../src/train/finetune-eval.ts';
import { finetune, type FinetuneOptions } from '../src/train/finetune.ts';
import * as data from './helpers/finetune-data.ts';
import { tinyModelFolder } from './helpers/tiny-model.ts';

function options(files: { train: string; dev: string }, task: string, over: Partial<FinetuneOptions> = {}): FinetuneOptions {
  return {
    task, model: tinyModelFolder(), ...files, out: join(data.tempDir(), 'out'),
    epochs: 5, lr: 5e-3, batchSize: 16, maxSeqLength: 64, warmupRatio: 0.1, weightDecay: 0.01, seed: 42, ...over,
  };
}

test('single-sentence classification reaches near-perfect dev accuracy; the folder is a BertForSequenceClassification', async () => {
  const o = options(data.classificationFiles(data.tempDir(), 240, 1), 'classification', { epochs: 4 });
  const r = await finetune(o);
  assert.ok(r.best.metrics.accuracy! >= 0.95, JSON.stringify(r.best));
  assert.equal(r.best.main, 'accuracy');
  assert.equal(r.evals.length, 4); // one per epoch
  const raw = JSON.parse(readFileSync(join(o.out, 'config.json'), 'utf8'));
  assert.deepEqual(raw.architectures, ['BertForSequenceClassification']);
  assert.deepEqual(raw.id2label, { 0: 'neg', 1: 'pos' }); // sorted, fixed by the training file
  assert.deepEqual(raw.label2id, { neg: 0, pos: 1 });
  const ckpt = loadCheckpoint(o.out);
  assert.deepEqual(ckpt.tensors.get('classifier.weight')!.shape, [2, 32]);
  assert.ok(!ckpt.tensors.has('cls.seq_relationship.weight'));
  // Reloaded, it scores what training reported for the best checkpoint.
  const again = await evaluateModel({ model: o.out, task: 'classification', data: o.dev, maxSeqLength: 64 });
  assert.equal(again.metrics.accuracy, r.best.metrics.accuracy);
  const results = JSON.parse(readFileSync(join(o.out, 'eval_results.json'), 'utf8'));
  assert.equal(results.accuracy, r.best.metrics.accuracy);
  assert.ok(readFileSync(join(o.out, 'curve.svg'), 'utf8').includes('dev accuracy'));
  assert.ok(readFileSync(join(o.out, 'vocab.txt'), 'utf8').startsWith('[PAD]'));
});

test('sentence-pair classification (yes only when both texts are A words) is learned', async () => {
  const r = await finetune(options(data.pairFiles(data.tempDir(), 240, 2), 'pair-classification'));
  assert.ok(r.best.metrics.accuracy! >= 0.95, JSON.stringify(r.best));
});

test('regression (fraction of A words) reaches Pearson > 0.9; config says problem_type regression', async () => {
  const o = options(data.regressionFiles(data.tempDir(), 320, 3), 'regression', { epochs: 6, columns: { labelColumn: 'score' } });
  const r = await finetune(o);
  assert.equal(r.best.main, 'pearson');
  assert.ok(r.best.metrics.pearson! > 0.9, JSON.stringify(r.best));
  const config = readConfigJson(join(o.out, 'config.json'));
  assert.equal(config.problem_type, 'regression');
  assert.deepEqual(loadCheckpoint(o.out).tensors.get('classifier.weight')!.shape, [1, 32]);
});

test('token classification (A words are B-PER) reaches entity F1 1; the folder has no pooler', async () => {
  const o = options(data.conllFiles(data.tempDir(), 320, 4), 'ner', { epochs: 4 });
  const r = await finetune(o);
  assert.equal(r.best.main, 'f1');
  assert.ok(r.best.metrics.f1! >= 0.98, JSON.stringify(r.best));
  const raw = JSON.parse(readFileSync(join(o.out, 'config.json'), 'utf8'));
  assert.deepEqual(raw.architectures, ['BertForTokenClassification']);
  assert.deepEqual(raw.id2label, { 0: 'B-PER', 1: 'O' });
  assert.ok(!loadCheckpoint(o.out).tensors.has('bert.pooler.dense.weight'));
});

test('question answering (the answer is the word after w98) reaches exact match near 100', async () => {
  const o = options(data.squadFiles(data.tempDir(), 240, 5), 'squad', { epochs: 4 });
  const r = await finetune(o);
  assert.equal(r.best.main, 'f1');
  assert.ok(r.best.metrics.exact_match! >= 95, JSON.stringify(r.best));
  assert.deepEqual(readConfigJson(join(o.out, 'config.json')).architectures, ['BertForQuestionAnswering']);
});

test('SQuAD v2.0 (a third unanswerable) reaches best F1 near 100 with HasAns/NoAns splits', async () => {
  const r = await finetune(options(data.squadFiles(data.tempDir(), 240, 8, true), 'squad2', { epochs: 4 }));
  assert.equal(r.best.main, 'best_f1');
  assert.ok(r.best.metrics.best_f1! >= 95, JSON.stringify(r.best));
  assert.ok(r.best.metrics.HasAns_total! > 0 && r.best.metrics.NoAns_total! > 0);
  assert.equal(r.best.metrics.HasAns_total! + r.best.metrics.NoAns_total!, 60);
});

test('multiple choice (the ending of A words) reaches accuracy near 1', async () => {
  const o = options(data.swagFiles(data.tempDir(), 200, 6), 'multiple-choice', { epochs: 3 });
  const r = await finetune(o);
  assert.ok(r.best.metrics.accuracy! >= 0.95, JSON.stringify(r.best));
  assert.deepEqual(loadCheckpoint(o.out).tensors.get('classifier.weight')!.shape, [1, 32]);
});

test('eval-every, gradient accumulation and early stopping: evaluations every 5 steps, stops after 2 without gain', async () => {
  const files = data.classificationFiles(data.tempDir(), 160, 7);
  const r = await finetune(options(files, 'classification', { epochs: 20, evalEvery: 5, earlyStopping: 2, gradAccum: 2 }));
  assert.ok(r.evals.every((e, i) => e.step === 5 * (i + 1)));
  assert.ok(r.stoppedEarly, `ran ${r.steps} steps`);
  assert.ok(r.steps < 200);
  const last = r.evals.slice(-2);
  assert.ok(last.every((e) => !e.best));
});

test('the feature-based approach (freezeEncoder) trains the output layer alone: every encoder tensor is saved as loaded, bit for bit', async () => {
  const o = options(data.conllFiles(data.tempDir(), 320, 4), 'ner', { epochs: 6, lr: 1e-2, gradAccum: 2, freezeEncoder: true });
  const r = await finetune(o);
  const loaded = loadCheckpoint(o.model).tensors;
  const saved = loadCheckpoint(o.out).tensors;
  const encoder = [...saved.keys()].filter((k) => k.startsWith('bert.'));
  assert.ok(encoder.length > 10);
  for (const k of encoder) assert.deepEqual(saved.get(k)!.data, loaded.get(k)!.data, k);
  assert.ok(!loaded.has('classifier.weight') && saved.has('classifier.weight'));
  // The output layer learns (on a random encoder's features, slowly): the last epoch's loss is under the first step's.
  const last = r.history.filter((h) => h.epoch > 5).map((h) => h.loss);
  assert.ok(last.reduce((a, b) => a + b, 0) / last.length < 0.9 * r.history[0]!.loss, `${r.history[0]!.loss} -> ${last}`);
});
