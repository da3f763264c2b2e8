// The limits of issue #17 hold in the file-free parsers too (the ones src/browser.ts exports): a page
// handed a hostile model folder or task file is refused the same way bert's file readers refuse it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import type { FloatTensor } from '../src/checkpoint/tensor.ts';
import { weightsFrom } from '../src/checkpoint/weights-from.ts';
import { parseCsv, parseTsv, splitLines } from '../src/data/tasks/delimited.ts';
import { LIMITS } from '../src/limits.ts';
import { makeConfig, parseConfigJson } from '../src/model/config.ts';
import { parseTokenizerJson } from '../src/tokenizer/tokenizer-json.ts';
import { parseVocab, validateVocab } from '../src/tokenizer/vocab-text.ts';

test('parseVocab counts lines on the bytes and validateVocab bounds the token count', () => {
  const huge = new TextEncoder().encode('a\n'.repeat(LIMITS.vocabTokens + 1));
  assert.throws(() => parseVocab(huge, 'page/vocab.txt'), /page\/vocab\.txt: vocabulary has 1048577 or more lines, over the limit of 1048576 tokens$/);
  const tokens = Array.from({ length: LIMITS.vocabTokens + 1 }, (_, i) => `t${i}`);
  assert.throws(() => validateVocab(tokens, (i) => `v:${i + 1}`, 'v'), /v: vocabulary has 1048577 tokens, over the limit of 1048576$/);
  assert.deepEqual(parseVocab(new TextEncoder().encode('[PAD]\n[UNK]\n'), 'ok'), ['[PAD]', '[UNK]']);
});

test('parseTokenizerJson refuses deep nesting, a non-object and too many tokens, in one line', () => {
  assert.throws(() => parseTokenizerJson(`${'['.repeat(LIMITS.jsonDepth + 1)}${']'.repeat(LIMITS.jsonDepth + 1)}`, 't.json'), /t\.json: JSON nests deeper than the limit of 64 levels$/);
  assert.throws(() => parseTokenizerJson('null', 't.json'), /t\.json: tokenizer\.json must hold a JSON object$/);
  assert.throws(() => parseTokenizerJson('{"model":\n{', 't.json'), (e: unknown) => e instanceof Error && /^t\.json: not valid JSON \(/.test(e.message) && !e.message.includes('\n'));
  const entries = Array.from({ length: LIMITS.vocabTokens + 1 }, (_, i) => `"${i.toString(36)}":${i}`).join(',');
  const text = `{"model":{"type":"WordPiece","vocab":{${entries}}},"normalizer":{"type":"BertNormalizer"}}`;
  assert.throws(() => parseTokenizerJson(text, 't.json'), /t\.json: vocabulary has 1048577 tokens, over the limit of 1048576$/);
});

test('parseConfigJson refuses deep nesting and sizes over their limits', () => {
  const deep = `{"x":${'['.repeat(LIMITS.jsonDepth + 1)}${']'.repeat(LIMITS.jsonDepth + 1)}}`;
  assert.throws(() => parseConfigJson(deep, 'config.json'), /config\.json: JSON nests deeper than the limit of 64 levels$/);
  assert.throws(() => parseConfigJson('{"num_hidden_layers": 100000}', 'config.json'), /num_hidden_layers.*over the limit of 256/);
});

test('splitLines, parseTsv and parseCsv bound rows and columns without a file', () => {
  const rows = LIMITS.taskRows;
  assert.throws(() => splitLines('x\n'.repeat(rows + 1), 'page.tsv'), new RegExp(`page\\.tsv: more than ${rows} lines \\(the limit\\)$`));
  assert.throws(() => parseTsv(`a\tb\n${'\t'.repeat(LIMITS.taskColumns + 5)}\n`, 'page.tsv'), /page\.tsv:2: more than 4096 columns \(the limit\)$/);
  assert.throws(() => parseCsv(`a,b\n${','.repeat(LIMITS.taskColumns + 5)}\n`, 'page.csv'), /page\.csv:2: more than 4096 columns \(the limit\)$/);
  assert.deepEqual(parseTsv('a\tb\nc\td\n', 'ok.tsv'), [{ fields: ['a', 'b'], line: 1 }, { fields: ['c', 'd'], line: 2 }]);
});

test('weightsFrom (the browser loader) refuses a checkpoint holding under half the parameters', () => {
  const config = makeConfig({ vocab_size: 20, hidden_size: 8, num_hidden_layers: 4, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16 });
  const shapes = bertParameterShapes(config, 'pretraining');
  // Only the embeddings: far under half of four layers.
  const tensors = new Map<string, FloatTensor>();
  for (const [name, shape] of shapes) {
    if (name.includes('embeddings')) tensors.set(name, { shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  }
  const request = { shapes, modelName: 'BertForPreTraining', config, seed: 1, say: () => {} };
  assert.throws(() => weightsFrom({ tensors, source: 'page/model.safetensors' }, 'page', request), /page\/model\.safetensors: checkpoint holds \d+\.\d% of the \d+ parameters/);
});
