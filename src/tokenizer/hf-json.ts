// tokenizer.json, Hugging Face's tokenizer file: written here in TypeScript in the layout the
// `tokenizers` library saves (BertNormalizer, BertPreTokenizer, WordPiece, `[CLS] A [SEP] B [SEP]`),
// and read back. The `tokenizers` binding is a dev dependency only: a round-trip test checks that it
// loads our file and encodes as we do.
import { BertError } from '../errors.ts';
import { readJsonFile } from '../io/json.ts';
import { FILE_LIMITS, LIMITS } from '../limits.ts';
import type { SpecialTokenIds } from './types.ts';
import { validateVocab } from './vocab.ts';

export const MAX_INPUT_CHARS_PER_WORD = 100;

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const VOCAB_SLOT = '\u0000vocab';

/** The tokenizer.json text for this vocabulary, byte for byte as `tokenizers` saves it (pretty-printed). */
export function tokenizerJsonText(vocab: readonly string[], lowercase: boolean, special: SpecialTokenIds): string {
  const ids = new Map(vocab.map((token, id) => [token, id]));
  const addedTokens = SPECIAL_TOKENS.filter((t) => ids.has(t))
    .map((content) => ({ id: ids.get(content)!, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
    .sort((a, b) => a.id - b.id);
  const piece = (kind: 'SpecialToken' | 'Sequence', id: string, typeId: number) => ({ [kind]: { id, type_id: typeId } });
  const doc = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: lowercase, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [piece('SpecialToken', '[CLS]', 0), piece('Sequence', 'A', 0), piece('SpecialToken', '[SEP]', 0)],
      pair: [piece('SpecialToken', '[CLS]', 0), piece('Sequence', 'A', 0), piece('SpecialToken', '[SEP]', 0), piece('Sequence', 'B', 1), piece('SpecialToken', '[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [special.cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [special.sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: VOCAB_SLOT,
    },
  };
  // Written by hand in id order: a JS object would move integer-like tokens ("0", "1", ...) to the front.
  const entries = vocab.map((token, id) => `      ${JSON.stringify(token)}: ${id}`).join(',\n');
  return JSON.stringify(doc, null, 2).replace(JSON.stringify(VOCAB_SLOT), () => `{\n${entries}\n    }`);
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
  const count = Object.keys(model.vocab).length;
  if (count > LIMITS.vocabTokens) throw new BertError(`vocabulary has ${count} tokens, over the limit of ${LIMITS.vocabTokens}`, path);
  const entries = Object.entries(model.vocab);
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
