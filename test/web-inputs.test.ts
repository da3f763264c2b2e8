// What the browser page accepts, checked in Node (these modules have no DOM or Node API): labeled
// sets in their three forms, and model folders given as files, good and bad.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BertError } from '../src/errors.ts';
import { holdOut, parseLabeled } from '../web/app/labeled.ts';
import { openModelFolder } from '../web/app/model-folder.ts';
import { TINY_VOCAB, tinyModelFolder } from './helpers/tiny-model.ts';

test('labeled sets: pasted text<TAB>label lines, a TSV with a header, a CSV with quoted commas and a pair column', () => {
  assert.deepEqual(parseLabeled('good film\tpos\r\nbad one\tneg\n\n', 'pasted'), [
    { text_a: 'good film', label: 'pos', where: 'pasted:1' },
    { text_a: 'bad one', label: 'neg', where: 'pasted:2' },
  ]);
  assert.deepEqual(parseLabeled('\ufeffid\tsentence\tlabel\n7\tfine\t1\n', 'a.tsv'), [{ text_a: 'fine', label: '1', where: 'a.tsv:2' }]);
  assert.deepEqual(parseLabeled('text_a,text_b,label\n"a, b",c,yes\n', 'p.csv'), [{ text_a: 'a, b', text_b: 'c', label: 'yes', where: 'p.csv:2' }]);
});

test('labeled sets: a row without a label, or with the wrong field count, names its line', () => {
  assert.throws(() => parseLabeled('ok\tpos\njust text\n', 'pasted'), (e: unknown) => e instanceof BertError && e.message.startsWith('pasted:2: expected text<TAB>label'));
  assert.throws(() => parseLabeled('sentence\tlabel\nx\ty\tz\n', 'f.tsv'), /f\.tsv:2: expected 2 fields as in the header, got 3/);
  assert.throws(() => parseLabeled('a\t \n', 'pasted'), /pasted:1: empty label/);
  assert.throws(() => parseLabeled('\n\n', 'pasted'), /no examples/);
});

const folderFiles = (dir: string): Map<string, Uint8Array> => new Map(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));

test('a model folder opened as files: config, weights and tokenizer, with the tokenizer files kept as they were', () => {
  const files = folderFiles(tinyModelFolder());
  const m = openModelFolder(files);
  assert.equal(m.config.hidden_size, 32);
  assert.equal(m.tokenizer.vocabSize, TINY_VOCAB.length);
  assert.deepEqual(m.tokenizer.encode('w17 w5').input_ids, [2, 17, 5, 3]);
  assert.ok(m.tensors.has('bert.encoder.layer.1.output.dense.weight'));
  assert.deepEqual([...m.tokenizerFiles.keys()].sort(), ['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  // vocab.txt alone gives the same tokenizer as tokenizer.json.
  files.delete('tokenizer.json');
  assert.deepEqual(openModelFolder(files).tokenizer.vocab(), TINY_VOCAB);
});

test('a bad model folder gets a message that names the file and what to do', () => {
  const files = folderFiles(tinyModelFolder());
  const without = (name: string): Map<string, Uint8Array> => new Map([...files].filter(([k]) => k !== name));
  assert.throws(() => openModelFolder(without('config.json')), /no config\.json among the opened files/);
  assert.throws(() => openModelFolder(without('model.safetensors')), /no model\.safetensors among the opened files/);
  assert.throws(() => openModelFolder(new Map([...without('model.safetensors'), ['pytorch_model.bin', new Uint8Array(4)]])), /reads model\.safetensors only/);
  assert.throws(() => openModelFolder(new Map([...files, ['model.safetensors', new Uint8Array(20)]])), /model\.safetensors: not a valid safetensors file/);
  assert.throws(() => openModelFolder(new Map([...files, ['config.json', new TextEncoder().encode('{"hidden_size": ')]])), /config\.json: config is not valid JSON/);
  const noTokenizer = new Map([...files].filter(([k]) => k !== 'vocab.txt' && k !== 'tokenizer.json'));
  assert.throws(() => openModelFolder(noTokenizer), /no tokenizer\.json or vocab\.txt/);
});

test('without a dev set, a seeded tenth is held out: disjoint, together the whole set, in file order', () => {
  const examples = Array.from({ length: 95 }, (_, i) => ({ text_a: `t${i}`, label: String(i % 2), where: `pasted:${i + 1}` }));
  const { train, dev } = holdOut(examples, 0.1, 42);
  assert.equal(dev.length, 10);
  assert.equal(train.length, 85);
  assert.deepEqual([...train, ...dev].map((e) => e.text_a).sort(), examples.map((e) => e.text_a).sort());
  const index = (e: { where: string }): number => Number(e.where.split(':')[1]);
  for (const part of [train, dev]) assert.deepEqual(part.map(index), part.map(index).sort((a, b) => a - b));
  assert.deepEqual(holdOut(examples, 0.1, 42).dev, dev, 'the same seed holds out the same examples');
  assert.notDeepEqual(holdOut(examples, 0.1, 7).dev, dev);
  assert.equal(holdOut(examples.slice(0, 3), 0.9, 1).dev.length, 1, 'never more than half');
});
