// `bert make-pretraining-data` end to end with the real BERT tokenizer, and the Brown corpus reader.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { brownDocuments, brownGenres, brownPretrainingText, brownTaggedSentences } from '../src/data/brown.ts';
import { openPretrainingData } from '../src/data/dataset.ts';
import { makePretrainingData } from '../src/data/make.ts';
import { BertTokenizer } from '../src/tokenizer/bert-tokenizer.ts';
import { sharedData } from './helpers/shared-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-ptd-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI from source in a child process (the test runner itself reports on stdout). */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/bert-cli.ts', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('make-pretraining-data on sample_text with the uncased vocab: whole words masked together', async (t) => {
  const text = sharedData('bert_sample_text/sample_text.txt');
  const vocab = sharedData('vocab/bert-base-uncased/vocab.txt');
  if (!text || !vocab) return t.skip('shared data missing');
  const out = join(dir, 'sample');
  const r = await run(['make-pretraining-data', '--input', text, '--tokenizer', vocab, '--out', out, '--whole-word-mask', '--dupe-factor', '3', '--seed', '7']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^3 documents, 31 sentences, \d+ tokens -> \d+ examples/);
  const ds = openPretrainingData(out);
  assert.equal(ds.vocabSize, 30522);
  const tok = BertTokenizer.fromVocabFile(vocab);
  const b = ds.batch(Array.from({ length: ds.size }, (_, i) => i));
  const S = b.seq_length;
  const P = b.max_predictions;
  let multiPieceWords = 0;
  for (let r0 = 0; r0 < b.batch_size; r0++) {
    const ids = Array.from(b.input_ids.subarray(r0 * S, (r0 + 1) * S), Number);
    const chosen = new Map<number, number>();
    for (let k = 0; k < P; k++) {
      const id = Number(b.masked_lm_ids[r0 * P + k]);
      if (id !== -100) chosen.set(Number(b.masked_lm_positions[r0 * P + k]), id);
    }
    const orig = ids.map((id, i) => chosen.get(i) ?? id);
    assert.equal(orig[0], tok.specialIds.cls);
    for (let i = 1; i < orig.length; i++) {
      if (!tok.idToToken(orig[i]!).startsWith('##') || tok.idToToken(orig[i - 1]!).startsWith('[')) continue;
      assert.equal(chosen.has(i), chosen.has(i - 1), `row ${r0}: ${tok.idToToken(orig[i - 1]!)} ${tok.idToToken(orig[i]!)}`);
      if (chosen.has(i)) multiPieceWords++;
    }
  }
  assert.ok(multiPieceWords > 0);
  ds.close();
});

test('tokenizer worker threads give the same bytes as tokenizing inline', async (t) => {
  const vocab = sharedData('vocab/bert-base-uncased/vocab.txt');
  const wiki = sharedData('wikitext-2/wiki.valid.tokens');
  if (!vocab || !wiki) return t.skip('shared data missing');
  // ~300 KB of WikiText: lines as paragraphs, every 20 lines a document.
  const lines = readFileSync(wiki, 'utf8').split('\n').filter((l) => l.trim() && !l.trim().startsWith('=')).slice(0, 600);
  const input = join(dir, 'wiki.txt');
  writeFileSync(input, lines.map((l, i) => (i % 20 === 19 ? `${l}\n` : l)).join('\n'));
  const tokenizer = BertTokenizer.fromVocabFile(vocab);
  const make = (out: string, workers: number) =>
    makePretrainingData({
      inputs: [input],
      tokenizer,
      out: join(dir, out),
      format: 'shards',
      max_seq_length: 128,
      max_predictions_per_seq: 20,
      masked_lm_prob: 0.15,
      short_seq_prob: 0.1,
      dupe_factor: 2,
      whole_word_mask: true,
      seed: 3,
      split_sentences: true,
      chunk_chars: 100_000,
      workers,
    });
  const inline = await make('inline', 0);
  const threaded = await make('threaded', 2);
  assert.equal(threaded.instances, inline.instances);
  assert.ok(inline.chunks >= 2);
  assert.equal(inline.documents, 30);
  for (const f of ['shard-00000.bin', 'index.json']) {
    assert.ok(readFileSync(join(dir, 'inline', f)).equals(readFileSync(join(dir, 'threaded', f))), f);
  }
});

test('make-pretraining-data errors exit 2 with file and line', async () => {
  const vocab = sharedData('vocab/bert-base-uncased/vocab.txt');
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '');
  const tokArg = vocab ?? join(dir, 'v.txt');
  if (!vocab) writeFileSync(tokArg, '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n');
  const r = await run(['make-pretraining-data', '--input', empty, '--tokenizer', tokArg, '--out', join(dir, 'o')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^bert: error: .*empty\.txt: no text in the input/);
  const r2 = await run(['make-pretraining-data', '--input', empty, '--tokenizer', tokArg, '--out', join(dir, 'o'), '--masked-lm-prob', '2']);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /--masked-lm-prob must be a number in \[0, 1\]/);
});

test('Brown corpus: 500 documents in 15 genres, 57340 tagged sentences, tags stripped from text', () => {
  const docs = brownDocuments();
  assert.equal(docs.length, 500);
  assert.equal(brownGenres().length, 15);
  assert.deepEqual(
    docs.slice(0, 1).map((d) => [d.id, d.genre]),
    [['ca01', 'news']],
  );
  assert.equal(docs.find((d) => d.id === 'cr09')?.genre, 'humor');
  const tagged = brownTaggedSentences();
  // NLTK's brown.sents() has 57340 sentences and brown.words() 1161192 words.
  assert.equal(tagged.length, 57340);
  assert.equal(
    tagged.reduce((n, s) => n + s.words.length, 0),
    1161192,
  );
  assert.deepEqual(tagged[0]!.words.slice(0, 4), ['The', 'Fulton', 'County', 'Grand']);
  assert.deepEqual(tagged[0]!.tags.slice(0, 4), ['at', 'np-tl', 'nn-tl', 'jj-tl']);
  assert.equal(docs[0]!.sentences[0]!.slice(0, 40), 'The Fulton County Grand Jury said Friday');
  const text = brownPretrainingText(docs.slice(0, 2));
  assert.equal(text.split('\n\n').length, 2);
  assert.ok(!/\/[a-z]+-tl\b/.test(text), 'no tags left in the text');
  assert.equal(text.split('\n\n')[0]!.split('\n').length, docs[0]!.sentences.length);
});
