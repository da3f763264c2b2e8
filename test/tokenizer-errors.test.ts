import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BertError } from '../src/errors.ts';
import { BertTokenizer } from '../src/tokenizer/index.ts';
import { runCli } from './helpers/cli-in-process.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'bert-ts-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

const GOOD = '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\n';

test('bad vocab files: each a BertError naming the file (and line), exit code 2 from the CLI', async () => {
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'missing.txt'), /missing\.txt: vocabulary file not found/],
    [file('empty.txt', ''), /empty\.txt: vocabulary is empty/],
    [file('no-unk.txt', '[PAD]\nhello\n'), /no-unk\.txt: vocabulary has no \[UNK\] token/],
    [file('dup.txt', '[PAD]\n[UNK]\nhello\nworld\nhello\n'), /dup\.txt:5: duplicate token "hello" \(first at .*dup\.txt:3\)/],
    [file('blank.txt', '[PAD]\n[UNK]\n\nhello\n'), /blank\.txt:3: empty token/],
    [file('latin1.txt', Buffer.from('[UNK]\ncaf\xe9\n', 'latin1')), /latin1\.txt: vocabulary file is not valid UTF-8/],
  ];
  for (const [path, message] of cases) {
    assert.throws(() => BertTokenizer.fromVocabFile(path), (err: unknown) => err instanceof BertError && message.test(err.message));
    const { code, stderr } = await runCli(['tokenize', '--vocab', path, 'hello']);
    assert.equal(code, 2);
    assert.match(stderr, new RegExp(`^bert: error: .*${message.source}`));
  }
});

test('a vocab with CRLF line ends and no final newline reads the same as a clean one', () => {
  const clean = BertTokenizer.fromVocabFile(file('clean.txt', GOOD));
  const crlf = BertTokenizer.fromVocabFile(file('crlf.txt', GOOD.trimEnd().replaceAll('\n', '\r\n')));
  assert.deepEqual(crlf.vocab(), clean.vocab());
  assert.deepEqual(crlf.tokenize('Hellos'), ['hello', '##s']);
});

test('directories: none, empty, a bad tokenizer.json, a config that contradicts the flag', async () => {
  assert.throws(() => BertTokenizer.fromDirectory(join(dir, 'nowhere')), /nowhere: tokenizer directory not found/);
  mkdirSync(join(dir, 'empty-dir'));
  assert.throws(() => BertTokenizer.fromDirectory(join(dir, 'empty-dir')), /empty-dir: no tokenizer\.json or vocab\.txt in this directory/);
  const r = await runCli(['tokenize', '--tokenizer', join(dir, 'empty-dir'), 'hi']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bert: error: .*empty-dir: no tokenizer\.json or vocab\.txt/);
  file('bpe/tokenizer.json', JSON.stringify({ model: { type: 'BPE', vocab: {} } }));
  assert.throws(() => BertTokenizer.fromDirectory(join(dir, 'bpe')), /tokenizer\.json: expected a WordPiece model, got "BPE"/);
  file('broken/tokenizer.json', '{ nope');
  assert.throws(() => BertTokenizer.fromDirectory(join(dir, 'broken')), /tokenizer\.json: not valid JSON/);
  file('cfg/vocab.txt', GOOD);
  file('cfg/tokenizer_config.json', JSON.stringify({ do_lower_case: true }));
  assert.equal(BertTokenizer.fromDirectory(join(dir, 'cfg')).lowercase, true);
  assert.throws(() => BertTokenizer.fromDirectory(join(dir, 'cfg'), { lowercase: false }), /tokenizer_config\.json: do_lower_case is true here, which contradicts the --cased flag/);
});

test('CLI flags: one source, valid numbers, not both casings', async () => {
  const vocab = file('flags.txt', GOOD);
  for (const [args, message] of [
    [['tokenize', 'hi'], /exactly one of --vocab FILE or --tokenizer DIR/],
    [['tokenize', '--vocab', vocab, '--max-length', 'ten', 'hi'], /--max-length must be a positive integer, got "ten"/],
    [['tokenize', '--vocab', vocab, '--lowercase', '--cased', 'hi'], /--lowercase and --cased contradict/],
    [['tokenize', '--vocab', vocab, '--pair', 'x', '--max-length', '2', 'hi'], /max_length 2 leaves no room for the 3 special tokens/],
    [['vocab', '--corpus', join(dir, 'none.txt'), '--size', '10', '--out', join(dir, 'o')], /none\.txt: corpus file not found/],
    [['vocab', '--corpus', vocab, '--size', '3', '--out', join(dir, 'o')], /vocab size must be an integer >= 5, got 3/],
  ] as Array<[string[], RegExp]>) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr, message);
  }
});

test('bert tokenize - : one JSON line per stdin line; invalid UTF-8 stops with the line number, exit 2', () => {
  const vocab = file('stdin.txt', GOOD);
  const run = (input: Buffer) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/bert-cli.ts', 'tokenize', '--vocab', vocab, '-'], { cwd: root, input, encoding: 'utf8' });
  const ok = run(Buffer.from('hello\r\nHellos\n\nzzz'));
  assert.equal(ok.status, 0, ok.stderr);
  const lines = ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as { tokens: string[]; offsets: number[][] });
  assert.deepEqual(lines.map((l) => l.tokens), [['[CLS]', 'hello', '[SEP]'], ['[CLS]', 'hello', '##s', '[SEP]'], ['[CLS]', '[SEP]'], ['[CLS]', '[UNK]', '[SEP]']]);
  assert.deepEqual(lines[1]!.offsets, [[0, 0], [0, 5], [5, 6], [0, 0]]);
  const bad = run(Buffer.concat([Buffer.from('hello\nfine\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from('\nnever\n')]));
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'bert: error: stdin:3: invalid UTF-8\n');
  assert.equal(bad.stdout.trim().split('\n').length, 2, 'lines before the bad one were written');
});

test('vocabularies over the token limit are refused from a line count, before a string per line exists', () => {
  // 2^20 + 1 lines of "a": refused by the count, not by the duplicates (which come later).
  const huge = file('huge/vocab.txt', Buffer.alloc(2 * ((1 << 20) + 1), 'a\n'));
  assert.throws(() => BertTokenizer.fromVocabFile(huge), (e: unknown) => e instanceof BertError && /huge\/vocab\.txt: vocabulary has 1048577 or more lines, over the limit of 1048576 tokens$/.test(e.message));
  const entries = Array.from({ length: (1 << 20) + 1 }, (_, i) => `"${i.toString(36)}":${i}`).join(',');
  const json = file('huge-json/tokenizer.json', `{"model":{"type":"WordPiece","vocab":{${entries}}},"normalizer":{"type":"BertNormalizer"}}`);
  assert.throws(() => BertTokenizer.fromTokenizerJson(json), /tokenizer\.json: vocabulary has 1048577 tokens, over the limit of 1048576$/);
});
