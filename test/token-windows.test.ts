// Token classification reads long sentences whole: overlapping windows, each word owned (labelled
// and read back) by the window where it has the most context, so no word falls past the limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillWordPredictions, tokenWindows } from '../src/data/tasks/token-classification.ts';
import { IGNORE_INDEX } from '../src/data/tasks/tokenizer.ts';
import { buildTagMap } from '../src/data/tasks/labels.ts';
import { buildTaskFeatures, scoreTask, taskSpec, tokenWindowStride, type FeatureOutput } from '../src/train/finetune-tasks.ts';
import { BertTokenizer } from '../src/tokenizer/bert-tokenizer.ts';
import { tinyTokenizer } from './helpers/tiny-model.ts';

const I = IGNORE_INDEX;

test('windows of 4 pieces, 2 apart, over 10 one-piece words: each word owned by its most central window', () => {
  const tok = tinyTokenizer();
  const words = Array.from({ length: 10 }, (_, i) => `w${i + 10}`);
  const tags = words.map((_, i) => i);
  const { features, words_without_pieces } = tokenWindows(tok, words, tags, { max_length: 6, stride: 2 });
  assert.equal(words_without_pieces, 0);
  // Pieces 0-3, 2-5, 4-7, 6-9. Piece 2 is 2 from window 0's start and 1 from its end, 0 from
  // window 1's start: window 0 owns it; piece 3 is at window 0's edge but 1 inside window 1.
  assert.deepEqual(features.map((f) => f.word_ids), [
    [null, 0, 1, 2, null, null],
    [null, null, 3, 4, null, null],
    [null, null, 5, 6, null, null],
    [null, null, 7, 8, 9, null],
  ]);
  assert.deepEqual(features.map((f) => f.labels), [
    [I, 0, 1, 2, I, I],
    [I, I, 3, 4, I, I],
    [I, I, 5, 6, I, I],
    [I, I, 7, 8, 9, I],
  ]);
  assert.deepEqual(features[1]!.input_ids, [2, 12, 13, 14, 15, 3]); // [CLS] w12..w15 [SEP]
  // Reading every window back gives each word exactly its own window's prediction.
  const out = new Array<number>(10).fill(-1);
  features.forEach((f, k) => fillWordPredictions(out, f.word_ids, f.word_ids.map(() => 100 + k)));
  assert.deepEqual(out, [100, 100, 100, 101, 101, 102, 102, 103, 103, 103]);
  // A sentence that fits is one window, as before.
  assert.equal(tokenWindows(tok, words.slice(0, 4), tags.slice(0, 4), { max_length: 6, stride: 2 }).features.length, 1);
});

test('a word split into pieces across a window edge is owned where its first piece is, its tag on that piece only', () => {
  const tok = new BertTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'c', 'long', '##er', '##est'], true);
  // Pieces: a b long ##er ##est c  (6 pieces; windows of 4 pieces, 2 apart: 0-3, 2-5).
  const { features } = tokenWindows(tok, ['a', 'b', 'longerest', 'c'], [0, 1, 2, 3], { max_length: 6, stride: 2 });
  assert.equal(features.length, 2);
  // "long" (piece 2): 1 from window 0's end, 0 from window 1's start -> window 0 owns word 2.
  assert.deepEqual(features[0]!.word_ids, [null, 0, 1, 2, 2, null]);
  assert.deepEqual(features[0]!.labels, [I, 0, 1, 2, I, I]);
  assert.deepEqual(features[1]!.word_ids, [null, null, null, null, 3, null]);
  assert.deepEqual(features[1]!.labels, [I, I, I, I, 3, I]);
});

test('scoring a long sentence: perfect piece logits give every word its tag at any window size', () => {
  const tok = tinyTokenizer();
  const words = Array.from({ length: 37 }, (_, i) => `w${5 + ((i * 7) % 90)}`);
  const tagNames = words.map((_, i) => ['nn', 'vb', 'at'][i % 3]!);
  const spec = taskSpec('token-classification');
  const examples = { kind: 'tagged' as const, examples: [{ words, tags: tagNames, where: 'x:1' }, { words: words.slice(0, 3), tags: tagNames.slice(0, 3), where: 'x:2' }] };
  const labels = buildTagMap(examples.examples);
  for (const max of [8, 12, 64]) {
    const data = buildTaskFeatures(tok, examples, spec, labels, { max_seq_length: max, training: false });
    if (max < 39) assert.ok(data.features.length > 2, `${data.features.length} features at ${max}`);
    const C = labels.size;
    const outputs: FeatureOutput[] = data.features.map((f) => {
      const logits = new Float32Array(f.rows[0]!.input_ids.length * C);
      const sentence = examples.examples[f.example_index]!;
      f.word_ids!.forEach((w, t) => {
        if (w !== null) logits[t * C + labels.id(sentence.tags[w]!)] = 5;
      });
      return { logits };
    });
    assert.equal(scoreTask(data, outputs, labels).metrics.accuracy, 1, `max_seq_length ${max}`);
  }
});

test('the window stride is --doc-stride, at most half a window', () => {
  assert.equal(tokenWindowStride({ max_seq_length: 64, doc_stride: 128 }), 31);
  assert.equal(tokenWindowStride({ max_seq_length: 64, doc_stride: 16 }), 16);
  assert.equal(tokenWindowStride({ max_seq_length: 64 }), 31);
});
