// The one file that imports the `tokenizers` binding (Hugging Face's Rust tokenizers): it writes
// tokenizer.json in the exact format transformers reads.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Hf from 'tokenizers';
import { BertError } from '../errors.ts';
import { readJsonFile } from '../io/json.ts';
import { FILE_LIMITS, LIMITS } from '../limits.ts';
import type { SpecialTokenIds } from './types.ts';
import { validateVocab } from './vocab.ts';

// The binding is CommonJS (napi-rs); a require keeps its named exports typed under NodeNext.
const hf = createRequire(import.meta.url)('tokenizers') as typeof Hf;

export const MAX_INPUT_CHARS_PER_WORD = 100;

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

/** What we need from a Hugging Face tokenizer.json: a WordPiece vocabulary and the normalizer's casing. */
export interface TokenizerJson {
  vocab: string[];
  lowercase: boolean;
}

/** Reads a tokenizer.json that describes a BERT WordPiece tokenizer. */
export function readTokenizerJson(path: string): TokenizerJson {
  const doc = readJsonFile(path, 'tokenizer.json', FILE_LIMITS['tokenizer.json']);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new BertError('tokenizer.json must hold a JSON object', path);
  const model = (doc as { model?: { type?: string; vocab?: Record<string, number>; unk_token?: string; continuing_subword_prefix?: string } }).model;
  if (model?.type !== 'WordPiece' || typeof model.vocab !== 'object' || model.vocab === null) {
    throw new BertError(`expected a WordPiece model, got ${JSON.stringify(model?.type ?? null)}`, path);
  }
  if ((model.unk_token ?? '[UNK]') !== '[UNK]' || (model.continuing_subword_prefix ?? '##') !== '##') {
    throw new BertError('expected unk_token [UNK] and continuing_subword_prefix ##', path);
  }
  const entries = Object.entries(model.vocab);
  if (entries.length > LIMITS.vocabTokens) throw new BertError(`vocabulary has ${entries.length} tokens, over the limit of ${LIMITS.vocabTokens}`, path);
  const vocab: string[] = new Array<string>(entries.length);
  for (const [token, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined) {
      throw new BertError(`vocabulary ids must be 0..${entries.length - 1}, each once; ${JSON.stringify(token)} has ${id}`, path);
    }
    vocab[id] = token;
  }
  validateVocab(vocab, (id) => `${path}: id ${id}`, path);
  const normalizer = (doc as { normalizer?: { type?: string; lowercase?: boolean; strip_accents?: boolean | null } }).normalizer;
  if (normalizer?.type !== 'BertNormalizer') {
    throw new BertError(`expected a BertNormalizer, got ${JSON.stringify(normalizer?.type ?? null)}`, path);
  }
  const lowercase = normalizer.lowercase ?? true;
  // BERT strips accents exactly when it lowercases; transformers writes null for "follow lowercase".
  if (normalizer.strip_accents != null && normalizer.strip_accents !== lowercase) {
    throw new BertError(`strip_accents ${normalizer.strip_accents} with lowercase ${lowercase} is not a BERT tokenizer`, path);
  }
  return { vocab, lowercase };
}
