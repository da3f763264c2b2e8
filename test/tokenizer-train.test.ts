import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli-in-process.ts';
import { BertTokenizer, trainWordPieceVocab } from '../src/tokenizer/index.ts';
import { sharedData } from './helpers/shared-data.ts';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

function corpus(text: string): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bert-ts-train-'));
  const file = join(dir, 'corpus.txt');
  writeFileSync(file, text);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('training on "AB ab ab cd", worked by hand: specials, alphabet by frequency, merges in order', () => {
  const { file, cleanup } = corpus('AB ab\nab cd\n');
  try {
    // Words (lowercased): ab x3, cd x1. Symbols: a 3, ##b 3, c 1, ##d 1; '##b' sorts before 'a'.
    const all = trainWordPieceVocab([file], { vocabSize: 100, minFrequency: 1, lowercase: true });
    assert.deepEqual(all.vocab(), [...SPECIALS, '##b', 'a', '##d', 'c', 'ab', 'cd']);
    assert.deepEqual(all.tokenize('ab cd abb'), ['ab', 'cd', 'ab', '##b']);
    // "##a" never occurred, so "abab" cannot be pieced.
    assert.deepEqual(all.tokenize('abab'), ['[UNK]']);
    // min_frequency 2 keeps only what occurs at least twice: cd's characters and its merge go.
    const frequent = trainWordPieceVocab([file], { vocabSize: 100, minFrequency: 2, lowercase: true });
    assert.deepEqual(frequent.vocab(), [...SPECIALS, '##b', 'a', 'ab']);
    assert.deepEqual(frequent.tokenize('ab cd'), ['ab', '[UNK]']);
    // The size is a hard limit, specials included.
    const small = trainWordPieceVocab([file], { vocabSize: 7, minFrequency: 1, lowercase: true });
    assert.deepEqual(small.vocab(), [...SPECIALS, '##b', 'a']);
    const cased = trainWordPieceVocab([file], { vocabSize: 100, minFrequency: 1, lowercase: false });
    assert.ok(cased.vocab().includes('AB') && cased.vocab().includes('ab'));
    assert.equal(cased.lowercase, false);
  } finally {
    cleanup();
  }
});

test('training on real text fills the vocabulary exactly and pieces the corpus without [UNK]', (t) => {
  const path = sharedData('bert_sample_text/sample_text.txt');
  if (!path) return t.skip('sample_text.txt not in ../shared/data');
  const tok = trainWordPieceVocab([path], { vocabSize: 600, minFrequency: 1, lowercase: true });
  const vocab = tok.vocab();
  assert.equal(vocab.length, 600);
  assert.deepEqual(vocab.slice(0, 5), SPECIALS);
  assert.deepEqual(tok.specialIds, { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
  assert.equal(new Set(vocab).size, vocab.length);
  for (const line of readFileSync(path, 'utf8').split('\n')) assert.ok(!tok.tokenize(line).includes('[UNK]'), line);
  assert.deepEqual(tok.tokenize('the'), ['the']);
});

test('bert vocab trains and saves a folder that bert tokenize and fromDirectory read', async () => {
  const { file, cleanup } = corpus('hello world\nhello there world\n'.repeat(5));
  const out = join(mkdtempSync(join(tmpdir(), 'bert-ts-vocab-')), 'tok');
  let stdout = '';
  try {
    for (const args of [['vocab', '--corpus', file, '--size', '40', '--out', out, '--cased'], ['tokenize', '--tokenizer', out, 'hello world']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0);
      stdout += r.stdout;
    }
  } finally {
    cleanup();
  }
  const [summary, encoded] = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(summary!.lowercase, false);
  const tok = BertTokenizer.fromDirectory(out);
  assert.equal(summary!.vocab_size, tok.vocabSize);
  assert.equal(tok.lowercase, false);
  assert.deepEqual(encoded!.tokens, ['[CLS]', 'hello', 'world', '[SEP]']);
  assert.deepEqual(encoded!.input_ids, [2, tok.tokenToId('hello'), tok.tokenToId('world'), 3]);
  rmSync(out, { recursive: true, force: true });
});
