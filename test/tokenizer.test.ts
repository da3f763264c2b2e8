import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../src/tokenizer/index.ts';
import type * as Hf from 'tokenizers';
import { hf, hfBertTokenizer } from './helpers/hf-tokenizer.ts';
import { sharedData } from './helpers/shared-data.ts';

// Expected outputs come from google-research/bert's tokenization.py, produced once by
// scripts/make_tokenizer_fixtures.py (see its header); the real text they cover stays in ../shared/data.
interface Fixture {
  do_lower_case: boolean;
  cases: Array<{ text: string; tokens: string[]; input_ids: number[] }>;
  pairs: Array<{ a: string; b: string; max_length: number; tokens: string[]; input_ids: number[]; token_type_ids: number[] }>;
  real: Array<{ file: string; line: number; sha1: string; input_ids: number[] }>;
}

const here = dirname(fileURLToPath(import.meta.url));
const VOCABS = ['bert-base-uncased', 'bert-base-cased', 'bert-base-chinese'] as const;
const fixture = (name: string): Fixture => JSON.parse(readFileSync(join(here, '..', 'fixtures', 'tokenizer', `${name}.json`), 'utf8')) as Fixture;

const loaded = new Map<string, BertTokenizer | undefined>();
function tokenizerFor(name: string): BertTokenizer | undefined {
  if (!loaded.has(name)) {
    const path = sharedData(`vocab/${name}/vocab.txt`);
    loaded.set(name, path === undefined ? undefined : BertTokenizer.fromVocabFile(path, { lowercase: fixture(name).do_lower_case }));
  }
  return loaded.get(name);
}

function realLines(file: string): string[] | undefined {
  const path = sharedData(file);
  if (path === undefined) return undefined;
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function realText(r: Fixture['real'][number], lines: string[]): string {
  const line = lines[r.line]!;
  return r.file.endsWith('.tsv') ? line.slice(line.indexOf('\t') + 1) : line;
}

for (const name of VOCABS) {
  test(`${name}: tokens and ids equal tokenization.py on hand-picked hard cases`, (t) => {
    const tok = tokenizerFor(name);
    if (!tok) return t.skip('vocab not in ../shared/data');
    for (const c of fixture(name).cases) {
      assert.deepEqual(tok.tokenize(c.text), c.tokens, JSON.stringify(c.text));
      assert.deepEqual(tok.encode(c.text, undefined, { add_special_tokens: false }).input_ids, c.input_ids);
    }
  });

  test(`${name}: pairs truncated as run_classifier.py's _truncate_seq_pair`, (t) => {
    const tok = tokenizerFor(name);
    if (!tok) return t.skip('vocab not in ../shared/data');
    for (const p of fixture(name).pairs) {
      const e = tok.encode(p.a, p.b, { max_length: p.max_length });
      assert.deepEqual(e.tokens, p.tokens, `${p.a} | ${p.b}`);
      assert.deepEqual(e.input_ids, p.input_ids);
      assert.deepEqual(e.token_type_ids, p.token_type_ids);
      assert.deepEqual(e.attention_mask, p.input_ids.map(() => 1));
    }
  });

  test(`${name}: ids equal tokenization.py on real lines`, (t) => {
    const tok = tokenizerFor(name);
    if (!tok) return t.skip('vocab not in ../shared/data');
    const cache = new Map<string, string[] | undefined>();
    let checked = 0;
    for (const r of fixture(name).real) {
      if (!cache.has(r.file)) cache.set(r.file, realLines(r.file));
      const lines = cache.get(r.file);
      if (!lines) continue;
      const text = realText(r, lines);
      assert.deepEqual(tok.encode(text, undefined, { add_special_tokens: false }).input_ids, r.input_ids, `${r.file}:${r.line + 1}`);
      checked++;
    }
    if (checked === 0) t.skip('real text not in ../shared/data');
  });
}

/** The binding reports offsets in code points; JS strings index UTF-16 units. */
function codePointToUtf16(text: string): number[] {
  const map: number[] = [];
  let u = 0;
  for (const ch of text) {
    map.push(u);
    u += ch.length;
  }
  map.push(u);
  return map;
}

/** The hand-picked cases and the real lines of a vocabulary's fixture, as texts. */
function fixtureTexts(name: string): string[] {
  const fx = fixture(name);
  const lines = new Map<string, string[] | undefined>();
  const texts = fx.cases.map((c) => c.text);
  for (const r of fx.real) {
    if (!lines.has(r.file)) lines.set(r.file, realLines(r.file));
    const l = lines.get(r.file);
    if (l) texts.push(realText(r, l));
  }
  return texts;
}

/** Runs `body` for each real vocabulary's tokenizer, saved to a temporary folder and loaded from it by the binding. */
async function withSavedTokenizers(t: TestContext, body: (name: string, tok: BertTokenizer, dir: string, rust: Hf.Tokenizer) => Promise<void>): Promise<void> {
  for (const name of VOCABS) {
    const tok = tokenizerFor(name);
    if (!tok) return t.skip('vocab not in ../shared/data');
    const saved = mkdtempSync(join(tmpdir(), 'bert-ts-test-'));
    try {
      tok.save(saved);
      await body(name, tok, saved, hf.Tokenizer.fromFile(join(saved, 'tokenizer.json')));
    } finally {
      rmSync(saved, { recursive: true, force: true });
    }
  }
}

test("offsets and word ids agree with Hugging Face's Rust tokenizer (an independent implementation)", async (t) => {
  await withSavedTokenizers(t, async (name, tok, _dir, rust) => {
    for (const text of fixtureTexts(name)) {
      const theirs = await rust.encode(text, null, { addSpecialTokens: false });
      const ours = tok.encode(text, undefined, { add_special_tokens: false });
      // The Rust BertNormalizer lowercases one character at a time, so a word-final capital sigma
      // becomes σ there but ς in Python's str.lower() (and here): the one place the two disagree.
      if (tok.lowercase && /Σ(?!\p{L})/u.test(text)) {
        assert.notDeepEqual(theirs.getTokens(), ours.tokens);
        continue;
      }
      assert.deepEqual(ours.tokens, theirs.getTokens(), JSON.stringify(text));
      const m = codePointToUtf16(text);
      assert.deepEqual(ours.offsets, theirs.getOffsets().map(([s, e]) => [m[s!], m[e!]]), JSON.stringify(text));
      assert.deepEqual(ours.word_ids, theirs.getWordIds(), JSON.stringify(text));
    }
  });
});

test('tokenizer.json written in TypeScript: byte-identical to what `tokenizers` saves; the binding loads it and encodes texts and pairs as we do', async (t) => {
  await withSavedTokenizers(t, async (name, tok, dir, rust) => {
    // The reference file: the binding's own builders, saved by the binding.
    hfBertTokenizer(tok.vocab(), tok.lowercase, tok.specialIds).save(join(dir, 'reference.json'), true);
    assert.equal(readFileSync(join(dir, 'tokenizer.json'), 'utf8'), readFileSync(join(dir, 'reference.json'), 'utf8'), name);
    // Word-final capital sigma lowercases differently in Rust (see the offsets test above).
    const comparable = (text: string) => !(tok.lowercase && /Σ(?!\p{L})/u.test(text));
    for (const text of fixtureTexts(name).filter(comparable)) {
      const theirs = await rust.encode(text);
      const mine = tok.encode(text);
      assert.deepEqual(mine.input_ids, theirs.getIds(), JSON.stringify(text));
      assert.deepEqual(mine.tokens, theirs.getTokens(), JSON.stringify(text));
    }
    for (const { a, b } of fixture(name).pairs.filter((p) => comparable(p.a) && comparable(p.b))) {
      const theirs = await rust.encode(a, b);
      const mine = tok.encode(a, b);
      assert.deepEqual(mine.input_ids, theirs.getIds(), JSON.stringify([a, b]));
      assert.deepEqual(mine.token_type_ids, theirs.getTypeIds(), JSON.stringify([a, b]));
    }
  });
});

test('encode: every field, worked by hand (UTF-16 offsets across an emoji)', (t) => {
  const tok = tokenizerFor('bert-base-uncased');
  if (!tok) return t.skip('vocab not in ../shared/data');
  const text = 'Héllo 😀 wörld!';
  const e = tok.encode(text, 'Unaffable.', { max_length: 12, padding: 'max_length' });
  assert.deepEqual(e.tokens, ['[CLS]', 'hello', '[UNK]', 'world', '!', '[SEP]', 'una', '##ffa', '##ble', '.', '[SEP]', '[PAD]']);
  assert.deepEqual(e.input_ids, [101, 7592, 100, 2088, 999, 102, 14477, 20961, 3468, 1012, 102, 0]);
  assert.deepEqual(e.token_type_ids, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0]);
  assert.deepEqual(e.attention_mask, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  assert.deepEqual(e.offsets, [[0, 0], [0, 5], [6, 8], [9, 14], [14, 15], [0, 0], [0, 3], [3, 6], [6, 9], [9, 10], [0, 0], [0, 0]]);
  assert.equal(text.slice(6, 8), '😀');
  assert.deepEqual(e.word_ids, [null, 0, 1, 2, 3, null, 0, 0, 0, 1, null, null]);
  assert.deepEqual(e.sequence_ids, [null, 0, 0, 0, 0, null, 1, 1, 1, 1, null, null]);
  assert.throws(() => tok.encode('a', 'b', { max_length: 2 }), /max_length 2 leaves no room/);
});

test('encodeBatch pads to the longest member; tokenToId/idToToken/vocab agree', (t) => {
  const tok = tokenizerFor('bert-base-uncased');
  if (!tok) return t.skip('vocab not in ../shared/data');
  const batch = tok.encodeBatch(['hello', ['hello world', 'again']], { padding: 'longest' });
  assert.deepEqual(batch[0]!.input_ids, [101, 7592, 102, 0, 0, 0]);
  assert.deepEqual(batch[0]!.attention_mask, [1, 1, 1, 0, 0, 0]);
  assert.deepEqual(batch[1]!.input_ids, [101, 7592, 2088, 102, 2153, 102]);
  assert.deepEqual(batch[1]!.token_type_ids, [0, 0, 0, 0, 1, 1]);
  assert.equal(tok.tokenToId('the'), 1996);
  assert.equal(tok.tokenToId('no-such-token'), 100);
  assert.equal(tok.idToToken(999), '!');
  assert.equal(tok.vocab().length, 30522);
  assert.deepEqual(tok.specialIds, { pad: 0, unk: 100, cls: 101, sep: 102, mask: 103 });
});

test('bert-base-chinese keeps its U+2028 token: 21128 ids, split on "\\n" only', (t) => {
  const tok = tokenizerFor('bert-base-chinese');
  if (!tok) return t.skip('vocab not in ../shared/data');
  assert.equal(tok.vocabSize, 21128);
  assert.equal(tok.idToToken(343), '\u2028');
  assert.equal(tok.idToToken(13502), '##\u2028');
  assert.equal(tok.tokenToId('!'), 106);
});

test('decode joins ## pieces and undoes the spaces before punctuation', (t) => {
  const tok = tokenizerFor('bert-base-uncased');
  if (!tok) return t.skip('vocab not in ../shared/data');
  const ids = tok.encode('Unaffable, isn\'t it? Hello world!').input_ids;
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), "unaffable, isn't it? hello world!");
  assert.equal(tok.decode(ids), "[CLS] unaffable, isn't it? hello world! [SEP]");
  for (const text of ['the quick brown fox jumps over the lazy dog', 'wordpiece tokenization splits unaffable words']) {
    assert.equal(tok.decode(tok.encode(text).input_ids, { skipSpecialTokens: true }), text);
  }
  const zh = tokenizerFor('bert-base-chinese');
  if (zh) assert.equal(zh.decode(zh.encode('今天天气很好').input_ids, { skipSpecialTokens: true }), '今 天 天 气 很 好');
});

test('save -> fromDirectory gives identical encodings, from tokenizer.json and from vocab.txt alone', (t) => {
  for (const name of VOCABS) {
    const tok = tokenizerFor(name);
    if (!tok) return t.skip('vocab not in ../shared/data');
    const dir = mkdtempSync(join(tmpdir(), 'bert-ts-test-'));
    try {
      tok.save(dir);
      const fromJson = BertTokenizer.fromDirectory(dir);
      const fromVocab = BertTokenizer.fromVocabFile(join(dir, 'vocab.txt'));
      assert.deepEqual(fromJson.vocab(), tok.vocab());
      assert.equal(fromJson.lowercase, tok.lowercase);
      assert.equal(fromVocab.lowercase, tok.lowercase, 'do_lower_case comes from tokenizer_config.json');
      for (const c of fixture(name).cases) {
        const want = tok.encode(c.text, 'and a pair', { max_length: 16, padding: 'max_length' });
        assert.deepEqual(fromJson.encode(c.text, 'and a pair', { max_length: 16, padding: 'max_length' }), want);
        assert.deepEqual(fromVocab.encode(c.text, 'and a pair', { max_length: 16, padding: 'max_length' }), want);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("the saved folder has what transformers' AutoTokenizer.from_pretrained reads", (t) => {
  const tok = tokenizerFor('bert-base-cased');
  if (!tok) return t.skip('vocab not in ../shared/data');
  const dir = mkdtempSync(join(tmpdir(), 'bert-ts-test-'));
  try {
    tok.save(dir);
    const read = (f: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
    const config = read('tokenizer_config.json');
    assert.equal(config.tokenizer_class, 'BertTokenizer');
    assert.equal(config.do_lower_case, false);
    assert.equal(config.model_max_length, 512);
    for (const [k, v] of Object.entries({ unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' })) {
      assert.equal(config[k], v);
      assert.equal(read('special_tokens_map.json')[k], v);
    }
    const json = read('tokenizer.json') as {
      model: { type: string; unk_token: string; continuing_subword_prefix: string; max_input_chars_per_word: number; vocab: Record<string, number> };
      normalizer: { type: string; lowercase: boolean; strip_accents: boolean | null; clean_text: boolean; handle_chinese_chars: boolean };
      pre_tokenizer: { type: string };
      post_processor: { type: string; special_tokens: Record<string, { ids: number[] }>; pair: unknown[] };
      decoder: { type: string; prefix: string };
      added_tokens: Array<{ id: number; content: string; special: boolean }>;
    };
    assert.equal(json.model.type, 'WordPiece');
    assert.equal(json.model.unk_token, '[UNK]');
    assert.equal(json.model.continuing_subword_prefix, '##');
    assert.equal(json.model.max_input_chars_per_word, 100);
    const vocabTxt = readFileSync(join(dir, 'vocab.txt'), 'utf8').split('\n');
    assert.equal(vocabTxt.pop(), '');
    assert.equal(vocabTxt.length, 28996);
    vocabTxt.forEach((token, id) => assert.equal(json.model.vocab[token], id));
    assert.deepEqual(
      { type: json.normalizer.type, lowercase: json.normalizer.lowercase, strip: json.normalizer.strip_accents, clean: json.normalizer.clean_text, cjk: json.normalizer.handle_chinese_chars },
      { type: 'BertNormalizer', lowercase: false, strip: false, clean: true, cjk: true },
    );
    assert.equal(json.pre_tokenizer.type, 'BertPreTokenizer');
    assert.equal(json.post_processor.type, 'TemplateProcessing');
    assert.deepEqual(json.post_processor.special_tokens['[CLS]']!.ids, [101]);
    assert.deepEqual(json.post_processor.special_tokens['[SEP]']!.ids, [102]);
    assert.deepEqual(json.post_processor.pair.at(-1), { SpecialToken: { id: '[SEP]', type_id: 1 } });
    assert.deepEqual(json.decoder, { type: 'WordPiece', prefix: '##', cleanup: true });
    assert.deepEqual(
      json.added_tokens.map((a) => [a.content, a.id, a.special]),
      [['[PAD]', 0, true], ['[UNK]', 100, true], ['[CLS]', 101, true], ['[SEP]', 102, true], ['[MASK]', 103, true]],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
