// The one file that imports the `tokenizers` binding (Hugging Face's Rust tokenizers): it writes
// tokenizer.json in the exact format transformers reads.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Hf from 'tokenizers';
import { BertError } from '../errors.ts';
import type { SpecialTokenIds } from './types.ts';
import { MAX_INPUT_CHARS_PER_WORD, parseTokenizerJson, type TokenizerJson } from './tokenizer-json.ts';

export { MAX_INPUT_CHARS_PER_WORD, parseTokenizerJson, type TokenizerJson } from './tokenizer-json.ts';

// The binding is CommonJS (napi-rs); a require keeps its named exports typed under NodeNext.
const hf = createRequire(import.meta.url)('tokenizers') as typeof Hf;

/** A Hugging Face Tokenizer set up as BERT: BertNormalizer, BertPreTokenizer, WordPiece, `[CLS] A [SEP] B [SEP]`. */
export function hfBertTokenizer(vocab: readonly string[], lowercase: boolean, special: SpecialTokenIds): Hf.Tokenizer {
  const ids: Record<string, number> = {};
  vocab.forEach((token, id) => {
    ids[token] = id;
  });
  const tok = new hf.Tokenizer(
    hf.WordPiece.init(ids, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: MAX_INPUT_CHARS_PER_WORD }),
  );
  tok.setNormalizer(hf.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: lowercase, lowercase }));
  tok.setPreTokenizer(hf.bertPreTokenizer());
  tok.setPostProcessor(
    hf.templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1', [
      ['[CLS]', special.cls],
      ['[SEP]', special.sep],
    ]),
  );
  tok.setDecoder(hf.wordPieceDecoder('##', true));
  tok.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => vocab.includes(t)));
  return tok;
}

/** The tokenizer.json text for this vocabulary, as the binding serializes it. */
export function tokenizerJsonText(vocab: readonly string[], lowercase: boolean, special: SpecialTokenIds): string {
  const dir = mkdtempSync(join(tmpdir(), 'bert-ts-'));
  try {
    const path = join(dir, 'tokenizer.json');
    hfBertTokenizer(vocab, lowercase, special).save(path, true);
    return readFileSync(path, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads a tokenizer.json that describes a BERT WordPiece tokenizer. */
export function readTokenizerJson(path: string): TokenizerJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BertError(code === 'ENOENT' ? 'tokenizer.json not found' : `cannot read: ${(err as Error).message}`, path);
  }
  return parseTokenizerJson(text, path);
}
